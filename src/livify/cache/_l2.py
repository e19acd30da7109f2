"""Redis access for one namespace: entries checked against their tag versions.

Every call goes through the `LayeredCache` circuit breaker, and a failed
or skipped call returns what "no L2" would (None, or nothing stored), so the
read path carries on with L1 and the loader.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from livify.cache._entry import Entry, dump_entry, load_entry
from livify.cache._exceptions import BackendError
from livify.cache._tags import GLOBAL_TAG

if TYPE_CHECKING:
    from livify.cache._layered import LayeredCache
    from livify.cache._redis import RedisStore


@dataclass(slots=True)
class TagSnapshot:
    """Tag versions read before a load, and the version counter at that time.

    A tag whose version is above `watermark` was invalidated after the
    snapshot, so a value loaded since may predate that change.
    """

    versions: dict[str, int]
    watermark: int


class NamespaceL2:
    """Read, write and lease entries of one namespace in Redis."""

    def __init__(self, layers: LayeredCache, namespace: str) -> None:
        self._layers = layers
        self._namespace = namespace

    async def read(
        self, full_key: str, tags: Sequence[str]
    ) -> tuple[Entry | None, TagSnapshot | None]:
        """Return the current entry (or None) and a snapshot of `tags`.

        The snapshot covers `tags` and the global tag, for an entry loaded
        next. Both are None when Redis failed or is not configured.
        """
        redis = self._layers.redis
        if redis is None:
            return None, None

        tag_list = [GLOBAL_TAG, *tags]
        try:
            data, versions, counter = await self._layers.call_redis(
                self._namespace,
                "read",
                lambda: redis.read(redis.entry_key(full_key), tag_list),
            )
        except BackendError:
            return None, None

        self._layers.tags.observe(versions)
        snapshot = TagSnapshot(versions, counter)
        entry = None if data is None else load_entry(data, self._namespace)
        if entry is None or not await self._is_current(redis, entry, versions):
            return None, snapshot
        return entry, snapshot

    async def read_versions(self, tags: Sequence[str]) -> dict[str, int] | None:
        """Return the versions of `tags` and the global tag, or None on failure."""
        redis = self._layers.redis
        if redis is None:
            return None

        tag_list = [GLOBAL_TAG, *tags]
        try:
            versions = await self._layers.call_redis(
                self._namespace,
                "read_tags",
                lambda: redis.read_tag_versions(tag_list),
            )
        except BackendError:
            return None

        self._layers.tags.observe(versions)
        return versions

    async def write(self, full_key: str, entry: Entry, now: float) -> None:
        """Store `entry` until its stale period ends; a failure is only reported."""
        redis = self._layers.redis
        if redis is None:
            return

        data = dump_entry(entry)
        ttl = entry.stale_until - now
        with contextlib.suppress(BackendError):
            await self._layers.call_redis(
                self._namespace,
                "write",
                lambda: redis.write(redis.entry_key(full_key), data, ttl_seconds=ttl),
            )

    async def acquire_lease(self, full_key: str, token: str, ttl: float) -> bool:
        """Take the load lease on `full_key`; raises `BackendError` on failure."""
        redis = self._require_redis()
        return await self._layers.call_redis(
            self._namespace,
            "lease",
            lambda: redis.acquire_lease(full_key, token, ttl_seconds=ttl),
        )

    async def release_lease(self, full_key: str, token: str) -> None:
        redis = self._require_redis()
        with contextlib.suppress(BackendError):
            await self._layers.call_redis(
                self._namespace,
                "lease",
                lambda: redis.release_lease(full_key, token),
            )

    async def _is_current(
        self, redis: RedisStore, entry: Entry, versions: dict[str, int]
    ) -> bool:
        # The entry may carry tags the reader did not name (tags computed
        # from the value); read those versions too.
        known = versions
        missing = [tag for tag in entry.tag_versions if tag not in versions]
        if missing:
            try:
                extra = await self._layers.call_redis(
                    self._namespace,
                    "read_tags",
                    lambda: redis.read_tag_versions(missing),
                )
            except BackendError:
                return False
            self._layers.tags.observe(extra)
            known = {**versions, **extra}

        for tag, version in entry.tag_versions.items():
            if known[tag] != version:
                self._layers.hooks.on_invalidation(self._namespace, "tag")
                return False
        return True

    def _require_redis(self) -> RedisStore:
        redis = self._layers.redis
        if redis is None:
            msg = "this cache has no Redis layer"
            raise RuntimeError(msg)
        return redis
