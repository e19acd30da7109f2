"""The Redis store: same answers as memory, atomic across limiters, keys expire."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
import redis.asyncio as redis_asyncio

from livify.ratelimit import Hit, Limit, MemoryStore, Policies, RateLimiter, Request
from livify.ratelimit._redis import RedisStore
from tests.ratelimit.conftest import REDIS_URL, FakeClock

ALGORITHMS = ["fixed_window", "sliding_window", "gcra"]


@pytest.mark.parametrize("algorithm", ALGORITHMS)
async def test_redis_matches_memory(algorithm: str, key_prefix: str) -> None:
    """A sequence of hits gets the same decisions from Redis and from memory."""
    redis_store = RedisStore(REDIS_URL)
    memory = MemoryStore()
    hit = Hit(algorithm, f"{key_prefix}{{k}}", 5, 6, 10.0, 1)  # type: ignore[arg-type]
    now = 1_000_003.0
    try:
        for step in range(30):
            now += 0.7 if step % 3 else 0.1
            (remote,) = await redis_store.hit([hit], now)
            local = memory.hit_now(hit, now)

            assert remote.is_allowed == local.is_allowed, step
            assert remote.used == pytest.approx(local.used, abs=1e-3), step
            assert remote.retry_after_seconds == pytest.approx(
                local.retry_after_seconds, abs=1e-3
            ), step
    finally:
        await redis_store.aclose()


@pytest.mark.parametrize("algorithm", ALGORITHMS)
async def test_redis_keys_expire(algorithm: str, key_prefix: str) -> None:
    """Every key a script writes has a TTL."""
    redis_store = RedisStore(REDIS_URL)
    hit = Hit(algorithm, f"{key_prefix}{{k}}", 5, 5, 10.0, 1)  # type: ignore[arg-type]
    client = redis_asyncio.Redis.from_url(REDIS_URL)
    try:
        await redis_store.hit([hit], 1_000_000.0)
        keys = [key async for key in client.scan_iter(match=f"{key_prefix}*")]

        assert keys
        for key in keys:
            assert 0 < await client.pttl(key) <= 31_000
    finally:
        await client.aclose()
        await redis_store.aclose()


@pytest.mark.parametrize("algorithm", ALGORITHMS)
async def test_two_limiters_admit_exactly_limit(
    algorithm: str, key_prefix: str
) -> None:
    """Two limiters sharing Redis admit exactly 100 of 200 concurrent requests."""
    limit = Limit("api", 100, 60.0, key="ip", algorithm=algorithm, block_ratio=1.0)  # type: ignore[arg-type]
    limiters = [
        RateLimiter(
            Policies(limits=(limit,)),
            store=RedisStore(REDIS_URL, timeout_seconds=2.0),
            key_prefix=key_prefix,
            clock=FakeClock(),
        )
        for _ in range(2)
    ]
    request = Request("192.0.2.7")
    try:
        decisions = await asyncio.gather(
            *(limiters[index % 2].decide(request) for index in range(200))
        )
    finally:
        for limiter in limiters:
            await limiter.aclose()

    assert sum(decision.is_allowed for decision in decisions) == 100
    assert not any(limiter.is_fallback_active for limiter in limiters)


async def test_keys_share_hash_tag(key_prefix: str) -> None:
    """A counter's keys carry one `{policy:value}` hash tag for Redis Cluster."""
    limit = Limit("api", 5, 10.0, key="ip", algorithm="sliding_window")
    limiter = RateLimiter(
        Policies(limits=(limit,)),
        store=RedisStore(REDIS_URL),
        key_prefix=key_prefix,
        clock=FakeClock(),
    )
    client = redis_asyncio.Redis.from_url(REDIS_URL)
    try:
        for _ in range(2):
            await limiter.decide(Request("192.0.2.7"))
        keys = [key async for key in client.scan_iter(match=f"{key_prefix}*")]
    finally:
        await client.aclose()
        await limiter.aclose()

    assert keys
    assert all(b"{api:192.0.2.7}" in key for key in keys)


async def test_one_round_trip_per_request(
    key_prefix: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A request meeting three limits costs one round trip once its scripts load."""
    limits = (
        Limit("per-ip", 50, 10.0, key="ip", algorithm="fixed_window"),
        Limit("per-route", 50, 10.0, key="route", algorithm="sliding_window"),
        Limit("everyone", 50, 10.0, key="global", algorithm="gcra"),
    )
    limiter = RateLimiter(
        Policies(limits=limits),
        store=RedisStore(REDIS_URL),
        key_prefix=key_prefix,
        clock=FakeClock(),
    )
    sends = 0
    send_packed_command = redis_asyncio.Connection.send_packed_command

    async def counting_send(
        self: redis_asyncio.Connection, *args: Any, **kwargs: Any
    ) -> None:
        nonlocal sends
        sends += 1
        await send_packed_command(self, *args, **kwargs)

    try:
        await limiter.decide(Request("192.0.2.7"))
        monkeypatch.setattr(
            redis_asyncio.Connection, "send_packed_command", counting_send
        )
        decisions = [await limiter.decide(Request("192.0.2.7")) for _ in range(5)]
    finally:
        monkeypatch.undo()
        await limiter.aclose()

    assert sends == 5
    assert all(len(decision.results) == 3 for decision in decisions)
    assert all(decision.is_allowed for decision in decisions)
    assert not limiter.is_fallback_active


@pytest.mark.parametrize("hit_count", [1, 3])
async def test_missing_scripts_are_loaded(key_prefix: str, hit_count: int) -> None:
    """A script the server lacks (NOSCRIPT) is loaded, and each hit counts once."""
    store = RedisStore(REDIS_URL)
    hits = [
        Hit(algorithm, f"{key_prefix}{{k{index}}}", 5, 5, 10.0)  # type: ignore[arg-type]
        for index, algorithm in enumerate(ALGORITHMS[:hit_count])
    ]
    memory = MemoryStore()
    try:
        await store.hit(hits, 1_000_000.0)
        # A SHA the server has never seen, as after a restart or SCRIPT FLUSH
        # (which would also disturb other clients of this server).
        store._shas = dict.fromkeys(store._shas, "0" * 40)
        remote = await store.hit(hits, 1_000_001.0)
    finally:
        await store.aclose()

    for hit in hits:
        memory.hit_now(hit, 1_000_000.0)
    local = [memory.hit_now(hit, 1_000_001.0) for hit in hits]
    assert [usage.used for usage in remote] == pytest.approx(
        [usage.used for usage in local], abs=1e-3
    )
    assert all(usage.is_allowed for usage in remote)
