"""Cache.get_or_load: layers, TTL, namespace versions and negative entries."""

from __future__ import annotations

import pytest

from livify.cache import LayeredCache, NotFound
from tests.cache.conftest import MakeLayers
from tests.cache.helpers import CountingLoader, FakeClock, RecordingHooks


async def test_second_read_hits_l1(layers: LayeredCache) -> None:
    """A miss loads once; the next read is an L1 hit with the same value."""
    hooks = RecordingHooks()
    layers.hooks = hooks
    cache = layers.namespace("article")
    loader = CountingLoader({"title": "Hello", "tags": ["a", "b"]})

    first = await cache.get_or_load("hello", loader)
    second = await cache.get_or_load("hello", loader)

    assert first == {"title": "Hello", "tags": ["a", "b"]}
    assert second == first
    assert loader.calls == 1
    assert hooks.count("miss", "article") == 1
    assert hooks.count("hit", "article", "l1") == 1
    assert hooks.count("load", "article", "ok") == 1


async def test_returned_values_are_copies(layers: LayeredCache) -> None:
    """Mutating a returned value leaves the cached one unchanged."""
    cache = layers.namespace("article")
    loader = CountingLoader({"title": "Hello", "favorited": False})

    first = await cache.get_or_load("hello", loader)
    first["favorited"] = True

    assert await cache.get_or_load("hello", loader) == {
        "title": "Hello",
        "favorited": False,
    }


async def test_bytes_values_round_trip(layers: LayeredCache) -> None:
    """`bytes` come back as the same bytes, not as JSON."""
    cache = layers.namespace("page")
    body = b'{"articles":[]}\x00\xff'

    assert await cache.get_or_load("p1", CountingLoader(body)) == body
    assert await cache.get_or_load("p1", CountingLoader(b"other")) == body


async def test_unserialisable_value_raises_type_error(layers: LayeredCache) -> None:
    """A value orjson cannot encode raises TypeError naming its type."""
    cache = layers.namespace("article")

    with pytest.raises(TypeError, match="'object'"):
        await cache.get_or_load("k", CountingLoader(object()))


async def test_loader_error_is_raised_not_cached(layers: LayeredCache) -> None:
    """A failing loader's exception reaches the caller and the next read retries."""
    hooks = RecordingHooks()
    layers.hooks = hooks
    cache = layers.namespace("article")
    calls = 0

    async def failing() -> str:
        nonlocal calls
        calls += 1
        raise RuntimeError("database down")

    for _ in range(2):
        with pytest.raises(RuntimeError, match="database down"):
            await cache.get_or_load("k", failing)

    assert calls == 2
    assert hooks.count("load", "article", "error") == 2


async def test_ttl_expiry_reloads(layers: LayeredCache, clock: FakeClock) -> None:
    """Within the TTL reads hit; once it passes the loader runs again."""
    cache = layers.namespace("article", ttl_seconds=60, early_refresh_beta=0)
    loader = CountingLoader("v1")
    await cache.get_or_load("k", loader)

    clock.advance(59)
    assert await cache.get_or_load("k", loader) == "v1"
    assert loader.calls == 1

    clock.advance(1)
    loader.value = "v2"
    assert await cache.get_or_load("k", loader) == "v2"
    assert loader.calls == 2


async def test_per_call_ttl_overrides_default(
    layers: LayeredCache, clock: FakeClock
) -> None:
    """`ttl_seconds` on the call wins over the namespace default."""
    cache = layers.namespace("article", ttl_seconds=600, early_refresh_beta=0)
    loader = CountingLoader()
    await cache.get_or_load("k", loader, ttl_seconds=2)

    clock.advance(2)
    await cache.get_or_load("k", loader, ttl_seconds=2)

    assert loader.calls == 2


async def test_namespace_version_is_part_of_key(layers: LayeredCache) -> None:
    """Version 2 of a namespace never reads entries written by version 1."""
    old = layers.namespace("article", version=1)
    new = layers.namespace("article", version=2)
    await old.get_or_load("k", CountingLoader({"title": "old shape"}))

    loader = CountingLoader({"headline": "new shape"})
    assert await new.get_or_load("k", loader) == {"headline": "new shape"}
    assert loader.calls == 1
    assert await old.get_or_load("k", CountingLoader()) == {"title": "old shape"}


async def test_namespaces_do_not_share_keys(layers: LayeredCache) -> None:
    """The same key in two namespaces holds two values."""
    articles = layers.namespace("article")
    profiles = layers.namespace("profile")
    await articles.get_or_load("jake", CountingLoader("an article"))

    assert await profiles.get_or_load("jake", CountingLoader("a profile")) == (
        "a profile"
    )


