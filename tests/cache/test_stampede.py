"""Stampede protection: single-flight, leases, early refresh and stale serving."""

from __future__ import annotations

import asyncio
import time

import pytest

from livify.cache import LayeredCache
from tests.cache.conftest import MakeLayers
from tests.cache.helpers import CountingLoader, FakeClock, RecordingHooks, wait_until

CONCURRENT_READS = 300


async def test_concurrent_misses_load_once(layers: LayeredCache) -> None:
    """Hundreds of concurrent misses on one key run the loader once."""
    hooks = RecordingHooks()
    layers.hooks = hooks
    cache = layers.namespace("article")
    loader = CountingLoader({"title": "hot"}, delay_seconds=0.02)

    values = await asyncio.gather(
        *(cache.get_or_load("hot", loader) for _ in range(CONCURRENT_READS))
    )

    assert loader.calls == 1
    assert values == [{"title": "hot"}] * CONCURRENT_READS
    assert hooks.count("load", "article", "ok") == 1
    assert hooks.count("miss", "article") == CONCURRENT_READS


async def test_loader_error_reaches_all_waiters(layers: LayeredCache) -> None:
    """Every caller waiting on a failed load gets its exception."""
    cache = layers.namespace("article")
    calls = 0

    async def failing() -> str:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0.01)
        raise RuntimeError("database down")

    results = await asyncio.gather(
        *(cache.get_or_load("k", failing) for _ in range(20)), return_exceptions=True
    )

    assert calls == 1
    assert all(isinstance(result, RuntimeError) for result in results)


async def test_cancelled_waiter_keeps_load_running(layers: LayeredCache) -> None:
    """Cancelling the caller that started a load does not cancel it for others."""
    cache = layers.namespace("article")
    loader = CountingLoader("value", delay_seconds=0.05)
    first = asyncio.create_task(cache.get_or_load("k", loader))
    await asyncio.sleep(0.01)
    second = asyncio.create_task(cache.get_or_load("k", loader))
    await asyncio.sleep(0)

    first.cancel()

    assert await second == "value"
    assert loader.calls == 1
    with pytest.raises(asyncio.CancelledError):
        await first


