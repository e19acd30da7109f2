"""`livify top`: signals computed from two scrapes."""

from __future__ import annotations

import io
import math

import pytest
from prometheus_client import CollectorRegistry, generate_latest

from livify.observability import HttpServerMetrics
from livify.observability.top import compare, parse_snapshot, quantile, run_top


def observe(
    metrics: HttpServerMetrics, route: str, status: str, seconds: float
) -> None:
    metrics.request_duration.labels("GET", route, status).observe(seconds)


def test_signals_between_two_scrapes() -> None:
    """Rate, error ratio and percentiles come from the change between scrapes."""
    registry = CollectorRegistry()
    metrics = HttpServerMetrics(registry)
    observe(metrics, "/api/tags", "200", 5.0)
    before = parse_snapshot(generate_latest(registry).decode(), taken_at=0.0)

    for _ in range(18):
        observe(metrics, "/api/tags", "200", 0.004)
    for _ in range(2):
        observe(metrics, "/api/tags", "503", 0.2)
    after = parse_snapshot(generate_latest(registry).decode(), taken_at=2.0)

    (signals,) = compare(before, after)

    assert signals.route == "/api/tags"
    assert signals.requests_per_second == pytest.approx(10.0)
    assert signals.error_ratio == pytest.approx(0.1)
    # 18 of 20 requests fall in the (2.5 ms, 5 ms] bucket; the 5 s request
    # was before the first scrape and must not move any percentile.
    assert 0.0025 < signals.p50_seconds <= 0.005
    assert 0.1 < signals.p99_seconds <= 0.25


def test_quantile_interpolates_within_bucket() -> None:
    """The estimate is linear inside the bucket that holds the rank."""
    buckets = {0.1: 0.0, 0.2: 10.0, math.inf: 10.0}

    assert quantile(0.5, buckets) == pytest.approx(0.15)
    assert math.isnan(quantile(0.5, {}))


def test_run_top_prints_table() -> None:
    """One iteration prints the in-flight line and a row per active route."""
    registry = CollectorRegistry()
    metrics = HttpServerMetrics(registry)
    scrapes = iter([b"", b"x"])

    def fetch(_url: str) -> str:
        if next(scrapes) == b"x":
            observe(metrics, "/api/articles", "200", 0.01)
        return generate_latest(registry).decode()

    out = io.StringIO()
    ticks = iter([0.0, 1.0])
    run_top(
        "http://127.0.0.1:1/metrics",
        iterations=1,
        out=out,
        fetch=fetch,
        clock=lambda: next(ticks),
        sleep=lambda _seconds: None,
    )

    lines = out.getvalue().splitlines()
    assert lines[0] == "in flight: 0"
    assert lines[2].startswith("/api/articles")
