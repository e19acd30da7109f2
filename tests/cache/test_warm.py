"""Cache.warm: preload keys before traffic arrives."""

from __future__ import annotations

import asyncio

import pytest

from livify.cache import LayeredCache, WarmItem
from tests.cache.helpers import CountingLoader


async def test_warm_loads_then_skips_cached(layers: LayeredCache) -> None:
    """A first run loads every key; a second run finds them cached."""
    cache = layers.namespace("article")
    loaders = {f"a{index}": CountingLoader(index) for index in range(20)}
    items = [WarmItem(key, loader) for key, loader in loaders.items()]

    first = await cache.warm(items)
    second = await cache.warm(items)

    assert first.loaded == 20
    assert second.loaded == 0
    assert second.cached == 20
    assert all(loader.calls == 1 for loader in loaders.values())
    assert await cache.get("a7") == 7


async def test_warm_refresh_reloads_every_key(layers: LayeredCache) -> None:
    """With refresh=True every key is loaded again."""
    cache = layers.namespace("article")
    loader = CountingLoader("v1")
    await cache.warm([WarmItem("a1", loader)])
    loader.value = "v2"

    report = await cache.warm([WarmItem("a1", loader)], refresh=True)

    assert report.loaded == 1
    assert loader.calls == 2
    assert await cache.get("a1") == "v2"


async def test_warm_counts_failures_and_goes_on(layers: LayeredCache) -> None:
    """Not-found and failing loaders are counted and do not stop the run."""
    cache = layers.namespace("article")

    async def failing() -> str:
        raise RuntimeError("database down")

    report = await cache.warm(
        [
            WarmItem("ok", CountingLoader()),
            WarmItem("gone", CountingLoader(missing=True)),
            WarmItem("broken", failing),
        ]
    )

    assert report.loaded == 1
    assert report.not_found == 1
    assert report.failed == 1


async def test_warm_limits_concurrency(layers: LayeredCache) -> None:
    """No more than `concurrency` loaders run at once."""
    cache = layers.namespace("article")
    running = 0
    max_running = 0

    async def loader() -> int:
        nonlocal running, max_running
        running += 1
        max_running = max(max_running, running)
        await asyncio.sleep(0.005)
        running -= 1
        return 1

    await cache.warm([WarmItem(f"a{i}", loader) for i in range(30)], concurrency=4)

    assert max_running == 4


async def test_warm_tags_apply(layers: LayeredCache) -> None:
    """Warmed entries carry their tags and are invalidated by them."""
    cache = layers.namespace("article")
    loader = CountingLoader()
    await cache.warm([WarmItem("a1", loader, tags=["article:1"])])

    await layers.invalidate_tags(["article:1"])
    await cache.get_or_load("a1", loader, tags=["article:1"])

    assert loader.calls == 2


async def test_warm_rejects_zero_concurrency(layers: LayeredCache) -> None:
    """concurrency below 1 raises ValueError."""
    with pytest.raises(ValueError, match="concurrency"):
        await layers.namespace("article").warm([], concurrency=0)
