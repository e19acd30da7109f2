"""Prometheus metrics of the rate limiter, per limit.

The share of requests limited by one limit over five minutes is

    rate(livify_ratelimit_decisions_total{outcome="limited", limit="L"}[5m])
    / sum without (outcome) (rate(livify_ratelimit_decisions_total{limit="L"}[5m]))
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge

from livify.ratelimit._types import Outcome


class RateLimitMetrics:
    """Rate limit hooks that count decisions and store failures in Prometheus.

    Pass an instance as `hooks=` to `RateLimiter`. Labelled children are
    kept after first use, so later events cost one dict lookup.
    """

    def __init__(self, registry: CollectorRegistry) -> None:
        self.decisions = Counter(
            "livify_ratelimit_decisions",
            "Requests counted against a limit: allowed, warned, delayed, limited.",
            ("limit", "outcome"),
            registry=registry,
        )
        self.store_errors = Counter(
            "livify_ratelimit_store_errors",
            "Store calls that failed or timed out; the local fallback decided.",
            ("store",),
            registry=registry,
        )
        self.fallback_active = Gauge(
            "livify_ratelimit_fallback_active",
            "1 while decisions use the local fallback instead of Redis, else 0.",
            multiprocess_mode="livemax",
            registry=registry,
        )
        self.fallback_active.set(0)
        self._children: dict[tuple[str, str], Counter] = {}

    def on_decision(self, limit: str, outcome: Outcome) -> None:
        child = self._children.get((limit, outcome))
        if child is None:
            child = self._children[limit, outcome] = self.decisions.labels(
                limit, outcome
            )
        child.inc()

    def on_store_error(self, store: str) -> None:
        self.store_errors.labels(store).inc()

    def on_fallback_change(self, is_active: bool) -> None:
        self.fallback_active.set(1 if is_active else 0)
