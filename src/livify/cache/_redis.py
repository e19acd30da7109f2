"""L2: entries, tag versions, leases and invalidation messages in Redis.

Every command runs under a timeout of `timeout_seconds` (socket, connection
pool and the whole call), and redis-py's own retries are off, so a Redis
that is down or slow costs a caller at most one timeout. Failures become
`BackendError`.

NOTE: the invalidation script touches several keys in one call, so it needs
a single Redis server (or a primary with replicas), not Redis Cluster.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Any, TypeVar

import orjson

from livify.cache._exceptions import BackendError
from livify.redis_client import connect_redis

R = TypeVar("R")

DEFAULT_REDIS_TIMEOUT_SECONDS = 0.1
DEFAULT_REDIS_MAX_CONNECTIONS = 50
# Tag versions must outlive every entry that recorded them: once a tag's key
# expires its version reads as 0 again, which an entry written before the
# first invalidation of that tag would match.
DEFAULT_TAG_VERSION_TTL_SECONDS = 7 * 24 * 3600.0

# KEYS: the version counter, then `ARGV[2]` tag keys, then entry keys to
# delete. ARGV: tag key TTL in seconds, tag count, channel, message body.
# Every tag of one call gets the same new version from the counter.
_INVALIDATE_SCRIPT = """
local tag_count = tonumber(ARGV[2])
local version = 0
if tag_count > 0 then
    version = redis.call('INCR', KEYS[1])
    for i = 2, tag_count + 1 do
        redis.call('SET', KEYS[i], version, 'EX', ARGV[1])
    end
end
for i = tag_count + 2, #KEYS do
    redis.call('DEL', KEYS[i])
end
redis.call('PUBLISH', ARGV[3], version .. '\\n' .. ARGV[4])
return version
"""

# Delete the lease only if this holder's token still owns it.
_RELEASE_SCRIPT = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
    return redis.call('DEL', KEYS[1])
end
return 0
"""


class RedisStore:
    """Run the cache's Redis commands with timeouts, under one key prefix.

    `url` is `redis://host:port/db` (or `rediss://`, `unix://`). The `redis`
    package is imported here, so `livify.cache` works without it when only
    L1 is used.
    """

    def __init__(
        self,
        url: str,
        *,
        key_prefix: str,
        timeout_seconds: float = DEFAULT_REDIS_TIMEOUT_SECONDS,
        max_connections: int = DEFAULT_REDIS_MAX_CONNECTIONS,
        tag_version_ttl_seconds: float = DEFAULT_TAG_VERSION_TTL_SECONDS,
    ) -> None:
        client, errors = connect_redis(
            url,
            timeout_seconds=timeout_seconds,
            max_connections=max_connections,
            purpose="cache backend",
        )
        self.url = url
        self.key_prefix = key_prefix
        self.timeout_seconds = timeout_seconds
        self.tag_version_ttl_seconds = tag_version_ttl_seconds
        self.channel = f"{key_prefix}invalidations"
        self._counter_key = f"{key_prefix}tag-counter"
        self._errors = errors
        self.client: Any = client
        self._invalidate = self.client.register_script(_INVALIDATE_SCRIPT)
        self._release = self.client.register_script(_RELEASE_SCRIPT)

    def tag_key(self, tag: str) -> str:
        return f"{self.key_prefix}tag:{tag}"

    def entry_key(self, key: str) -> str:
        return f"{self.key_prefix}entry:{key}"

    def lease_key(self, key: str) -> str:
        return f"{self.key_prefix}lease:{key}"

    async def read(
        self, key: str, tags: Sequence[str]
    ) -> tuple[bytes | None, dict[str, int], int]:
        """Return the bytes under `key`, the versions of `tags` and the counter.

        One round trip. A tag that was never invalidated has version 0. The
        counter is the highest version given so far: a tag invalidated after
        this read gets a higher one.
        """

        async def call() -> tuple[bytes | None, dict[str, int], int]:
            data, *versions, counter = await self.client.mget(
                [key, *(self.tag_key(tag) for tag in tags), self._counter_key]
            )
            return data, _parse_versions(tags, versions), int(counter or 0)

        return await self._run("read", call)

    async def read_tag_versions(self, tags: Sequence[str]) -> dict[str, int]:
        """Return the current versions of `tags`."""

        async def call() -> dict[str, int]:
            versions = await self.client.mget([self.tag_key(tag) for tag in tags])
            return _parse_versions(tags, versions)

        return await self._run("read_tags", call)

    async def write(self, key: str, data: bytes, *, ttl_seconds: float) -> None:
        """Store `data` under `key`; Redis drops it after `ttl_seconds`."""
        ttl_ms = max(1, int(ttl_seconds * 1000))
        await self._run("write", lambda: self.client.set(key, data, px=ttl_ms))

    async def invalidate(
        self, *, tags: Iterable[str], keys: Iterable[str], origin: str
    ) -> int:
        """Give `tags` a new version, delete the entries of `keys`, publish both.

        Return the new version, or 0 when `tags` is empty. The message on
        `channel` is the version, a newline, and JSON with `origin`, `tags`
        and `keys` (cache keys, without the Redis key prefix).
        """
        tag_list = list(tags)
        key_list = list(keys)
        message = orjson.dumps({"origin": origin, "tags": tag_list, "keys": key_list})
        script_keys = [
            self._counter_key,
            *(self.tag_key(tag) for tag in tag_list),
            *(self.entry_key(key) for key in key_list),
        ]
        script_args: list[str | int | bytes] = [
            int(self.tag_version_ttl_seconds),
            len(tag_list),
            self.channel,
            message,
        ]

        async def call() -> int:
            return int(await self._invalidate(keys=script_keys, args=script_args))

        return await self._run("invalidate", call)

    async def acquire_lease(self, key: str, token: str, *, ttl_seconds: float) -> bool:
        """Take the lease on `key` for `ttl_seconds` unless another holder has it."""
        ttl_ms = max(1, int(ttl_seconds * 1000))

        async def call() -> bool:
            return bool(
                await self.client.set(self.lease_key(key), token, nx=True, px=ttl_ms)
            )

        return await self._run("lease", call)

    async def release_lease(self, key: str, token: str) -> None:
        """Give up the lease on `key` if `token` still holds it."""
        lease_key = self.lease_key(key)
        await self._run("lease", lambda: self._release(keys=[lease_key], args=[token]))

    async def ping(self) -> None:
        await self._run("ping", self.client.ping)

    def pubsub(self) -> Any:
        """Return a new pub/sub object on its own connection."""
        return self.client.pubsub()

    def is_connection_error(self, exc: BaseException) -> bool:
        """Return whether `exc` is a Redis or socket error."""
        return isinstance(exc, self._errors)

    async def aclose(self) -> None:
        await self.client.aclose(close_connection_pool=True)

    async def _run(self, operation: str, call: Callable[[], Awaitable[R]]) -> R:
        try:
            async with asyncio.timeout(self.timeout_seconds):
                return await call()
        except TimeoutError as exc:
            msg = (
                f"Redis {operation} at {self.key_prefix!r} timed out after "
                f"{self.timeout_seconds!r} s"
            )
            raise BackendError(msg) from exc
        except self._errors as exc:
            msg = f"Redis {operation} at {self.key_prefix!r} failed: {exc}"
            raise BackendError(msg) from exc


def _parse_versions(
    tags: Sequence[str], versions: Sequence[bytes | None]
) -> dict[str, int]:
    return {
        tag: 0 if version is None else int(version)
        for tag, version in zip(tags, versions, strict=True)
    }
