"""The regression gate: compare a run with a baseline run of the same plan.

A latency percentile regresses when it grew by more than `max_regression`
(0.1 is 10%) and by more than `min_latency_delta_seconds`, so that a 0.3 ms
wobble on a 2 ms endpoint does not fail a build. Throughput regresses when it
fell by more than `max_regression`. The error ratio regresses when it grew
by more than `max_regression` and by more than `min_error_delta`.
"""

from __future__ import annotations

from livify.loadtest._checks import CheckOutcome, format_metric_value
from livify.loadtest._result import LatencySummary, RunResult, headline_summary
from livify.loadtest._thresholds import metric_value

DEFAULT_MAX_REGRESSION = 0.10
MIN_LATENCY_DELTA_SECONDS = 0.001
MIN_ERROR_DELTA = 0.001
GATED_LATENCY_METRICS = ("p50", "p95", "p99")


def check_regression(
    result: RunResult,
    baseline: RunResult,
    *,
    max_regression: float = DEFAULT_MAX_REGRESSION,
    min_latency_delta_seconds: float = MIN_LATENCY_DELTA_SECONDS,
    min_error_delta: float = MIN_ERROR_DELTA,
) -> list[CheckOutcome]:
    """Compare the headline numbers of `result` with `baseline`.

    Those are the steady phase's when the plan has one (`headline_summary`).

    Raises ValueError when `max_regression` is negative.
    """
    if max_regression < 0:
        msg = f"max_regression must not be negative, got {max_regression!r}"
        raise ValueError(msg)

    current, before = headline_summary(result), headline_summary(baseline)
    outcomes = [
        _latency(current, before, metric, max_regression, min_latency_delta_seconds)
        for metric in GATED_LATENCY_METRICS
    ]
    outcomes.append(_throughput(current, before, max_regression))
    outcomes.append(_errors(current, before, max_regression, min_error_delta))
    return outcomes


def _latency(
    current: LatencySummary,
    before: LatencySummary,
    metric: str,
    max_regression: float,
    min_delta_seconds: float,
) -> CheckOutcome:
    observed = metric_value(current, metric)
    reference = metric_value(before, metric)
    limit = max(reference * (1 + max_regression), reference + min_delta_seconds)
    return _outcome(
        metric, observed, limit, is_passed=observed <= limit, reference=reference
    )


def _throughput(
    current: LatencySummary, before: LatencySummary, max_regression: float
) -> CheckOutcome:
    observed = current.throughput_per_second
    reference = before.throughput_per_second
    limit = reference * (1 - max_regression)
    return _outcome(
        "throughput", observed, limit, is_passed=observed >= limit, reference=reference
    )


def _errors(
    current: LatencySummary,
    before: LatencySummary,
    max_regression: float,
    min_delta: float,
) -> CheckOutcome:
    observed = current.error_ratio
    reference = before.error_ratio
    limit = max(reference * (1 + max_regression), reference + min_delta)
    return _outcome(
        "errors", observed, limit, is_passed=observed <= limit, reference=reference
    )


def _outcome(
    metric: str, observed: float, limit: float, *, is_passed: bool, reference: float
) -> CheckOutcome:
    return CheckOutcome(
        kind="regression",
        description=f"{metric} against the baseline's "
        f"{format_metric_value(metric, reference)}",
        metric=metric,
        scope="total",
        observed=observed,
        limit=limit,
        is_passed=is_passed,
    )
