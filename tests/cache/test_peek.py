"""Cache.peek: a fresh L1 copy or the default, never a wait, never outdated."""

from __future__ import annotations

import pytest

from livify.cache import LayeredCache, NotFound
from tests.cache.helpers import CountingLoader, FakeClock, RecordingHooks


async def test_peek_returns_fresh_copy(
    layers: LayeredCache,
) -> None:
    hooks = RecordingHooks()
    layers.hooks = hooks
    cache = layers.namespace("article")
    await cache.get_or_load("a1", CountingLoader({"title": "Hello"}))

    assert cache.peek("a1") == {"title": "Hello"}
    assert hooks.count("hit", "article", "l1") == 1


async def test_peek_never_loads(layers: LayeredCache) -> None:
    cache = layers.namespace("article")

    assert cache.peek("missing") is None
    assert cache.peek("missing", default="none") == "none"


async def test_peek_skips_an_entry_past_its_ttl(
    layers: LayeredCache, clock: FakeClock
) -> None:
    """A stale entry needs a refresh, which only get_or_load starts."""
    cache = layers.namespace(
        "article", ttl_seconds=10, stale_while_revalidate_seconds=30
    )
    await cache.get_or_load("a1", CountingLoader("v1"))

    clock.advance(11)

    assert cache.peek("a1") is None


async def test_peek_skips_a_cached_not_found(layers: LayeredCache) -> None:
    cache = layers.namespace("article")
    loader = CountingLoader(missing=True)
    with pytest.raises(NotFound):
        await cache.get_or_load("gone", loader)

    assert cache.peek("gone", default="none") == "none"


async def test_invalidation_reaches_an_entry_read_many_times(
    layers: LayeredCache,
) -> None:
    """Repeated hits remember the tag check; an invalidation still ends it."""
    cache = layers.namespace("article")
    await cache.get_or_load("a1", CountingLoader("v1"), tags=["article:1"])
    for _ in range(3):
        assert cache.peek("a1") == "v1"

    await layers.invalidate_tags(["article:1"])

    assert cache.peek("a1") is None
    reloaded = await cache.get_or_load("a1", CountingLoader("v2"), tags=["article:1"])
    assert reloaded == "v2"
    assert cache.peek("a1") == "v2"


async def test_unrelated_invalidation_keeps_the_entry(layers: LayeredCache) -> None:
    cache = layers.namespace("article")
    await cache.get_or_load("a1", CountingLoader("v1"), tags=["article:1"])
    assert cache.peek("a1") == "v1"

    await layers.invalidate_tags(["article:2"])

    assert cache.peek("a1") == "v1"
