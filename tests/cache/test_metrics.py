"""CacheMetrics: Prometheus series per namespace from the cache's hooks."""

from __future__ import annotations

import pytest
from prometheus_client import CollectorRegistry

from livify.cache import CacheMetrics, NotFound
from tests.cache.conftest import MakeLayers
from tests.cache.helpers import CountingLoader, wait_until


def sample(registry: CollectorRegistry, name: str, **labels: str) -> float:
    return registry.get_sample_value(name, labels) or 0.0


async def test_metrics_count_hits_misses_loads(make_layers: MakeLayers) -> None:
    """Hits per layer, misses and loads are counted per namespace."""
    registry = CollectorRegistry()
    layers = await make_layers(hooks=CacheMetrics(registry))
    articles = layers.namespace("article")
    profiles = layers.namespace("profile")

    for _ in range(4):
        await articles.get_or_load("a1", CountingLoader())
    await profiles.get_or_load("jake", CountingLoader())
    with pytest.raises(NotFound):
        await profiles.get_or_load("nobody", CountingLoader(missing=True))

    hits = "livify_cache_hits_total"
    misses = "livify_cache_misses_total"
    loads = "livify_cache_load_duration_seconds_count"
    assert sample(registry, hits, namespace="article", layer="l1") == 3
    assert sample(registry, misses, namespace="article") == 1
    assert sample(registry, misses, namespace="profile") == 2
    assert sample(registry, loads, namespace="article", outcome="ok") == 1
    assert sample(registry, loads, namespace="profile", outcome="not_found") == 1

    article_hits = sample(registry, hits, namespace="article", layer="l1")
    article_misses = sample(registry, misses, namespace="article")
    assert article_hits / (article_hits + article_misses) == 0.75


async def test_metrics_count_evictions_and_invalidations(
    make_layers: MakeLayers,
) -> None:
    """L1 evictions and tag invalidations are counted per namespace."""
    registry = CollectorRegistry()
    layers = await make_layers(hooks=CacheMetrics(registry), l1_max_entries=2)
    cache = layers.namespace("article")
    for key in ("a", "b", "c"):
        await cache.get_or_load(key, CountingLoader(), tags=["author:1"])

    await layers.invalidate_tags(["author:1"])
    await cache.get_or_load("c", CountingLoader(), tags=["author:1"])

    assert sample(registry, "livify_cache_evictions_total", namespace="article") == 1
    assert (
        sample(
            registry,
            "livify_cache_invalidations_total",
            namespace="article",
            kind="tag",
        )
        >= 1
    )


async def test_metrics_count_messages_and_l2_hits(
    make_redis_layers: MakeLayers,
) -> None:
    """With Redis, L2 hits and pub/sub messages are counted too."""
    registry = CollectorRegistry()
    writer = await make_redis_layers()
    reader = await make_redis_layers(hooks=CacheMetrics(registry))
    await writer.namespace("article").get_or_load("a1", CountingLoader())

    await reader.namespace("article").get_or_load("a1", CountingLoader())
    await writer.invalidate_tags(["article:1"])

    messages = "livify_cache_invalidation_messages_total"
    await wait_until(lambda: sample(registry, messages, direction="received") == 1)
    hits = "livify_cache_hits_total"
    assert sample(registry, hits, namespace="article", layer="l2") == 1
    assert sample(registry, "livify_cache_redis_circuit_open") == 0
