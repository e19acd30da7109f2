"""Invalidation by tag, by key and of everything, in this process and others."""

from __future__ import annotations

import pytest

from livify.cache import LayeredCache, NotFound
from tests.cache.conftest import MakeLayers
from tests.cache.helpers import CountingLoader, FakeClock, RecordingHooks, wait_until


async def test_tag_invalidation_reloads_entry(layers: LayeredCache) -> None:
    """Invalidating any tag of an entry makes the next read load again."""
    cache = layers.namespace("article")
    loader = CountingLoader("v1")
    tags = ["article:1", "author:2"]
    await cache.get_or_load("a1", loader, tags=tags)

    await layers.invalidate_tags(["author:2"])
    loader.value = "v2"

    assert await cache.get_or_load("a1", loader, tags=tags) == "v2"
    assert loader.calls == 2


async def test_unrelated_tag_keeps_entry(layers: LayeredCache) -> None:
    """Invalidating a tag the entry does not carry leaves it cached."""
    cache = layers.namespace("article")
    loader = CountingLoader()
    await cache.get_or_load("a1", loader, tags=["article:1"])

    await layers.invalidate_tags(["article:2"])
    await cache.get_or_load("a1", loader, tags=["article:1"])

    assert loader.calls == 1


async def test_tag_spans_namespaces(layers: LayeredCache) -> None:
    """One tag invalidates its entries in every namespace."""
    articles = layers.namespace("article")
    pages = layers.namespace("article_page")
    article_loader = CountingLoader()
    page_loader = CountingLoader()
    await articles.get_or_load("a1", article_loader, tags=["author:2"])
    await pages.get_or_load("p1", page_loader, tags=["author:2"])

    await articles.invalidate_tags(["author:2"])
    await articles.get_or_load("a1", article_loader, tags=["author:2"])
    await pages.get_or_load("p1", page_loader, tags=["author:2"])

    assert article_loader.calls == 2
    assert page_loader.calls == 2


async def test_invalidation_during_load_wins(layers: LayeredCache) -> None:
    """A value loaded while its tag was invalidated is not served afterwards."""
    cache = layers.namespace("article")
    values = iter(["before the write", "after the write"])

    async def loader_racing_a_write() -> str:
        value = next(values)
        if value == "before the write":
            # The write commits and invalidates after this load read the row.
            await layers.invalidate_tags(["article:1"])
        return value

    first = await cache.get_or_load("a1", loader_racing_a_write, tags=["article:1"])
    second = await cache.get_or_load("a1", loader_racing_a_write, tags=["article:1"])

    assert first == "before the write"
    assert second == "after the write"


async def test_tags_from_loaded_value(layers: LayeredCache) -> None:
    """Tags computed from the value invalidate like tags named up front."""
    cache = layers.namespace("article")
    loader = CountingLoader({"slug": "hello", "author_id": 7})

    def tags_of(article: dict[str, object]) -> list[str]:
        return [f"author:{article['author_id']}"]

    await cache.get_or_load("hello", loader, tags=tags_of)
    await cache.get_or_load("hello", loader, tags=tags_of)
    assert loader.calls == 1

    await layers.invalidate_tags(["author:7"])
    await cache.get_or_load("hello", loader, tags=tags_of)
    assert loader.calls == 2


async def test_late_tag_changed_during_load(layers: LayeredCache) -> None:
    """A value whose computed tag changed while loading is returned, not stored."""
    cache = layers.namespace("article")
    calls = 0

    async def loader_racing_a_write() -> dict[str, int]:
        nonlocal calls
        calls += 1
        if calls == 1:
            await layers.invalidate_tags(["author:7"])
        return {"author_id": 7, "call": calls}

    def tags_of(article: dict[str, int]) -> list[str]:
        return [f"author:{article['author_id']}"]

    first = await cache.get_or_load("hello", loader_racing_a_write, tags=tags_of)
    second = await cache.get_or_load("hello", loader_racing_a_write, tags=tags_of)
    third = await cache.get_or_load("hello", loader_racing_a_write, tags=tags_of)

    assert first == {"author_id": 7, "call": 1}
    assert second == {"author_id": 7, "call": 2}
    assert third == second


