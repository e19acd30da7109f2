"""One cache namespace: read-through L1 and L2, loads and invalidation.

A read looks in L1, then in Redis (L2), then runs the loader. Every key is
stored as `<namespace>:v<version>:<key>`, so bumping a namespace's version
(for a new value shape after a deploy) leaves the old entries unread until
they expire.
"""

from __future__ import annotations

import asyncio
import enum
import math
import re
import secrets
import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, Literal, TypeAlias, TypeVar, cast

from livify.cache._entry import Entry, ValueKind, encode_value
from livify.cache._exceptions import BackendError, NotFound
from livify.cache._l2 import NamespaceL2, TagSnapshot
from livify.cache._tags import check_tag
from livify.cache._types import Loader
from livify.cache._warm import DEFAULT_WARM_CONCURRENCY, WarmItem, WarmReport

if TYPE_CHECKING:
    from livify.cache._layered import LayeredCache

T = TypeVar("T")

DEFAULT_TTL_SECONDS = 60.0
DEFAULT_NEGATIVE_TTL_SECONDS = 5.0
# XFetch's beta scales how early a refresh may start: above 1 refreshes
# earlier, below 1 later, and 0 turns early refresh off.
DEFAULT_EARLY_REFRESH_BETA = 1.0
LEASE_POLL_INITIAL_SECONDS = 0.005
LEASE_POLL_MAX_SECONDS = 0.05
MAX_KEY_CHARS = 1024
# For a float in [0, 1), 1 - random() is at least 2**-53, so XFetch's
# -ln(1 - random()) is at most this: an entry further from expiry skips the draw.
_XFETCH_MAX_LOG = 53 * math.log(2)
_NAMESPACE_PATTERN = re.compile(r"[A-Za-z0-9_.-]{1,64}")

Source = Literal["l2", "stale", "load"]
TagsOf: TypeAlias = Callable[[Any], Iterable[str]]
TagSpec: TypeAlias = "tuple[str, ...] | TagsOf"
"""Tags known before the load, or a function of the loaded value."""


class Freshness(enum.Enum):
    FRESH = "fresh"
    EARLY = "early"
    """Fresh, but XFetch chose to refresh it now."""
    STALE = "stale"
    """Expired, within the stale-while-revalidate window."""
    EXPIRED = "expired"


