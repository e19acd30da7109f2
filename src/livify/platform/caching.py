"""Read-through caching of the platform's public views and per-user state.

Each cached view is public: it contains nothing that depends on the caller, so
one entry serves every caller. What does depend on the caller (`favorited`,
`following`) comes from two per-user sets, cached per user and applied to
the public view on the way out. Entries carry the tags of `cache_keys`, and
the `Invalidator` drops them when a domain event says a commit changed them.

`PlatformCache(None)` caches nothing: every read runs its loader, through
the same code path.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

from livify.cache import MAX_KEY_CHARS, Cache, EdgePurger, LayeredCache
from livify.platform.cache_keys import keys_for_event
from livify.platform.events import Event

T = TypeVar("T")

DEFAULT_EDGE_WAIT_SECONDS = 0.5

# Views change only through events, which invalidate them, so a TTL only
# bounds how long a lost invalidation could leave one stale.
VIEW_TTL_SECONDS = 300.0
# NOTE: users have no delete endpoint; one deleted in the database directly
# can keep using a valid token for up to this long.
USER_EXISTS_TTL_SECONDS = 60.0

VIEW_NAMESPACES = (
    "article",
    "article_page",
    "comments",
    "favorites_count",
    "profile",
    "tag_list",
    "user_favorites",
    "user_follows",
)
# Bump when the shape of a cached value changes, so a deploy never reads
# entries written by the previous version.
VIEW_VERSION = 1


@dataclass(frozen=True, slots=True)
class CachedRead:
    """A response body and the surrogate keys of everything it shows."""

    body: dict[str, Any]
    keys: frozenset[str]


class PlatformCache:
    """The platform's cache namespaces over one `LayeredCache`, or none."""

    def __init__(
        self,
        layers: LayeredCache | None,
        *,
        view_ttl_seconds: float = VIEW_TTL_SECONDS,
    ) -> None:
        self.layers = layers
        self._namespaces: dict[str, Cache] = {}
        if layers is not None:
            ttls = dict.fromkeys(VIEW_NAMESPACES, view_ttl_seconds)
            ttls["user_exists"] = min(USER_EXISTS_TTL_SECONDS, view_ttl_seconds)
            self._namespaces = {
                name: layers.namespace(name, version=VIEW_VERSION, ttl_seconds=ttl)
                for name, ttl in ttls.items()
            }

    @property
    def is_enabled(self) -> bool:
        return self.layers is not None

    async def load(
        self,
        namespace: str,
        key: str,
        loader: Callable[[], Awaitable[T]],
        *,
        tags: Iterable[str],
    ) -> T:
        """Return the cached value of `key`, or run `loader` and cache it.

        `tags` must be known before loading: the cache reads their versions
        first, so an invalidation during the load leaves the result stale.
        """
        cache = self._namespaces.get(namespace)
        # Keys come from URLs, and one too long to cache is loaded uncached.
        if cache is None or len(key) > MAX_KEY_CHARS:
            return await loader()

        return await cache.get_or_load(key, loader, tags=tags)

    def peek(self, namespace: str, key: str) -> Any:
        """Return the value of `key` if this process has it fresh, else None.

        Never loads: call `load` for what comes back None.
        """
        cache = self._namespaces.get(namespace)
        return None if cache is None else cache.peek(key)


class Invalidator:
    """Drop cached entries and edge objects that an event made wrong.

    Subscribe it to the `EventBus`. The application cache is invalidated
    before the write's response is sent, so the writer reads its own write.
    The edge purge is queued, and the write waits up to
    `edge_wait_seconds` for it, so that in the usual case the next read
    through the edge is fresh too. A slower or failing edge node is retried
    in the background and never delays the write longer than that.
    """

    def __init__(
        self,
        cache: PlatformCache,
        purger: EdgePurger | None,
        *,
        edge_wait_seconds: float = DEFAULT_EDGE_WAIT_SECONDS,
    ) -> None:
        self.cache = cache
        self.purger = purger
        self.edge_wait_seconds = edge_wait_seconds

    async def __call__(self, event: Event) -> None:
        keys = keys_for_event(event)
        if self.cache.layers is not None:
            await self.cache.layers.invalidate_tags(keys)

        if self.purger is not None:
            sent = self.purger.purge(keys)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(sent), self.edge_wait_seconds)
