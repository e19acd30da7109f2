"""The layers shared by every cache namespace: L1, L2, tags and pub/sub.

One `LayeredCache` per process owns the in-process store, the Redis
connection pool, the tag versions, the circuit breaker around Redis and the
invalidation listener. `namespace()` returns a `Cache` that reads and writes
through them.
"""

from __future__ import annotations

import asyncio
import random as random_module
import secrets
import time
from collections.abc import Awaitable, Callable, Coroutine, Iterable
from types import TracebackType
from typing import Any, TypeVar

import orjson

from livify.cache._cache import (
    DEFAULT_EARLY_REFRESH_BETA,
    DEFAULT_NEGATIVE_TTL_SECONDS,
    DEFAULT_TTL_SECONDS,
    Cache,
)
from livify.cache._entry import Entry
from livify.cache._exceptions import BackendError, CircuitOpen
from livify.cache._flight import SingleFlight
from livify.cache._hooks import CacheHooks, NoHooks
from livify.cache._listener import InvalidationListener
from livify.cache._log import RateLimitedLogger, logger
from livify.cache._memory import (
    DEFAULT_L1_MAX_BYTES,
    DEFAULT_L1_MAX_ENTRIES,
    MemoryStore,
)
from livify.cache._redis import (
    DEFAULT_REDIS_MAX_CONNECTIONS,
    DEFAULT_REDIS_TIMEOUT_SECONDS,
    DEFAULT_TAG_VERSION_TTL_SECONDS,
    RedisStore,
)
from livify.cache._tags import GLOBAL_TAG, TagVersions, check_tag
from livify.cache._types import Clock, Sleep
from livify.resilience import FallbackCircuit

# Redis failures in a row that open the circuit, and its first and longest
# cooldowns: a blip costs three timeouts, an outage one probe per 30 s.
DEFAULT_FAILURE_THRESHOLD = 3
DEFAULT_COOLDOWN_SECONDS = 1.0
DEFAULT_COOLDOWN_MAX_SECONDS = 30.0

R = TypeVar("R")

DEFAULT_KEY_PREFIX = "livify:cache:"
# With Redis, an L1 entry is kept at most this long, which bounds how long a
# lost invalidation message can leave it stale in one process.
DEFAULT_L1_TTL_SECONDS = 5.0
# Invalidations that could not reach Redis wait until it is back, up to this
# many tags and keys. Past that, the whole cache is invalidated instead.
MAX_PENDING_INVALIDATIONS = 10_000
SUPPORTED_SCHEMES = ("memory", "redis", "rediss", "unix")


