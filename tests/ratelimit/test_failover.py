"""Redis outages: the local limiter decides, then Redis again once it is back."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from livify.ratelimit import Limit, Policies, RateLimiter, Request
from livify.ratelimit._redis import RedisStore
from tests.cache.redis_server import RedisServer
from tests.ratelimit.conftest import FakeClock


class RecordingHooks:
    def __init__(self) -> None:
        self.store_errors = 0
        self.fallback: list[bool] = []

    def on_decision(self, limit: str, outcome: str) -> None:
        pass

    def on_store_error(self, store: str) -> None:
        self.store_errors += 1

    def on_fallback_change(self, is_active: bool) -> None:
        self.fallback.append(is_active)


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def make_limiter(
    server: RedisServer, clock: FakeClock, hooks: RecordingHooks, **options: object
) -> RateLimiter:
    limit = Limit("api", 3, 60.0, key="ip", block_ratio=1.0)
    return RateLimiter(
        Policies(limits=(limit,)),
        store=RedisStore(server.url, timeout_seconds=0.2),
        cooldown_seconds=0.2,
        clock=clock,
        hooks=hooks,
        **options,  # type: ignore[arg-type]
    )


async def test_redis_down_falls_back_and_recovers(
    redis_server: RedisServer, clock: FakeClock
) -> None:
    """A stopped Redis moves decisions to the local limiter, and back after restart."""
    hooks = RecordingHooks()
    limiter = make_limiter(redis_server, clock, hooks)
    request = Request("192.0.2.1")
    try:
        assert (await limiter.decide(request)).is_allowed

        redis_server.stop()
        local = [(await limiter.decide(request)).is_allowed for _ in range(4)]

        assert local == [True, True, True, False]
        assert limiter.is_fallback_active
        assert hooks.fallback == [True]
        assert hooks.store_errors == 1

        redis_server.start()
        await asyncio.sleep(0.25)  # the cooldown runs on the monotonic clock
        # Redis restarted empty, so the count starts over there.
        shared = [(await limiter.decide(request)).is_allowed for _ in range(4)]

        assert shared == [True, True, True, False]
        assert not limiter.is_fallback_active
        assert hooks.fallback == [True, False]
    finally:
        await limiter.aclose()


async def test_redis_down_fail_closed(
    redis_server: RedisServer, clock: FakeClock
) -> None:
    """With on_store_error='reject' an outage rejects with a Retry-After."""
    limiter = make_limiter(
        redis_server, clock, RecordingHooks(), on_store_error="reject"
    )
    try:
        redis_server.stop()
        decision = await limiter.decide(Request("192.0.2.1"))

        assert not decision.is_allowed
        assert decision.retry_after_header >= 1
    finally:
        await limiter.aclose()


async def test_redis_paused_times_out(
    redis_server: RedisServer, clock: FakeClock
) -> None:
    """A frozen Redis costs one timeout, then the circuit keeps requests local."""
    hooks = RecordingHooks()
    limiter = make_limiter(redis_server, clock, hooks)
    try:
        await limiter.decide(Request("192.0.2.1"))
        redis_server.pause()
        started = time.monotonic()
        decisions = [await limiter.decide(Request("192.0.2.1")) for _ in range(5)]
        elapsed = time.monotonic() - started

        assert all(decision.is_allowed for decision in decisions[:2])
        assert elapsed < 1.0
        assert hooks.store_errors == 1
    finally:
        redis_server.resume()
        await limiter.aclose()