async def test_lease_shares_load_across_processes(
    make_redis_layers: MakeLayers,
) -> None:
    """Two processes sharing Redis run one load between them, under a lease."""
    first = await make_redis_layers()
    second = await make_redis_layers()
    loader = CountingLoader({"title": "expensive"}, delay_seconds=0.05)
    caches = [
        layers.namespace("report", lease_ttl_seconds=2) for layers in (first, second)
    ]

    values = await asyncio.gather(
        *(
            cache.get_or_load("monthly", loader)
            for _ in range(CONCURRENT_READS // 2)
            for cache in caches
        )
    )

    assert loader.calls == 1
    assert values == [{"title": "expensive"}] * CONCURRENT_READS


async def test_lease_wait_is_bounded(make_redis_layers: MakeLayers) -> None:
    """When the lease holder never stores a value, the waiter loads after the wait."""
    layers = await make_redis_layers()
    cache = layers.namespace("report", lease_ttl_seconds=10, lease_wait_seconds=0.1)
    assert layers.redis is not None
    # A holder that took the lease and then died without storing anything.
    await layers.redis.acquire_lease("report:v1:monthly", "dead", ttl_seconds=10)
    loader = CountingLoader("loaded anyway")

    started = time.perf_counter()
    value = await cache.get_or_load("monthly", loader)
    elapsed = time.perf_counter() - started

    assert value == "loaded anyway"
    assert loader.calls == 1
    assert 0.1 <= elapsed < 1.0


class SlowLoader(CountingLoader):
    """A loader whose load takes `load_seconds` on the injected clock."""

    def __init__(self, clock: FakeClock, load_seconds: float) -> None:
        super().__init__()
        self.clock = clock
        self.load_seconds = load_seconds

    async def __call__(self) -> str:
        self.calls += 1
        self.clock.advance(self.load_seconds)
        return f"v{self.calls}"


async def test_early_refresh_near_expiry(
    make_layers: MakeLayers, clock: FakeClock
) -> None:
    """Close to expiry, XFetch refreshes in the background and serves the old value."""
    # u = 0.5 gives an XFetch gap of load time * beta * ln 2 = 1.39 s here.
    layers = await make_layers(random=lambda: 0.5)
    cache = layers.namespace("article", ttl_seconds=60, early_refresh_beta=1.0)
    loader = SlowLoader(clock, load_seconds=2.0)
    await cache.get_or_load("k", loader)

    clock.advance(58.0)
    assert await cache.get_or_load("k", loader) == "v1"
    assert loader.calls == 1

    clock.advance(1.0)
    assert await cache.get_or_load("k", loader) == "v1"
    await wait_until(lambda: loader.calls == 2 and len(layers.flights) == 0)

    assert await cache.get_or_load("k", loader) == "v2"
    assert loader.calls == 2


async def test_early_refresh_off_with_zero_beta(
    make_layers: MakeLayers, clock: FakeClock
) -> None:
    """With early_refresh_beta=0 an entry is served until it expires."""
    layers = await make_layers(random=lambda: 0.999)
    cache = layers.namespace("article", ttl_seconds=60, early_refresh_beta=0)
    loader = SlowLoader(clock, load_seconds=30.0)
    await cache.get_or_load("k", loader)

    clock.advance(59.9)
    assert await cache.get_or_load("k", loader) == "v1"
    await asyncio.sleep(0.01)

    assert loader.calls == 1


async def test_stale_served_while_revalidating(
    make_layers: MakeLayers, clock: FakeClock
) -> None:
    """An expired entry inside its stale window is served while one refresh runs."""
    hooks = RecordingHooks()
    layers = await make_layers(hooks=hooks, l1_ttl_seconds=60)
    cache = layers.namespace(
        "tag_list", ttl_seconds=10, stale_while_revalidate_seconds=30
    )
    loader = CountingLoader("v1", delay_seconds=0.02)
    await cache.get_or_load("all", loader)
    loader.value = "v2"

    clock.advance(15)
    stale = await asyncio.gather(*(cache.get_or_load("all", loader) for _ in range(50)))
    assert stale == ["v1"] * 50
    await wait_until(lambda: loader.calls == 2 and len(layers.flights) == 0)

    assert await cache.get_or_load("all", loader) == "v2"
    assert loader.calls == 2
    assert hooks.count("stale", "tag_list") == 50


async def test_past_stale_window_loads(
    make_layers: MakeLayers, clock: FakeClock
) -> None:
    """After the stale window the reader waits for a fresh load."""
    layers = await make_layers(l1_ttl_seconds=60)
    cache = layers.namespace(
        "tag_list", ttl_seconds=10, stale_while_revalidate_seconds=30
    )
    loader = CountingLoader("v1")
    await cache.get_or_load("all", loader)
    loader.value = "v2"

    clock.advance(40)

    assert await cache.get_or_load("all", loader) == "v2"


async def test_failed_refresh_keeps_stale_entry(
    make_layers: MakeLayers, clock: FakeClock
) -> None:
    """A refresh that fails leaves the stale entry in use and counts an error."""
    hooks = RecordingHooks()
    layers = await make_layers(hooks=hooks, l1_ttl_seconds=60)
    cache = layers.namespace(
        "tag_list", ttl_seconds=10, stale_while_revalidate_seconds=30
    )
    await cache.get_or_load("all", CountingLoader("v1"))

    async def failing() -> str:
        raise RuntimeError("database down")

    clock.advance(15)
    assert await cache.get_or_load("all", failing) == "v1"
    await wait_until(lambda: hooks.count("load", "tag_list", "error") == 1)

    assert await cache.get_or_load("all", failing) == "v1"
