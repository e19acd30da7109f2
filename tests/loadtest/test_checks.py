"""Thresholds and the regression gate decide whether a run passes."""

from __future__ import annotations

from pathlib import Path

import pytest

from livify.loadtest import (
    InvalidThreshold,
    RunResult,
    check_regression,
    evaluate,
    parse_threshold,
    read_thresholds,
    render_summary,
)
from livify.loadtest._plan import LoadModel, PhaseKind, build_plan
from livify.loadtest._result import headline_summary
from tests.loadtest.synthetic import synthetic_result


@pytest.mark.parametrize(
    ("text", "metric", "operator", "limit", "scope"),
    [
        ("p95 < 250ms", "p95", "<", 0.25, ""),
        ("p99.9<=1.5s", "p99.9", "<=", 1.5, ""),
        ("p50 < 800us", "p50", "<", 0.0008, ""),
        ("max < 300", "max", "<", 0.3, ""),
        ("errors < 0.5%", "errors", "<", 0.005, ""),
        ("errors <= 0.01", "errors", "<=", 0.01, ""),
        ("throughput > 100/s", "throughput", ">", 100.0, ""),
        (
            "GET /api/articles/{slug}: p95 < 50ms",
            "p95",
            "<",
            0.05,
            "GET /api/articles/{slug}",
        ),
    ],
)
def test_parse_threshold(
    text: str, metric: str, operator: str, limit: float, scope: str
) -> None:
    """Metrics, operators, units and scopes parse into base units."""
    threshold = parse_threshold(text)
    assert threshold.metric == metric
    assert threshold.operator == operator
    assert threshold.limit == pytest.approx(limit)
    assert threshold.scope == scope


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("p95 250ms", "expected METRIC OPERATOR VALUE"),
        ("p97 < 250ms", "unknown metric 'p97'"),
        ("errors < 5ms", "unit 'ms' does not fit errors"),
        ("p95 < 5%", "unit '%' does not fit p95"),
    ],
)
def test_invalid_threshold_messages(text: str, message: str) -> None:
    """A bad threshold names the problem and the accepted form."""
    with pytest.raises(InvalidThreshold, match=message):
        parse_threshold(text)


def test_threshold_file_skips_comments(tmp_path: Path) -> None:
    """A file contains one threshold per line; comments and blanks are skipped."""
    path = tmp_path / "slo.txt"
    path.write_text("# latency\np95 < 250ms\n\nerrors < 0.5%  # at most\n")
    assert [t.expression for t in read_thresholds(path)] == [
        "p95 < 250ms",
        "errors < 0.5%",
    ]

    path.write_text("p95 < 250ms\np95 < fast\n")
    with pytest.raises(InvalidThreshold, match=r"slo\.txt:2"):
        read_thresholds(path)


def test_thresholds_pass_and_fail() -> None:
    """Each threshold is checked against the whole run or its scope."""
    result = synthetic_result(failure_ratio=0.02)
    passed = {
        threshold: outcome.is_passed
        for threshold, outcome in zip(
            (
                "p95 < 1s",
                "p95 < 1ms",
                "errors < 0.5%",
                "GET /api/articles: p99 < 1s",
                "GET /nowhere: p99 < 1s",
            ),
            evaluate(
                result,
                [
                    parse_threshold("p95 < 1s"),
                    parse_threshold("p95 < 1ms"),
                    parse_threshold("errors < 0.5%"),
                    parse_threshold("GET /api/articles: p99 < 1s"),
                    parse_threshold("GET /nowhere: p99 < 1s"),
                ],
                None,
            ),
            strict=True,
        )
    }
    assert passed == {
        "p95 < 1s": True,
        "p95 < 1ms": False,
        "errors < 0.5%": False,
        "GET /api/articles: p99 < 1s": True,
        "GET /nowhere: p99 < 1s": False,
    }
    assert len(result.checks) == 5


def test_gate_passes_without_regression() -> None:
    """The same workload measured again passes the gate."""
    baseline = synthetic_result(seed=1)
    current = synthetic_result(seed=2)
    outcomes = check_regression(current, baseline, max_regression=0.10)
    assert all(outcome.is_passed for outcome in outcomes), outcomes


def test_gate_fails_on_injected_latency_regression() -> None:
    """Latencies 30% slower than the baseline fail p50, p95 and p99."""
    baseline = synthetic_result(seed=1)
    current = synthetic_result(seed=1, latency_scale=1.3)
    failed = {o.metric for o in check_regression(current, baseline) if not o.is_passed}
    assert failed == {"p50", "p95", "p99"}


def test_gate_fails_on_injected_errors_and_lost_throughput() -> None:
    """New errors and 25% fewer requests in the same time both fail."""
    baseline = synthetic_result(seed=1)
    current = synthetic_result(seed=1, requests=1_500, failure_ratio=0.05)
    failed = {o.metric for o in check_regression(current, baseline) if not o.is_passed}
    assert failed == {"throughput", "errors"}


def test_gate_ignores_sub_millisecond_wobble() -> None:
    """A 20% rise on a 1 ms percentile is within the 1 ms noise floor."""
    baseline = synthetic_result(seed=1, latency_scale=0.05)
    current = synthetic_result(seed=1, latency_scale=0.06)
    assert all(o.is_passed for o in check_regression(current, baseline))


def test_result_survives_json(tmp_path: Path) -> None:
    """A result written as JSON reads back with the same numbers."""
    result = synthetic_result()
    path = tmp_path / "result.json"
    result.write_json(path)
    again = RunResult.read_json(path)
    assert again.total == result.total
    assert again.endpoints == result.endpoints
    assert again.phases[0].latency == result.phases[0].latency


def test_thresholds_judge_steady_phase() -> None:
    """With a ramp, thresholds and the gate read the steady phase, not sign-ups."""
    plan = build_plan(LoadModel.CLOSED, load=10, ramp_seconds=10, steady_seconds=20)
    result = synthetic_result(plan=plan)
    steady = next(s for s in result.phases if s.phase.kind is PhaseKind.STEADY)

    assert headline_summary(result) == steady.latency
    assert headline_summary(result).requests < result.total.requests


def test_unknown_scope_named_in_summary() -> None:
    """A threshold on a name never requested is reported as such, not as nan."""
    result = synthetic_result()
    outcomes = evaluate(result, [parse_threshold("GET /nope: p95 < 50ms")], None)
    summary = render_summary(result)

    assert outcomes[0].is_passed is False
    assert "no requests named 'GET /nope' in this run" in summary
    assert "nan" not in summary