async def test_not_found_is_cached_briefly(
    layers: LayeredCache, clock: FakeClock
) -> None:
    """A NotFound is raised again without loading until the negative TTL ends."""
    hooks = RecordingHooks()
    layers.hooks = hooks
    cache = layers.namespace("article", negative_ttl_seconds=5)
    loader = CountingLoader(missing=True)

    for _ in range(3):
        with pytest.raises(NotFound):
            await cache.get_or_load("gone", loader)
    assert loader.calls == 1
    assert hooks.count("load", "article", "not_found") == 1

    clock.advance(5)
    loader.missing = False
    assert await cache.get_or_load("gone", loader) == "value"
    assert loader.calls == 2


async def test_not_found_entry_dropped_by_tag(layers: LayeredCache) -> None:
    """Invalidating a tag of a negative entry makes the next read load again."""
    cache = layers.namespace("article", negative_ttl_seconds=30)
    loader = CountingLoader(missing=True)
    with pytest.raises(NotFound):
        await cache.get_or_load("new-slug", loader, tags=["slug:new-slug"])

    await layers.invalidate_tags(["slug:new-slug"])
    loader.missing = False

    assert await cache.get_or_load("new-slug", loader, tags=["slug:new-slug"]) == (
        "value"
    )


async def test_get_set_and_delete(layers: LayeredCache) -> None:
    """`set` stores without a loader, `get` reads it back, `delete` drops it."""
    cache = layers.namespace("response")

    assert await cache.get("k") is None
    await cache.set("k", {"status": 200}, tags=["article:1"])
    assert await cache.get("k") == {"status": 200}

    await cache.delete("k")
    assert await cache.get("k", default="absent") == "absent"


async def test_invalid_arguments_raise_value_error(layers: LayeredCache) -> None:
    """Bad namespaces, keys, tags and TTLs raise ValueError."""
    with pytest.raises(ValueError, match="namespace"):
        layers.namespace("has space")
    with pytest.raises(ValueError, match="ttl_seconds"):
        layers.namespace("article", ttl_seconds=0)

    cache = layers.namespace("article")
    with pytest.raises(ValueError, match="cache key"):
        await cache.get_or_load("k" * 2000, CountingLoader())
    with pytest.raises(ValueError, match="cache tag"):
        await cache.get_or_load("k", CountingLoader(), tags=["*"])


def test_unknown_url_scheme_hides_the_rest() -> None:
    """An unsupported URL names its scheme and never the password after it."""
    with pytest.raises(ValueError, match="'memcached'") as raised:
        LayeredCache("memcached://user:hunter2@127.0.0.1:11211")

    assert "hunter2" not in str(raised.value)


async def test_l2_serves_a_second_instance(
    make_redis_layers: MakeLayers,
) -> None:
    """With Redis a second process reads the first one's entry from L2."""
    hooks = RecordingHooks()
    first = await make_redis_layers()
    second = await make_redis_layers(hooks=hooks)
    loader = CountingLoader({"title": "shared"})

    await first.namespace("article").get_or_load("k", loader)
    value = await second.namespace("article").get_or_load("k", loader)

    assert value == {"title": "shared"}
    assert loader.calls == 1
    assert hooks.count("hit", "article", "l2") == 1


async def test_l1_entry_lives_l1_ttl(
    make_redis_layers: MakeLayers, clock: FakeClock
) -> None:
    """With Redis an L1 entry is re-read from L2 after l1_ttl_seconds."""
    hooks = RecordingHooks()
    layers = await make_redis_layers(hooks=hooks, l1_ttl_seconds=2)
    cache = layers.namespace("article", ttl_seconds=60, early_refresh_beta=0)
    loader = CountingLoader()
    await cache.get_or_load("k", loader)

    clock.advance(1)
    await cache.get_or_load("k", loader)
    clock.advance(1)
    await cache.get_or_load("k", loader)

    assert hooks.count("hit", "article", "l1") == 1
    assert hooks.count("hit", "article", "l2") == 1
    assert loader.calls == 1


async def test_ttl_beyond_tag_versions_rejected(
    make_redis_layers: MakeLayers,
) -> None:
    """With Redis an entry may not outlive the tag versions it recorded."""
    layers = await make_redis_layers(tag_version_ttl_seconds=100)

    with pytest.raises(ValueError, match="tag_version_ttl_seconds"):
        layers.namespace("article", ttl_seconds=90, stale_while_revalidate_seconds=20)
