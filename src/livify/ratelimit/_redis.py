"""The Redis store: a script call per counter, one round trip per request.

Each algorithm is a Lua script, so a decision reads and updates its counter
atomically on the server, and every key it writes carries a TTL. A key is
`<prefix>{<policy>:<dimension value>}[:<window index>]`: the braces are a
Redis Cluster hash tag, so the keys of one counter (the sliding window's
two windows) live in one slot. Commands run under `timeout_seconds` with
redis-py's retries off, and failures become `StoreError`.

A request that meets several limits sends one `EVALSHA` per counter in a
single pipeline. One script over every counter would save the server a
few calls, but its keys would span hash slots, which Redis Cluster
rejects. The store calls `EVALSHA` itself rather than through redis-py's
`Script` objects, because redis-py 8.2 runs `SCRIPT EXISTS` as a round
trip of its own before every pipeline that contains a script. A server that
answers NOSCRIPT (after a restart or `SCRIPT FLUSH`) gets the script
loaded, and only the counters it refused are charged again.
"""

from __future__ import annotations

import hashlib
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
        from redis.exceptions import NoScriptError

        client, errors = connect_redis(
            url,
            timeout_seconds=timeout_seconds,
            max_connections=max_connections,
            purpose="rate limit store",
        )
        self.url = url
        self.timeout_seconds = timeout_seconds
        self._errors = errors
        self._no_script_error = NoScriptError
        self.client: Any = client
        self._scripts = {name: module.SCRIPT for name, module in ALGORITHMS.items()}
        # The SHA1 digest of a script is its name for EVALSHA.
        self._shas = {
            name: hashlib.sha1(script.encode(), usedforsecurity=False).hexdigest()
            for name, script in self._scripts.items()
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
            return [await self._evalsha(hits[0].algorithm, keys, args)]

        # Not a transaction: each script is atomic on its own, and a
        # MULTI over keys in different hash slots would fail under Cluster.
        async with self.client.pipeline(transaction=False) as pipe:
            for hit, (keys, args, _) in zip(hits, calls, strict=True):
                pipe.evalsha(self._shas[hit.algorithm], len(keys), *keys, *args)
            replies: list[Any] = await pipe.execute(raise_on_error=False)

        for index, reply in enumerate(replies):
            if isinstance(reply, self._no_script_error):
                keys, args, _ = calls[index]
                replies[index] = await self._evalsha(hits[index].algorithm, keys, args)
            elif isinstance(reply, Exception):
                raise reply
        return replies

    async def _evalsha(self, algorithm: str, keys: list[str], args: list[Any]) -> Any:
        """Run one algorithm's script, loading it first if the server lacks it."""
        try:
            return await self.client.evalsha(
                self._shas[algorithm], len(keys), *keys, *args
            )
        except self._no_script_error:
            self._shas[algorithm] = await self.client.script_load(
                self._scripts[algorithm]
            )
            return await self.client.evalsha(
                self._shas[algorithm], len(keys), *keys, *args
            )

    async def aclose(self) -> None:
        await self.client.aclose(close_connection_pool=True)