class LayeredCache:
    """Own the cache layers of one process and hand out namespaces.

    `url` chooses the layers: `memory://` keeps L1 alone (the embedded
    default), `redis://host:port/db` adds Redis as L2 and pub/sub for
    invalidations. With Redis, call `start()` (or use `async with`) so that
    L1 learns of invalidations made by other processes; `aclose()` stops the
    listener and closes the connections.

    L1 keeps at most `l1_max_entries` entries and `l1_max_bytes` of encoded
    values. With Redis an L1 entry lives at most `l1_ttl_seconds` (default
    5 s), so a lost invalidation message leaves it stale for no longer than
    that. Each Redis command times out after `redis_timeout_seconds` (default
    0.1 s). After `circuit_failure_threshold` failures in a row Redis is
    skipped for `circuit_cooldown_seconds`, doubling after each failed probe
    up to `circuit_cooldown_max_seconds`, and reads use L1 and the loader.

    `clock` returns seconds since the epoch and must agree across the
    processes sharing Redis, because entries carry absolute expiry times.
    `sleep` and `random` are injectable for tests.
    """

    def __init__(
        self,
        url: str = "memory://",
        *,
        key_prefix: str = DEFAULT_KEY_PREFIX,
        l1_max_entries: int = DEFAULT_L1_MAX_ENTRIES,
        l1_max_bytes: int = DEFAULT_L1_MAX_BYTES,
        l1_ttl_seconds: float = DEFAULT_L1_TTL_SECONDS,
        redis_timeout_seconds: float = DEFAULT_REDIS_TIMEOUT_SECONDS,
        redis_max_connections: int = DEFAULT_REDIS_MAX_CONNECTIONS,
        tag_version_ttl_seconds: float = DEFAULT_TAG_VERSION_TTL_SECONDS,
        circuit_failure_threshold: int = DEFAULT_FAILURE_THRESHOLD,
        circuit_cooldown_seconds: float = DEFAULT_COOLDOWN_SECONDS,
        circuit_cooldown_max_seconds: float = DEFAULT_COOLDOWN_MAX_SECONDS,
        hooks: CacheHooks | None = None,
        clock: Clock = time.time,
        sleep: Sleep = asyncio.sleep,
        random: Callable[[], float] = random_module.random,
    ) -> None:
        if l1_ttl_seconds <= 0:
            msg = f"l1_ttl_seconds must be positive, got {l1_ttl_seconds!r}"
            raise ValueError(msg)

        self.hooks: CacheHooks = hooks if hooks is not None else NoHooks()
        self.clock = clock
        self.sleep = sleep
        self.random = random
        self.l1_ttl_seconds = l1_ttl_seconds
        self.instance_id = secrets.token_hex(8)
        self.log = RateLimitedLogger(logger)
        self.l1 = MemoryStore(
            max_entries=l1_max_entries,
            max_bytes=l1_max_bytes,
            on_eviction=self._count_eviction,
        )
        self.tags = TagVersions()
        self.flights: SingleFlight[tuple[Entry, str]] = SingleFlight()
        self.circuit = FallbackCircuit(
            clock=clock,
            failure_threshold=circuit_failure_threshold,
            cooldown_seconds=circuit_cooldown_seconds,
            cooldown_max_seconds=circuit_cooldown_max_seconds,
        )
        self.redis = _create_redis_store(
            url,
            key_prefix=key_prefix,
            timeout_seconds=redis_timeout_seconds,
            max_connections=redis_max_connections,
            tag_version_ttl_seconds=tag_version_ttl_seconds,
        )
        self._listener = (
            None
            if self.redis is None
            else InvalidationListener(
                self.redis,
                on_message=self._apply_message,
                on_subscribed=self._forget_local_state,
                on_error=self._count_listener_error,
                log=self.log,
                sleep=sleep,
            )
        )
        self._background: set[asyncio.Task[None]] = set()
        self._pending_tags: set[str] = set()
        self._pending_keys: set[str] = set()
        self._is_closed = False

    async def __aenter__(self) -> LayeredCache:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    @property
    def is_redis_available(self) -> bool:
        """Whether L2 is configured and not skipped after failures."""
        return self.redis is not None and not self.circuit.is_open

    @property
    def is_listening(self) -> bool:
        """Whether the invalidation listener has an active subscription."""
        return self._listener is not None and self._listener.is_subscribed

    def namespace(
        self,
        name: str,
        *,
        version: int | str = 1,
        ttl_seconds: float = DEFAULT_TTL_SECONDS,
        stale_while_revalidate_seconds: float = 0.0,
        stale_if_error_seconds: float = 0.0,
        negative_ttl_seconds: float = DEFAULT_NEGATIVE_TTL_SECONDS,
        early_refresh_beta: float = DEFAULT_EARLY_REFRESH_BETA,
        lease_ttl_seconds: float | None = None,
        lease_wait_seconds: float | None = None,
    ) -> Cache:
        """Return a `Cache` for the keys of one namespace; see `Cache`."""
        return Cache(
            self,
            name,
            version=version,
            ttl_seconds=ttl_seconds,
            stale_while_revalidate_seconds=stale_while_revalidate_seconds,
            stale_if_error_seconds=stale_if_error_seconds,
            negative_ttl_seconds=negative_ttl_seconds,
            early_refresh_beta=early_refresh_beta,
            lease_ttl_seconds=lease_ttl_seconds,
            lease_wait_seconds=lease_wait_seconds,
        )

    async def start(self) -> None:
        """Start the invalidation listener (with Redis); wait up to 2 s for it.

        Redis being unreachable is not an error: the listener keeps retrying.
        """
        if self._is_closed:
            msg = "cannot start a LayeredCache after aclose()"
            raise RuntimeError(msg)

        if self._listener is not None and not self._listener.is_running:
            await self._listener.start()

    async def aclose(self) -> None:
        """Stop the listener and background refreshes and close Redis."""
        self._is_closed = True
        if self._listener is not None:
            await self._listener.stop()

        tasks = list(self._background)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

        if self.redis is not None:
            await self.redis.aclose()

    async def invalidate_tags(self, tags: Iterable[str]) -> None:
        """Make every entry that carries one of `tags` stale, in every process.

        This process's L1 is invalidated before the call returns; L2 and
        other processes through one Redis script that bumps the tag versions
        and publishes them. When Redis is unreachable the invalidation is
        kept and sent once Redis responds again.
        """
        tag_list = [check_tag(tag) for tag in tags]
        if not tag_list:
            return

        self.tags.bump(tag_list)
        await self.publish(tags=tag_list, keys=())

    async def invalidate_all(self) -> None:
        """Make every entry of every namespace stale, in every process."""
        self.l1.clear()
        self.tags.bump([GLOBAL_TAG])
        await self.publish(tags=[GLOBAL_TAG], keys=())

    async def publish(
        self, *, tags: Iterable[str], keys: Iterable[str], namespace: str = ""
    ) -> None:
        """Bump `tags` and delete `keys` in Redis, and tell other processes.

        `keys` are full L1 keys. Does nothing without Redis; on failure the
        tags and keys join the pending set for the next successful call.
        """
        if self.redis is None:
            return

        redis = self.redis
        tag_set = set(tags) | self._pending_tags
        key_set = set(keys) | self._pending_keys
        self._pending_tags, self._pending_keys = set(), set()
        try:
            version = await self.call_redis(
                namespace,
                "invalidate",
                lambda: redis.invalidate(
                    tags=sorted(tag_set), keys=sorted(key_set), origin=self.instance_id
                ),
            )
        except BackendError:
            self._keep_pending(tag_set, key_set)
            return

        self.hooks.on_message("sent")
        self.tags.observe(dict.fromkeys(tag_set, version))

    async def call_redis(
        self, namespace: str, operation: str, call: Callable[[], Awaitable[R]]
    ) -> R:
        """Run one Redis call through the circuit breaker, reporting failures.

        Raises `CircuitOpen` while Redis is skipped and `BackendError` when
        the call fails; both mean "carry on without L2".
        """
        if not self.circuit.allow():
            msg = "Redis is skipped after recent failures"
            raise CircuitOpen(msg)

        try:
            result = await call()
        except BackendError as exc:
            self._record_failure(namespace, operation, exc)
            raise

        if self.circuit.record_success():
            logger.info("cache.redis_recovered")
            self.hooks.on_circuit_change(False)
            if self._pending_tags or self._pending_keys:
                self.spawn(self.publish(tags=(), keys=()))
        return result

    def spawn(self, coroutine: Coroutine[Any, Any, None]) -> None:
        """Run `coroutine` in a task that `aclose` cancels."""
        if self._is_closed:
            coroutine.close()
            return

        task = asyncio.create_task(coroutine)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    def _record_failure(self, namespace: str, operation: str, exc: Exception) -> None:
        self.hooks.on_redis_error(namespace, operation)
        self.log.warning(
            "cache.redis_failed",
            namespace=namespace,
            operation=operation,
            error=str(exc),
        )
        if self.circuit.record_failure():
            logger.warning(
                "cache.redis_circuit_opened",
                cooldown_seconds=self.circuit.cooldown_seconds,
            )
            self.hooks.on_circuit_change(True)

    def _keep_pending(self, tags: set[str], keys: set[str]) -> None:
        self._pending_tags |= tags
        self._pending_keys |= keys
        if (
            len(self._pending_tags) + len(self._pending_keys)
            > MAX_PENDING_INVALIDATIONS
        ):
            self._pending_tags = {GLOBAL_TAG}
            self._pending_keys = set()

    def _apply_message(self, data: bytes) -> None:
        self.hooks.on_message("received")
        try:
            head, _, body = data.partition(b"\n")
            version = int(head)
            message = orjson.loads(body)
            tags: list[str] = message["tags"]
            keys: list[str] = message["keys"]
            origin = message["origin"]
        except (ValueError, TypeError, KeyError) as exc:
            self.log.warning("cache.message_invalid", error=str(exc))
            return

        if tags:
            self.tags.observe(dict.fromkeys(tags, version))
        if GLOBAL_TAG in tags:
            self.l1.clear()
        if origin == self.instance_id:
            return

        for key in keys:
            entry = self.l1.delete(key)
            if entry is not None:
                self.hooks.on_invalidation(entry.namespace, "key")

    def _forget_local_state(self) -> None:
        # Messages sent while no subscription was active are lost, so the
        # entries in L1 may be stale. Start over from Redis.
        self.l1.clear()
        self.tags.clear()
        logger.info("cache.listener_subscribed")

    def _count_eviction(self, entry: Entry) -> None:
        self.hooks.on_eviction(entry.namespace)

    def _count_listener_error(self, exc: BaseException) -> None:
        self.hooks.on_redis_error("", "listen")
        self.log.warning("cache.listener_failed", error=str(exc))


def _create_redis_store(
    url: str,
    *,
    key_prefix: str,
    timeout_seconds: float,
    max_connections: int,
    tag_version_ttl_seconds: float,
) -> RedisStore | None:
    scheme, separator, _ = url.partition("://")
    if not separator or scheme not in SUPPORTED_SCHEMES:
        # Show the scheme only: the rest of a Redis URL may hold a password.
        msg = (
            f"unsupported cache URL scheme {scheme!r}; "
            f"use memory:// or redis://host:port/db"
        )
        raise ValueError(msg)

    if scheme == "memory":
        return None

    return RedisStore(
        url,
        key_prefix=key_prefix,
        timeout_seconds=timeout_seconds,
        max_connections=max_connections,
        tag_version_ttl_seconds=tag_version_ttl_seconds,
    )
