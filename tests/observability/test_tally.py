"""RequestTally: bulk-added counts equal what observe() would have written."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from prometheus_client import CollectorRegistry, Gauge, Histogram

from livify.observability import LATENCY_BUCKETS_SECONDS, HttpServerMetrics
from livify.observability._tally import RequestTally

LABELS = ("GET", "/items/{item_id}", "200")
durations = st.lists(
    st.floats(min_value=0.0, max_value=20.0, allow_nan=False), max_size=50
)


def latency_samples(registry: CollectorRegistry) -> dict[tuple[str, str], float]:
    """Return the histogram's bucket, count and sum samples by name and bound."""
    return {
        (sample.name, sample.labels.get("le", "")): sample.value
        for metric in registry.collect()
        if metric.name == "latency_seconds"
        for sample in metric.samples
        if not sample.name.endswith("_created")
    }


def latency_histogram(registry: CollectorRegistry) -> Histogram:
    return Histogram(
        "latency_seconds",
        "Latency.",
        ("method", "route", "status"),
        buckets=LATENCY_BUCKETS_SECONDS,
        registry=registry,
    )


@given(durations)
def test_bulk_add_matches_observe(seconds: list[float]) -> None:
    """Bucket counts, count and sum are the same as one observe() per request."""
    observed_registry, tallied_registry = CollectorRegistry(), CollectorRegistry()
    observed = latency_histogram(observed_registry)
    in_flight = Gauge("in_flight", "In flight.", ("method",), registry=tallied_registry)
    tally = RequestTally(
        latency_histogram(tallied_registry),
        in_flight,
        LATENCY_BUCKETS_SECONDS,
        flush_interval_seconds=1e9,
    )
    for value in seconds:
        observed.labels(*LABELS).observe(value)
        tally.started("GET")
        tally.finished("GET", LABELS, value, now=1.0)
    tally.flush()

    expected = latency_samples(observed_registry)
    actual = latency_samples(tallied_registry)

    assert actual.keys() == expected.keys()
    for key, value in expected.items():
        assert actual[key] == pytest.approx(value), key


def test_collection_flushes_first() -> None:
    """A scrape of a single process counts every finished request at once."""
    registry = CollectorRegistry()
    metrics = HttpServerMetrics(registry, flush_interval_seconds=1e9)
    metrics.tally.started("GET")
    metrics.tally.finished("GET", LABELS, 0.003, now=0.0)
    metrics.tally.started("GET")

    count = registry.get_sample_value(
        "http_server_request_duration_seconds_count",
        {
            "http_request_method": "GET",
            "http_route": LABELS[1],
            "http_response_status_code": "200",
        },
    )
    running = registry.get_sample_value(
        "http_server_active_requests", {"http_request_method": "GET"}
    )

    assert count == 1
    assert running == 1


@pytest.mark.parametrize("interval", [0.5, 2.0])
def test_flushes_after_the_interval(interval: float) -> None:
    """Unscraped counts reach the metric with the first request past the interval."""
    registry = CollectorRegistry()
    metrics = HttpServerMetrics(registry, flush_interval_seconds=interval)
    child = metrics.request_duration.labels(*LABELS)
    for now in (0.0, 0.1, interval + 0.2):
        metrics.tally.started("GET")
        metrics.tally.finished("GET", LABELS, 0.003, now=now)

    # The first request flushed at once, the second waited, the third flushed both.
    assert child._sum.get() == pytest.approx(0.009)
