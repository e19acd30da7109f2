"""The Redis store: a script call per counter, one round trip per request.

Each algorithm is a Lua script, so a decision reads and updates its counter
atomically on the server, and every key it writes carries a TTL. A key is
`<prefix>{<policy>:<dimension value>}[:<window index>]`: the braces are a
Redis Cluster hash tag, so the keys of one counter (the sliding window's
two windows) live in one slot. Commands run under `timeout_seconds` with
redis-py's retries off, and failures become `StoreError`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from livify.ratelimit._algorithms import ALGORITHMS
from livify.ratelimit._exceptions import StoreError
from livify.ratelimit._types import Hit, Usage
from livify.redis_client import connect_redis

DEFAULT_REDIS_TIMEOUT_SECONDS = 0.1
DEFAULT_REDIS_MAX_CONNECTIONS = 50


class RedisStore:
    """Run the algorithms' scripts on Redis at `url` (`redis://host:port/db`).

    The `redis` package is imported here, so `livify.ratelimit` works
    without it when only `memory://` is used. Instances share counters
    through the server; their clocks should agree (NTP), because the client
    sends its own time and a skew of s seconds shifts window edges by s.
    """

    def __init__(
        self,
        url: str,
        *,
        timeout_seconds: float = DEFAULT_REDIS_TIMEOUT_SECONDS,
        max_connections: int = DEFAULT_REDIS_MAX_CONNECTIONS,
    ) -> None:
        client, errors = connect_redis(
            url,
            timeout_seconds=timeout_seconds,
            max_connections=max_connections,
            purpose="rate limit store",
        )
        self.url = url
        self.timeout_seconds = timeout_seconds
        self._errors = errors
        self.client: Any = client
        self._scripts = {
            name: self.client.register_script(module.SCRIPT)
            for name, module in ALGORITHMS.items()
        }

    async def hit(self, hits: Sequence[Hit], now: float) -> list[Usage]:
        """Charge every hit at time `now` in one pipelined round trip.

        Raise `StoreError` when Redis fails or does not answer in time.
        """
        calls = [ALGORITHMS[hit.algorithm].redis_call(hit, now) for hit in hits]
        try:
            replies = await self._run(hits, calls)
        except self._errors as exc:
            msg = f"rate limit script failed on {self.url!r}: {exc}"
            raise StoreError(msg) from exc

        return [
            ALGORITHMS[hit.algorithm].parse_reply(reply, hit, context)
            for hit, (_, _, context), reply in zip(hits, calls, replies, strict=True)
        ]

    async def _run(
        self, hits: Sequence[Hit], calls: list[tuple[list[str], list[Any], float]]
    ) -> list[Any]:
        if len(hits) == 1:
            keys, args, _ = calls[0]
            return [await self._scripts[hits[0].algorithm](keys=keys, args=args)]

        # Not a transaction: each script is atomic on its own, and a
        # MULTI over keys in different hash slots would fail under Cluster.
        async with self.client.pipeline(transaction=False) as pipe:
            for hit, (keys, args, _) in zip(hits, calls, strict=True):
                await self._scripts[hit.algorithm](keys=keys, args=args, client=pipe)
            return list(await pipe.execute())

    async def aclose(self) -> None:
        await self.client.aclose(close_connection_pool=True)
