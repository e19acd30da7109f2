"""Prometheus metrics of the cache, per namespace.

The hit ratio of a namespace over five minutes is

    sum by (namespace) (rate(livify_cache_hits_total[5m]))
    / (sum by (namespace) (rate(livify_cache_hits_total[5m]))
       + sum by (namespace) (rate(livify_cache_misses_total[5m])))

Stale entries served are counted in `livify_cache_stale_served_total`, not
as hits. In multiprocess mode the counters and histogram buckets of all
workers are summed, and the circuit gauge takes the maximum.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from livify.cache._hooks import (
    InvalidationKind,
    Layer,
    LoadOutcome,
    MessageDirection,
)
from livify.observability import call_on_collect

# Loads are database queries or remote calls: 0.5 ms to 10 s.
LOAD_BUCKETS_SECONDS = (
    0.0005,
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    10.0,
)


class CacheMetrics:
    """Cache hooks that record hits, misses, loads and failures in Prometheus.

    Pass an instance as `hooks=` to `create_cache`. Labelled children are
    created on first use and kept, so later events cost one dict lookup.
    Hits, one per cached read, are counted in a plain dict and added to the
    counter by `flush()`, which runs before every collection of `registry`.
    In multiprocess mode, call it periodically too, so that a scrape that
    merges workers includes each worker's recent hits.
    """

    def __init__(self, registry: CollectorRegistry) -> None:
        # Registered first, so a collection flushes before reading the counters.
        call_on_collect(registry, self.flush)
        self.hits = Counter(
            "livify_cache_hits",
            "Reads served by a fresh cache entry, per layer (l1, l2).",
            ("namespace", "layer"),
            registry=registry,
        )
        self.misses = Counter(
            "livify_cache_misses",
            "Reads that found no entry to serve and waited for a load.",
            ("namespace",),
            registry=registry,
        )
        self.stale_served = Counter(
            "livify_cache_stale_served",
            "Reads served an expired entry while it was refreshed.",
            ("namespace",),
            registry=registry,
        )
        self.load_duration = Histogram(
            "livify_cache_load_duration_seconds",
            "Time loaders took; _count is the number of loads.",
            ("namespace", "outcome"),
            buckets=LOAD_BUCKETS_SECONDS,
            registry=registry,
        )
        self.evictions = Counter(
            "livify_cache_evictions",
            "L1 entries dropped to stay within the entry or byte bound.",
            ("namespace",),
            registry=registry,
        )
        self.invalidations = Counter(
            "livify_cache_invalidations",
            "Entries dropped because a tag changed or the key was deleted.",
            ("namespace", "kind"),
            registry=registry,
        )
        self.messages = Counter(
            "livify_cache_invalidation_messages",
            "Invalidation messages published or received over Redis pub/sub.",
            ("direction",),
            registry=registry,
        )
        self.redis_errors = Counter(
            "livify_cache_redis_errors",
            "Redis commands that failed or timed out; the cache fell back.",
            ("namespace", "operation"),
            registry=registry,
        )
        self.circuit_open = Gauge(
            "livify_cache_redis_circuit_open",
            "1 while Redis is skipped after failures, else 0.",
            multiprocess_mode="livemax",
            registry=registry,
        )
        self.circuit_open.set(0)
        self._pending_hits: dict[tuple[str, str], int] = {}
        self._miss_children: dict[str, Counter] = {}

    def on_hit(self, namespace: str, layer: Layer) -> None:
        key = (namespace, layer)
        self._pending_hits[key] = self._pending_hits.get(key, 0) + 1

    def flush(self) -> None:
        """Add the hits counted since the last flush to the hit counter."""
        pending, self._pending_hits = self._pending_hits, {}
        for (namespace, layer), count in pending.items():
            self.hits.labels(namespace, layer).inc(count)

    def on_miss(self, namespace: str) -> None:
        child = self._miss_children.get(namespace)
        if child is None:
            child = self._miss_children[namespace] = self.misses.labels(namespace)
        child.inc()

    def on_stale_served(self, namespace: str) -> None:
        self.stale_served.labels(namespace).inc()

    def on_load(
        self, namespace: str, duration_seconds: float, outcome: LoadOutcome
    ) -> None:
        self.load_duration.labels(namespace, outcome).observe(duration_seconds)

    def on_eviction(self, namespace: str) -> None:
        self.evictions.labels(namespace).inc()

    def on_invalidation(self, namespace: str, kind: InvalidationKind) -> None:
        self.invalidations.labels(namespace, kind).inc()

    def on_message(self, direction: MessageDirection) -> None:
        self.messages.labels(direction).inc()

    def on_redis_error(self, namespace: str, operation: str) -> None:
        self.redis_errors.labels(namespace, operation).inc()

    def on_circuit_change(self, is_open: bool) -> None:
        self.circuit_open.set(1 if is_open else 0)