class Cache:
    """Read-through cache of one namespace, created by `LayeredCache.namespace`.

    `ttl_seconds` is the default time an entry stays fresh. After it, an
    entry is still served for `stale_while_revalidate_seconds` while one
    refresh runs in the background. Before it, a read may refresh early with
    a probability that grows as expiry nears and with the last load's
    duration (XFetch, `early_refresh_beta`; 0 turns it off). A loader that
    raises `NotFound` is cached as not found for `negative_ttl_seconds`.
    With `stale_if_error_seconds`, L1 keeps each entry that long past its
    expiry, so `get_stale` can return it while its source is failing.

    With `lease_ttl_seconds` set and Redis up, a process that misses takes a
    Redis lease on the key before loading, and the processes that find it
    taken re-read L2 for up to `lease_wait_seconds` (default: the lease TTL)
    before loading themselves. Use it for loads expensive enough that one
    per process at a time is too many.
    """

    def __init__(
        self,
        layers: LayeredCache,
        namespace: str,
        *,
        version: int | str = 1,
        ttl_seconds: float = DEFAULT_TTL_SECONDS,
        stale_while_revalidate_seconds: float = 0.0,
        stale_if_error_seconds: float = 0.0,
        negative_ttl_seconds: float = DEFAULT_NEGATIVE_TTL_SECONDS,
        early_refresh_beta: float = DEFAULT_EARLY_REFRESH_BETA,
        lease_ttl_seconds: float | None = None,
        lease_wait_seconds: float | None = None,
    ) -> None:
        if not _NAMESPACE_PATTERN.fullmatch(namespace):
            msg = (
                f"invalid cache namespace {namespace!r}: use 1 to 64 letters, "
                f"digits, '_', '.' or '-'"
            )
            raise ValueError(msg)

        _check_non_negative(
            stale_while_revalidate_seconds=stale_while_revalidate_seconds,
            stale_if_error_seconds=stale_if_error_seconds,
            early_refresh_beta=early_refresh_beta,
        )
        if lease_ttl_seconds is not None and lease_ttl_seconds <= 0:
            msg = (
                f"lease_ttl_seconds must be positive or None, got {lease_ttl_seconds!r}"
            )
            raise ValueError(msg)

        self._layers = layers
        self._l2 = NamespaceL2(layers, namespace)
        self.namespace = namespace
        self.version = str(version)
        self.stale_while_revalidate_seconds = stale_while_revalidate_seconds
        self.stale_if_error_seconds = stale_if_error_seconds
        self.ttl_seconds = self._check_ttl(ttl_seconds)
        self.negative_ttl_seconds = self._check_ttl(negative_ttl_seconds)
        self.early_refresh_beta = early_refresh_beta
        self.lease_ttl_seconds = lease_ttl_seconds
        self.lease_wait_seconds = (
            lease_wait_seconds if lease_wait_seconds is not None else lease_ttl_seconds
        )
        self._key_prefix = f"{namespace}:v{self.version}:"

    async def get_or_load(
        self,
        key: str,
        loader: Loader[T],
        *,
        ttl_seconds: float | None = None,
        tags: Iterable[str] | Callable[[T], Iterable[str]] = (),
    ) -> T:
        """Return the value of `key`, loading and storing it on a miss.

        Concurrent misses on one key in this process share one call of
        `loader`; the `loader`, `ttl_seconds` and `tags` of the first caller
        apply. `ttl_seconds` defaults to the namespace's. `tags` name what
        the value depends on (`article:42`), so that `invalidate_tags` on any
        of them makes the entry stale. Pass a function of the loaded value
        when the tags are known only after loading. If one of those tags is
        invalidated while the value loads, the value is returned but not
        stored. Values
        come back as orjson decodes them (`bytes` stay `bytes`), a fresh
        copy for every caller.

        Raises `NotFound` when the loader raised it now or within the
        negative TTL, and any other exception the loader raised. Redis
        failures are never raised.
        """
        entry = await self._get_entry(key, loader, ttl_seconds, tags)
        return cast("T", entry.decode())

    def peek(self, key: str, default: Any = None) -> Any:
        """Return the value of `key` from a fresh L1 entry, else `default`.

        Never waits: no Redis read, no load and no refresh, so a caller can
        try it before `get_or_load` on a hot path. Returns `default` for an
        entry that is stale, due for an early refresh, outdated by a tag or a
        cached not-found, all of which `get_or_load` handles.
        """
        layers = self._layers
        entry = layers.l1.get(self._key_prefix + key)
        if (
            entry is None
            or entry.kind is ValueKind.NOT_FOUND
            or not self._tags_current(entry)
        ):
            return default

        now = layers.clock()
        if now >= entry.l1_expires_at or self._freshness(entry, now) is not (
            Freshness.FRESH
        ):
            return default

        layers.hooks.on_hit(self.namespace, "l1")
        return entry.decode()

    async def get(self, key: str, default: Any = None) -> Any:
        """Return the cached value of `key` from L1 or L2, or `default`.

        Loads nothing and does not refresh. Raises `NotFound` when a
        negative entry is cached.
        """
        full_key = self._full_key(key)
        now = self._layers.clock()
        found = self._read_l1(full_key, now)
        if found is not None and found[1] is not Freshness.STALE:
            self._layers.hooks.on_hit(self.namespace, "l1")
            return found[0].decode()

        entry, _ = await self._l2.read(full_key, ())
        if entry is None or self._servable_source(entry, None) != "l2":
            self._layers.hooks.on_miss(self.namespace)
            return default

        self._store_l1(full_key, entry, now)
        self._layers.hooks.on_hit(self.namespace, "l2")
        return entry.decode()

    def get_stale(self, key: str) -> Any:
        """Return the last value stored for `key` in this process, even expired.

        For serving stale-if-error: after a load failed, a caller may respond
        with the value that expired less than `stale_if_error_seconds` ago.
        Returns None when there is none, when a tag of the entry was
        invalidated since (a known-outdated value is never served) or when
        the entry is a cached not-found.
        """
        layers = self._layers
        entry = layers.l1.get(self._full_key(key))
        if (
            entry is None
            or entry.kind is ValueKind.NOT_FOUND
            or layers.clock() >= entry.error_until
            or not self._tags_current(entry)
        ):
            return None

        layers.hooks.on_stale_served(self.namespace)
        return entry.decode()

    async def set(
        self,
        key: str,
        value: Any,
        *,
        ttl_seconds: float | None = None,
        tags: Iterable[str] = (),
    ) -> None:
        """Store `value` under `key` in L1 and L2.

        NOTE: the entry records the tag versions current when `set` runs. A
        value computed before a concurrent `invalidate_tags` is then stored
        as current; `get_or_load` avoids this by reading the versions before
        it loads.
        """
        full_key = self._full_key(key)
        ttl = self._ttl_or_default(ttl_seconds)
        tag_list = [check_tag(tag) for tag in tags]
        versions = await self._l2.read_versions(tag_list)
        if versions is None:
            versions = self._layers.tags.snapshot(tag_list)

        kind, value_bytes = encode_value(value)
        now = self._layers.clock()
        entry = self._new_entry(kind, value_bytes, ttl, versions, 0.0, now)
        self._store_l1(full_key, entry, now)
        await self._l2.write(full_key, entry, now)

    async def delete(self, key: str) -> None:
        """Drop `key` from L1 and L2 and from the L1 of every other process."""
        full_key = self._full_key(key)
        if self._layers.l1.delete(full_key) is not None:
            self._layers.hooks.on_invalidation(self.namespace, "key")
        await self._layers.publish(tags=(), keys=[full_key], namespace=self.namespace)

    async def invalidate_tags(self, tags: Iterable[str]) -> None:
        """Make every entry that carries one of `tags` stale, in every namespace."""
        await self._layers.invalidate_tags(tags)

    async def warm(
        self,
        items: Iterable[WarmItem],
        *,
        concurrency: int = DEFAULT_WARM_CONCURRENCY,
        refresh: bool = False,
    ) -> WarmReport:
        """Load `items` into the cache, `concurrency` loaders at a time.

        Keys that already have a current entry are skipped unless `refresh`
        is true, which reloads every key. A loader that fails is logged and
        counted, and the run goes on.
        """
        if concurrency <= 0:
            msg = f"concurrency must be positive, got {concurrency!r}"
            raise ValueError(msg)

        report = WarmReport()
        semaphore = asyncio.Semaphore(concurrency)

        async def warm_one(item: WarmItem) -> None:
            async with semaphore:
                await self._warm_item(item, report, refresh=refresh)

        async with asyncio.TaskGroup() as group:
            for item in items:
                group.create_task(warm_one(item))
        return report

    async def _warm_item(
        self, item: WarmItem, report: WarmReport, *, refresh: bool
    ) -> None:
        full_key = self._full_key(item.key)
        ttl = self._ttl_or_default(item.ttl_seconds)
        tags = _tag_spec(item.tags)
        if not refresh and self._read_l1(full_key, self._layers.clock()) is not None:
            report.cached += 1
            return

        accept_after = math.inf if refresh else None
        try:
            entry, source = await self._layers.flights.run(
                full_key,
                lambda: self._fill(full_key, item.loader, ttl, tags, accept_after),
            )
        except Exception as exc:
            report.failed += 1
            self._layers.log.warning(
                "cache.warm_failed",
                namespace=self.namespace,
                key=item.key,
                error=repr(exc),
            )
        else:
            if entry.kind is ValueKind.NOT_FOUND:
                report.not_found += 1
            elif source == "load":
                report.loaded += 1
            else:
                report.cached += 1

    async def _get_entry(
        self,
        key: str,
        loader: Loader[Any],
        ttl_seconds: float | None,
        tags: Iterable[str] | TagsOf,
    ) -> Entry:
        full_key = self._full_key(key)
        hooks = self._layers.hooks
        found = self._read_l1(full_key, self._layers.clock())
        if found is not None and found[1] is Freshness.FRESH:
            # The common hit: tags and TTL matter only for a load.
            hooks.on_hit(self.namespace, "l1")
            return found[0]

        ttl = self._ttl_or_default(ttl_seconds)
        tag_spec = _tag_spec(tags)
        if found is not None:
            entry, freshness = found
            if freshness is Freshness.STALE:
                hooks.on_stale_served(self.namespace)
            else:
                hooks.on_hit(self.namespace, "l1")
            self._refresh_soon(full_key, loader, ttl, tag_spec, entry.expires_at)
            return entry

        entry, source = await self._layers.flights.run(
            full_key, lambda: self._fill(full_key, loader, ttl, tag_spec, None)
        )
        if source == "l2":
            hooks.on_hit(self.namespace, "l2")
        elif source == "stale":
            hooks.on_stale_served(self.namespace)
        else:
            hooks.on_miss(self.namespace)
        return entry

    async def _fill(
        self,
        full_key: str,
        loader: Loader[Any],
        ttl: float,
        tags: TagSpec,
        accept_after: float | None,
    ) -> tuple[Entry, Source]:
        """Find a current entry in L2 or load one; runs once per key at a time.

        `accept_after` is None for a reader, which takes any servable L2
        entry. A refresh passes the expiry of the entry it replaces and takes
        only a fresh L2 entry that expires later.
        """
        known_tags = tags if isinstance(tags, tuple) else ()
        entry, snapshot = await self._l2.read(full_key, known_tags)
        if entry is not None:
            source = self._servable_source(entry, accept_after)
            if source is not None:
                self._store_l1(full_key, entry, self._layers.clock())
                if source == "stale":
                    self._refresh_soon(full_key, loader, ttl, tags, entry.expires_at)
                return entry, source

        lease_token: str | None = None
        if snapshot is not None and self.lease_ttl_seconds is not None:
            lease_token, entry = await self._take_lease_or_wait(full_key, known_tags)
            if entry is not None:
                return entry, "l2"

        is_from_redis = snapshot is not None
        if snapshot is None:
            local = self._layers.tags
            snapshot = TagSnapshot(local.snapshot(known_tags), local.counter)
        try:
            entry = await self._load(
                full_key, loader, ttl, tags, snapshot, is_from_redis
            )
        finally:
            if lease_token is not None:
                await self._l2.release_lease(full_key, lease_token)
        return entry, "load"

    def _servable_source(
        self, entry: Entry, accept_after: float | None
    ) -> Source | None:
        freshness = self._freshness(entry, self._layers.clock())
        if accept_after is not None:
            is_newer = entry.expires_at > accept_after
            return "l2" if is_newer and freshness is Freshness.FRESH else None

        if freshness is Freshness.EXPIRED:
            return None
        return "stale" if freshness is Freshness.STALE else "l2"

    async def _load(
        self,
        full_key: str,
        loader: Loader[Any],
        ttl: float,
        tags: TagSpec,
        before: TagSnapshot,
        is_from_redis: bool,
    ) -> Entry:
        clock = self._layers.clock
        loaded_at = clock()
        started = time.perf_counter()
        value: Any = None
        try:
            value = await loader()
        except NotFound:
            kind, value_bytes, ttl = ValueKind.NOT_FOUND, b"", self.negative_ttl_seconds
            outcome: Literal["ok", "not_found"] = "not_found"
        except Exception:
            self._layers.hooks.on_load(
                self.namespace, time.perf_counter() - started, "error"
            )
            raise
        else:
            kind, value_bytes = encode_value(value)
            outcome = "ok"

        self._layers.hooks.on_load(
            self.namespace, time.perf_counter() - started, outcome
        )
        versions = await self._versions_for(tags, kind, value, before, is_from_redis)
        now = clock()
        # XFetch weighs the load time on the same clock as the expiry times.
        entry = self._new_entry(
            kind, value_bytes, ttl, versions or {}, now - loaded_at, now
        )
        if versions is not None:
            self._store_l1(full_key, entry, now)
            await self._l2.write(full_key, entry, now)
        return entry

    async def _versions_for(
        self,
        tags: TagSpec,
        kind: ValueKind,
        value: Any,
        before: TagSnapshot,
        is_from_redis: bool,
    ) -> dict[str, int] | None:
        """Return the tag versions to store with a loaded value, or None to skip.

        Tags named up front use the versions read before the load. Tags
        computed from the value are read now, and a version above the
        watermark means the tag changed during the load, so the value is not
        stored. A negative entry has no value to compute tags from.
        """
        if isinstance(tags, tuple):
            return before.versions

        late_tags = [] if kind is ValueKind.NOT_FOUND else list(tags(value))
        late_tags = [check_tag(tag) for tag in late_tags]
        if is_from_redis:
            versions = await self._l2.read_versions(late_tags)
        else:
            versions = self._layers.tags.snapshot(late_tags)

        if versions is None or max(versions.values()) > before.watermark:
            return None
        return versions

    def _new_entry(
        self,
        kind: ValueKind,
        value_bytes: bytes,
        ttl: float,
        versions: dict[str, int],
        load_seconds: float,
        now: float,
    ) -> Entry:
        expires_at = now + ttl
        stale_until = expires_at
        if kind is not ValueKind.NOT_FOUND:
            stale_until += self.stale_while_revalidate_seconds
        return Entry(
            kind=kind,
            value_bytes=value_bytes,
            expires_at=expires_at,
            stale_until=stale_until,
            load_seconds=max(load_seconds, 0.0),
            tag_versions=versions,
            namespace=self.namespace,
        )

    def _read_l1(self, full_key: str, now: float) -> tuple[Entry, Freshness] | None:
        layers = self._layers
        entry = layers.l1.get(full_key)
        if entry is None:
            return None

        if not self._tags_current(entry):
            layers.l1.delete(full_key)
            layers.hooks.on_invalidation(self.namespace, "tag")
            return None

        freshness = self._freshness(entry, now)
        if now >= entry.l1_expires_at or freshness is Freshness.EXPIRED:
            # Kept past its expiry only as a fallback for `get_stale`.
            if now >= entry.error_until:
                layers.l1.delete(full_key)
            return None
        return entry, freshness

    def _tags_current(self, entry: Entry) -> bool:
        tags = self._layers.tags
        if entry.tags_checked_at == tags.changes:
            return True

        if not tags.is_current(entry.tag_versions):
            return False
        entry.tags_checked_at = tags.changes
        return True

    def _store_l1(self, full_key: str, entry: Entry, now: float) -> None:
        layers = self._layers
        entry.l1_expires_at = entry.stale_until
        entry.error_until = entry.stale_until + self.stale_if_error_seconds
        if layers.redis is not None:
            entry.l1_expires_at = min(entry.stale_until, now + layers.l1_ttl_seconds)
        layers.l1.set(full_key, entry)

    def _freshness(self, entry: Entry, now: float) -> Freshness:
        if now >= entry.stale_until:
            return Freshness.EXPIRED

        if now >= entry.expires_at:
            return Freshness.STALE

        beta = self.early_refresh_beta
        if now + entry.load_seconds * beta * _XFETCH_MAX_LOG < entry.expires_at:
            return Freshness.FRESH

        is_positive = entry.kind is not ValueKind.NOT_FOUND
        if beta > 0 and entry.load_seconds > 0 and is_positive:
            # XFetch: refresh once now - delta * beta * ln(u) reaches the
            # expiry, with delta the last load time and u uniform in (0, 1].
            gap = -entry.load_seconds * beta * math.log(1.0 - self._layers.random())
            if now + gap >= entry.expires_at:
                return Freshness.EARLY
        return Freshness.FRESH

    def _refresh_soon(
        self,
        full_key: str,
        loader: Loader[Any],
        ttl: float,
        tags: TagSpec,
        replaces_expires_at: float,
    ) -> None:
        if full_key in self._layers.flights:
            return

        self._layers.spawn(
            self._refresh(full_key, loader, ttl, tags, replaces_expires_at)
        )

    async def _refresh(
        self,
        full_key: str,
        loader: Loader[Any],
        ttl: float,
        tags: TagSpec,
        replaces_expires_at: float,
    ) -> None:
        try:
            await self._layers.flights.run(
                full_key,
                lambda: self._fill(full_key, loader, ttl, tags, replaces_expires_at),
            )
        except Exception as exc:
            # The old entry stays in use until it expires.
            self._layers.log.warning(
                "cache.refresh_failed",
                namespace=self.namespace,
                key=full_key,
                error=repr(exc),
            )

    async def _take_lease_or_wait(
        self, full_key: str, tags: tuple[str, ...]
    ) -> tuple[str | None, Entry | None]:
        """Return a lease token to load under, or an entry another process stored.

        Both are None when Redis failed or the wait ran out: load without
        a lease then.
        """
        assert self.lease_ttl_seconds is not None
        token = secrets.token_hex(8)
        try:
            is_acquired = await self._l2.acquire_lease(
                full_key, token, self.lease_ttl_seconds
            )
        except BackendError:
            return None, None

        if is_acquired:
            return token, None
        return None, await self._wait_for_l2(full_key, tags)

    async def _wait_for_l2(self, full_key: str, tags: tuple[str, ...]) -> Entry | None:
        wait_seconds = self.lease_wait_seconds or 0.0
        delay = LEASE_POLL_INITIAL_SECONDS
        waited = 0.0
        # Bounded in count too: every step adds at least the initial delay.
        while waited < wait_seconds:
            await self._layers.sleep(delay)
            waited += delay
            delay = min(delay * 2, LEASE_POLL_MAX_SECONDS)
            entry, snapshot = await self._l2.read(full_key, tags)
            if snapshot is None:
                return None

            if entry is not None and self._servable_source(entry, None) == "l2":
                self._store_l1(full_key, entry, self._layers.clock())
                return entry
        return None

    def _full_key(self, key: str) -> str:
        if not isinstance(key, str) or len(key) > MAX_KEY_CHARS:
            msg = (
                f"invalid cache key {key!r:.80}: use a string of at most "
                f"{MAX_KEY_CHARS} characters"
            )
            raise ValueError(msg)
        return self._key_prefix + key

    def _ttl_or_default(self, ttl_seconds: float | None) -> float:
        if ttl_seconds is None:
            return self.ttl_seconds
        return self._check_ttl(ttl_seconds)

    def _check_ttl(self, ttl_seconds: float) -> float:
        if ttl_seconds <= 0:
            msg = f"ttl_seconds must be positive, got {ttl_seconds!r}"
            raise ValueError(msg)

        redis = self._layers.redis
        lifetime = ttl_seconds + self.stale_while_revalidate_seconds
        if redis is not None and lifetime > redis.tag_version_ttl_seconds:
            msg = (
                f"ttl_seconds plus stale_while_revalidate_seconds ({lifetime!r}) "
                f"exceeds tag_version_ttl_seconds "
                f"({redis.tag_version_ttl_seconds!r}); an entry must expire "
                f"before the tag versions it recorded"
            )
            raise ValueError(msg)
        return ttl_seconds


def _tag_spec(tags: Iterable[str] | TagsOf) -> TagSpec:
    if isinstance(tags, str):
        msg = (
            f"tags must be a list of tags, got the string {tags!r}; wrap it: [{tags!r}]"
        )
        raise TypeError(msg)

    if callable(tags):
        return tags
    return tuple(check_tag(tag) for tag in tags)


def _check_non_negative(**values: float) -> None:
    for name, value in values.items():
        if value < 0:
            msg = f"{name} must be zero or positive, got {value!r}"
            raise ValueError(msg)
