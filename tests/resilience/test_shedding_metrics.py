"""SheddingMetrics: admissions counted in bulk still reach every scrape."""

from __future__ import annotations

from prometheus_client import CollectorRegistry

from livify.resilience import SheddingMetrics


def test_scrape_sees_immediate_and_queued_admissions() -> None:
    """Immediate admissions, queued ones and the in-flight count are all exported."""
    registry = CollectorRegistry()
    metrics = SheddingMetrics(registry)
    for _ in range(3):
        metrics.on_admit(0.0)
    metrics.on_admit(0.02)
    metrics.on_in_flight_change(2)

    count = registry.get_sample_value("livify_shedding_queue_wait_seconds_count")
    total = registry.get_sample_value("livify_shedding_queue_wait_seconds_sum")
    immediate = registry.get_sample_value(
        "livify_shedding_queue_wait_seconds_bucket", {"le": "0.0005"}
    )
    in_flight = registry.get_sample_value("livify_shedding_in_flight")

    assert count == 4
    assert total == 0.02
    assert immediate == 3
    assert in_flight == 2


def test_flush_does_not_count_twice() -> None:
    """Each admission is written once, however often the registry is collected."""
    registry = CollectorRegistry()
    metrics = SheddingMetrics(registry)
    metrics.on_admit(0.0)
    for _ in range(3):
        count = registry.get_sample_value("livify_shedding_queue_wait_seconds_count")

    assert count == 1
