"""Histograms merged across workers equal one histogram of every sample."""

from __future__ import annotations

import random

import pytest

from livify.loadtest import LatencyHistogram, Recorder, Sample, merge_histograms

PERCENTILES = (50.0, 90.0, 95.0, 99.0, 99.9, 100.0)


def samples(count: int, seed: int) -> list[float]:
    """Lognormal latencies around 20 ms with a long tail, in seconds."""
    rng = random.Random(seed)
    return [rng.lognormvariate(-4.0, 0.8) for _ in range(count)]


def sample(latency: float, endpoint: str = "GET /api/articles") -> Sample:
    return Sample(
        endpoint=endpoint,
        step="browse.home",
        latency_seconds=latency,
        service_seconds=latency,
        status=200,
        is_failure=False,
        finished_at=1_000.0,
    )


def test_two_workers_merge_to_one_histogram() -> None:
    """Percentiles of two drained, absorbed workers equal one histogram's."""
    first, second = samples(20_000, 1), samples(30_000, 2)
    workers = [Recorder(), Recorder()]
    for worker, values in zip(workers, (first, second), strict=True):
        for value in values:
            worker.record(sample(value))

    master = Recorder()
    for worker in workers:
        master.absorb(worker.drain())

    single = LatencyHistogram()
    for value in first + second:
        single.record(value)

    merged = master.tally("total", "total")
    assert merged is not None
    assert merged.requests == len(first) + len(second)
    assert merged.histogram.count == single.count
    for percentile in PERCENTILES:
        assert merged.histogram.percentile_seconds(
            percentile
        ) == single.percentile_seconds(percentile), percentile


def test_percentiles_within_a_tenth_of_a_percent() -> None:
    """Three significant digits keep every percentile within 0.1% of exact."""
    values = sorted(samples(10_000, 3))
    histogram = LatencyHistogram()
    for value in values:
        histogram.record(value)

    for percentile in (50.0, 90.0, 99.0, 99.9):
        exact = values[int(len(values) * percentile / 100) - 1]
        assert histogram.percentile_seconds(percentile) == pytest.approx(
            exact, rel=1e-3, abs=2e-6
        )


def test_merge_histograms_and_encoding_round_trip() -> None:
    """An encoded histogram decodes to the same counts and percentiles."""
    parts = []
    for seed in range(3):
        part = LatencyHistogram()
        for value in samples(1_000, seed):
            part.record(value)
        parts.append(LatencyHistogram.decode(part.encode()))

    merged = merge_histograms(parts)
    assert merged.count == 3_000
    assert merged.max_seconds == max(part.max_seconds for part in parts)


def test_merge_rejects_other_precision() -> None:
    """Histograms of different significant figures do not merge."""
    with pytest.raises(ValueError, match="significant figures"):
        LatencyHistogram().merge(LatencyHistogram(significant_figures=2))


def test_values_out_of_range_are_clamped() -> None:
    """Negative latencies count as 0, and latencies over 120 s as 120 s."""
    histogram = LatencyHistogram()
    histogram.record(-1.0)
    histogram.record(500.0)
    assert histogram.count == 2
    assert histogram.max_seconds == pytest.approx(120.0, rel=1e-3)


def test_absorb_rejects_other_interval() -> None:
    """Reports of another interval width cannot be merged into a timeline."""
    worker = Recorder(interval_seconds=2.0)
    worker.record(sample(0.01))
    with pytest.raises(ValueError, match="interval"):
        Recorder(interval_seconds=1.0).absorb(worker.drain())
