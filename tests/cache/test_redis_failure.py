"""Redis down or slow: reads fall back to L1 and the loader, then recover."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from structlog.testing import capture_logs

from livify.cache import LayeredCache
from tests.cache.conftest import layers_factory
from tests.cache.helpers import CountingLoader, FakeClock, RecordingHooks, wait_until
from tests.cache.redis_server import RedisServer

REDIS_TIMEOUT_SECONDS = 0.05
COOLDOWN_SECONDS = 1.0


@pytest.fixture
async def make_own_layers(
    own_redis: RedisServer, key_prefix: str, clock: FakeClock
) -> AsyncIterator[Callable[..., Any]]:
    """Build started LayeredCache objects on the test's own Redis server."""
    async with layers_factory(own_redis.url, key_prefix, clock) as make:

        async def make_with_short_timeouts(**options: Any) -> LayeredCache:
            options.setdefault("redis_timeout_seconds", REDIS_TIMEOUT_SECONDS)
            options.setdefault("circuit_cooldown_seconds", COOLDOWN_SECONDS)
            layers: LayeredCache = await make(**options)
            return layers

        yield make_with_short_timeouts


async def test_stopped_redis_serves_through_loader(
    make_own_layers: Callable[..., Any], own_redis: RedisServer
) -> None:
    """With Redis stopped, hits come from L1, misses from the loader, no errors."""
    hooks = RecordingHooks()
    layers: LayeredCache = await make_own_layers(hooks=hooks)
    cache = layers.namespace("article")
    loader = CountingLoader("value")
    await cache.get_or_load("cached", loader)

    own_redis.stop()
    started = time.perf_counter()
    with capture_logs() as logs:
        assert await cache.get_or_load("cached", loader) == "value"
        for index in range(10):
            assert await cache.get_or_load(f"miss-{index}", loader) == "value"
    elapsed = time.perf_counter() - started

    assert loader.calls == 11
    assert elapsed < 1.0
    assert not layers.is_redis_available
    assert hooks.count("redis_error", "article", "read") >= 1
    assert hooks.count("circuit", "open") == 1
    events = [log["event"] for log in logs]
    assert events.count("cache.redis_failed") == 1
    assert "cache.redis_circuit_opened" in events


async def test_redis_used_again_after_restart(
    make_own_layers: Callable[..., Any], own_redis: RedisServer, clock: FakeClock
) -> None:
    """After a restart and the cooldown, entries go to L2 again."""
    hooks = RecordingHooks()
    layers: LayeredCache = await make_own_layers(hooks=hooks)
    cache = layers.namespace("article")
    own_redis.stop()
    for index in range(5):
        await cache.get_or_load(f"miss-{index}", CountingLoader())
    assert not layers.is_redis_available

    own_redis.start()
    clock.advance(COOLDOWN_SECONDS)
    loader = CountingLoader("after restart")
    await cache.get_or_load("new", loader)

    assert layers.is_redis_available
    assert hooks.count("circuit", "closed") == 1
    other_hooks = RecordingHooks()
    other: LayeredCache = await make_own_layers(hooks=other_hooks)
    assert await other.namespace("article").get_or_load("new", loader) == (
        "after restart"
    )
    assert loader.calls == 1
    assert other_hooks.count("hit", "article", "l2") == 1


async def test_listener_resubscribes_after_restart(
    make_own_layers: Callable[..., Any], own_redis: RedisServer, clock: FakeClock
) -> None:
    """The pub/sub listener reconnects on its own and delivers invalidations."""
    reader_hooks = RecordingHooks()
    writer: LayeredCache = await make_own_layers()
    reader: LayeredCache = await make_own_layers(hooks=reader_hooks)
    assert reader.is_listening

    own_redis.stop()
    await wait_until(lambda: not reader.is_listening)
    own_redis.start()
    await wait_until(lambda: reader.is_listening, timeout_seconds=5.0)

    clock.advance(COOLDOWN_SECONDS)
    await writer.invalidate_tags(["article:1"])
    await wait_until(lambda: reader_hooks.count("message", "received") == 1)
    assert reader_hooks.count("redis_error", "", "listen") >= 1


async def test_slow_redis_times_out_quickly(
    make_own_layers: Callable[..., Any], own_redis: RedisServer
) -> None:
    """A frozen Redis costs each read at most about one timeout."""
    layers: LayeredCache = await make_own_layers(circuit_failure_threshold=1000)
    cache = layers.namespace("article")
    await cache.get_or_load("warm-up", CountingLoader())

    own_redis.pause()
    try:
        started = time.perf_counter()
        value = await cache.get_or_load("slow", CountingLoader("from loader"))
        elapsed = time.perf_counter() - started
    finally:
        own_redis.resume()

    assert value == "from loader"
    # One read timeout and one write timeout, plus scheduling slack.
    assert elapsed < 4 * REDIS_TIMEOUT_SECONDS + 0.1


async def test_invalidation_sent_after_outage(
    make_own_layers: Callable[..., Any], own_redis: RedisServer, clock: FakeClock
) -> None:
    """An invalidation made while Redis was frozen reaches L2 once it is back."""
    writer_hooks = RecordingHooks()
    writer: LayeredCache = await make_own_layers(
        hooks=writer_hooks, circuit_failure_threshold=1
    )
    reader: LayeredCache = await make_own_layers()
    loader = CountingLoader("v1")
    await writer.namespace("article").get_or_load("a1", loader, tags=["article:1"])

    own_redis.pause()
    try:
        await writer.invalidate_tags(["article:1"])
    finally:
        own_redis.resume()
    assert not writer.is_redis_available

    clock.advance(COOLDOWN_SECONDS)
    loader.value = "v2"
    # This read probes Redis, which closes the circuit and sends the
    # pending invalidation in the background.
    await writer.namespace("article").get_or_load("other", CountingLoader())
    await wait_until(lambda: writer_hooks.count("message", "sent") == 1)

    value = await reader.namespace("article").get_or_load(
        "a1", loader, tags=["article:1"]
    )
    assert value == "v2"