async def test_string_tags_raise_type_error(layers: LayeredCache) -> None:
    """A bare string as `tags` is rejected instead of read as characters."""
    cache = layers.namespace("article")

    with pytest.raises(TypeError, match="wrap it"):
        await cache.get_or_load("a1", CountingLoader(), tags="article:1")


async def test_invalidate_all_drops_everything(layers: LayeredCache) -> None:
    """`invalidate_all` makes every entry of every namespace stale."""
    articles = layers.namespace("article")
    profiles = layers.namespace("profile")
    article_loader = CountingLoader()
    profile_loader = CountingLoader()
    await articles.get_or_load("a1", article_loader)
    await profiles.get_or_load("jake", profile_loader, tags=["user:1"])

    await layers.invalidate_all()
    await articles.get_or_load("a1", article_loader)
    await profiles.get_or_load("jake", profile_loader, tags=["user:1"])

    assert article_loader.calls == 2
    assert profile_loader.calls == 2


async def test_delete_drops_negative_entry(layers: LayeredCache) -> None:
    """Deleting a key clears a cached NotFound, as after creating the row."""
    cache = layers.namespace("article", negative_ttl_seconds=30)
    loader = CountingLoader(missing=True)
    with pytest.raises(NotFound):
        await cache.get_or_load("new", loader)

    await cache.delete("new")
    loader.missing = False

    assert await cache.get_or_load("new", loader) == "value"


async def test_tag_invalidation_reaches_other_l1(make_redis_layers: MakeLayers) -> None:
    """Pub/sub drops the entry from a second process's L1 at once."""
    hooks = RecordingHooks()
    writer = await make_redis_layers()
    reader = await make_redis_layers(hooks=hooks)
    loader = CountingLoader("v1")
    tags = ["article:1"]
    await writer.namespace("article").get_or_load("a1", loader, tags=tags)
    await reader.namespace("article").get_or_load("a1", loader, tags=tags)
    assert len(reader.l1) == 1

    await writer.invalidate_tags(tags)
    await wait_until(lambda: hooks.count("message", "received") == 1)
    loader.value = "v2"

    assert await reader.namespace("article").get_or_load("a1", loader, tags=tags) == (
        "v2"
    )
    assert hooks.count("invalidation", "article", "tag") >= 1


async def test_delete_reaches_other_l1(make_redis_layers: MakeLayers) -> None:
    """Deleting a key in one process removes it from another's L1."""
    hooks = RecordingHooks()
    writer = await make_redis_layers()
    reader = await make_redis_layers(hooks=hooks)
    await writer.namespace("article").set("a1", "v1")
    assert await reader.namespace("article").get("a1") == "v1"

    await writer.namespace("article").delete("a1")
    await wait_until(lambda: len(reader.l1) == 0)

    assert await reader.namespace("article").get("a1") is None
    assert hooks.count("invalidation", "article", "key") == 1


async def test_lost_message_bounded_by_l1_ttl(
    make_redis_layers: MakeLayers, clock: FakeClock
) -> None:
    """Without the message, another L1 is stale for at most l1_ttl_seconds."""
    writer = await make_redis_layers()
    # No listener: this process never receives the invalidation message.
    reader = await make_redis_layers(start=False, l1_ttl_seconds=3)
    cache = reader.namespace("article", ttl_seconds=60, early_refresh_beta=0)
    loader = CountingLoader("v1")
    await cache.get_or_load("a1", loader, tags=["article:1"])

    await writer.invalidate_tags(["article:1"])
    loader.value = "v2"

    clock.advance(2.9)
    assert await cache.get_or_load("a1", loader, tags=["article:1"]) == "v1"
    clock.advance(0.1)
    assert await cache.get_or_load("a1", loader, tags=["article:1"]) == "v2"


async def test_l2_entry_checked_against_tags(make_redis_layers: MakeLayers) -> None:
    """An L2 entry whose tag changed is not served, even to an empty L1."""
    first = await make_redis_layers()
    second = await make_redis_layers(start=False)
    loader = CountingLoader("v1")
    await first.namespace("article").get_or_load("a1", loader, tags=["article:1"])

    await first.invalidate_tags(["article:1"])
    loader.value = "v2"
    value = await second.namespace("article").get_or_load(
        "a1", loader, tags=["article:1"]
    )

    assert value == "v2"
    assert loader.calls == 2
