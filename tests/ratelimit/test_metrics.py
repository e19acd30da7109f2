"""Decision counts reach Prometheus on collection and once per flush interval."""

from __future__ import annotations

from prometheus_client import CollectorRegistry

from livify.ratelimit import RateLimitMetrics
from tests.ratelimit.conftest import FakeClock


def counted(metrics: RateLimitMetrics, outcome: str) -> float:
    """Read the counter child without collecting, so nothing is flushed."""
    value: float = metrics.decisions.labels("default", outcome)._value.get()
    return value


def test_collection_flushes_pending_counts() -> None:
    """A scrape reads every decision counted so far, however recent."""
    registry = CollectorRegistry()
    metrics = RateLimitMetrics(registry, clock=FakeClock())
    for _ in range(3):
        metrics.on_decision("default", "allowed")
    metrics.on_decision("default", "limited")

    assert counted(metrics, "allowed") == 0
    assert (
        registry.get_sample_value(
            "livify_ratelimit_decisions_total",
            {"limit": "default", "outcome": "allowed"},
        )
        == 3
    )
    assert counted(metrics, "limited") == 1


def test_interval_flushes_without_collection() -> None:
    """The first decision after the interval writes the counts without a scrape."""
    clock = FakeClock()
    metrics = RateLimitMetrics(
        CollectorRegistry(), flush_interval_seconds=1.0, clock=clock
    )
    metrics.on_decision("default", "allowed")
    clock.advance(0.5)
    metrics.on_decision("default", "allowed")

    assert counted(metrics, "allowed") == 0

    clock.advance(0.6)
    metrics.on_decision("default", "allowed")

    assert counted(metrics, "allowed") == 3


def test_repeated_flushes_add_once() -> None:
    """Flushing twice adds each decision to the counter once."""
    metrics = RateLimitMetrics(CollectorRegistry(), clock=FakeClock())
    metrics.on_decision("default", "warned")
    metrics.flush()
    metrics.flush()
    metrics.on_decision("default", "warned")
    metrics.flush()

    assert counted(metrics, "warned") == 2
