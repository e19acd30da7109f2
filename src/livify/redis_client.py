"""One way to open a redis-py asyncio client for the toolkit's Redis stores.

Every command gets the same short timeout and no retries, because a store's
caller has a local fallback and would rather use it than wait. The `redis`
package is imported here, when a Redis store is built, so that toolkit
packages work without it on their in-memory backends.
"""

from __future__ import annotations

from typing import Any


def connect_redis(
    url: str, *, timeout_seconds: float, max_connections: int, purpose: str
) -> tuple[Any, tuple[type[BaseException], ...]]:
    """Return a client for `url` and the exceptions its commands may raise.

    `purpose` names the store in the error raised when redis-py is missing.
    Raises ValueError for a timeout that is not positive.
    """
    if timeout_seconds <= 0:
        msg = f"timeout_seconds must be positive, got {timeout_seconds!r}"
        raise ValueError(msg)

    try:
        import redis.asyncio as redis_asyncio
        from redis.asyncio.retry import Retry
        from redis.backoff import NoBackoff
        from redis.exceptions import RedisError
    except ImportError as exc:
        msg = f"the redis:// {purpose} needs the redis package; install livify[redis]"
        raise ImportError(msg) from exc

    pool = redis_asyncio.BlockingConnectionPool.from_url(
        url,
        max_connections=max_connections,
        timeout=timeout_seconds,
        socket_timeout=timeout_seconds,
        socket_connect_timeout=timeout_seconds,
        retry=Retry(NoBackoff(), 0),
    )
    client = redis_asyncio.Redis(connection_pool=pool, retry=Retry(NoBackoff(), 0))
    return client, (RedisError, OSError, TimeoutError)
