"""Terminal output: the live progress line and the summary table."""

from __future__ import annotations

import math
from collections.abc import Iterable

from livify.loadtest._checks import CheckOutcome, format_metric_value
from livify.loadtest._plan import LoadModel
from livify.loadtest._result import LatencySummary, RunResult

_COLUMNS = ("requests", "errors", "req/s", "p50", "p90", "p95", "p99", "p99.9", "max")
NAME_WIDTH = 46


def describe_load(model: LoadModel, load: float) -> str:
    if model is LoadModel.OPEN:
        return f"{load:,.1f} req/s offered"
    return f"{load:,.0f} users"


def format_progress(
    *,
    elapsed_seconds: float,
    duration_seconds: float,
    phase: str,
    load: str,
    recent: LatencySummary,
    total_requests: int,
) -> str:
    """Return one status line: time, phase, load and the recent signals."""
    return (
        f"[{elapsed_seconds:6.1f}/{duration_seconds:.0f} s] {phase:<8} {load:<20} "
        f"{recent.throughput_per_second:8.1f} req/s  "
        f"p95 {recent.p95_seconds * 1000:7.1f} ms  "
        f"p99 {recent.p99_seconds * 1000:7.1f} ms  "
        f"errors {recent.error_ratio:6.2%}  total {total_requests:,}"
    )


def render_summary(result: RunResult) -> str:
    """Return the summary table of a run, with its phases and checks."""
    lines = [_headline(result), ""]
    lines += _table("latency in ms", [result.total, *_service(result)])
    lines += _table("by endpoint", result.endpoints)
    lines += _table("by journey step", result.steps)
    if len(result.phases) > 1:
        lines += _phase_table(result)
    if result.checks:
        lines += _check_lines(CheckOutcome.from_dict(check) for check in result.checks)
    return "\n".join(lines).rstrip() + "\n"


def _headline(result: RunResult) -> str:
    model = result.model
    peak = describe_load(model, result.plan.peak_load)
    return (
        f"{model} model, up to {peak}, {result.duration_seconds:.1f} s, "
        f"{result.workers} load process(es) against {result.target_url} "
        f"({result.stop_reason})"
    )


def _service(result: RunResult) -> list[LatencySummary]:
    # In the open model, "total" runs from the intended send time; the
    # service time from the actual send shows how much of it was queueing.
    return [] if result.service is None else [result.service]


def _table(title: str, summaries: Iterable[LatencySummary]) -> list[str]:
    rows = list(summaries)
    if not rows:
        return []

    header = f"{title:<{NAME_WIDTH}}" + "".join(f"{name:>10}" for name in _COLUMNS)
    lines = [header]
    for summary in rows:
        lines.append(f"{_clip(summary.name):<{NAME_WIDTH}}" + _cells(summary))
    lines.append("")
    return lines


def _cells(summary: LatencySummary) -> str:
    values = (
        f"{summary.requests:,}",
        f"{summary.error_ratio:.2%}",
        f"{summary.throughput_per_second:,.1f}",
        *(f"{seconds * 1000:,.1f}" for seconds in summary.latencies_seconds),
    )
    return "".join(f"{value:>10}" for value in values)


def _phase_table(result: RunResult) -> list[str]:
    header = (
        f"{'phase':<12}{'load':>22}{'req/s':>10}{'in flight':>10}"
        f"{'p95 ms':>10}{'p99 ms':>10}{'errors':>10}"
    )
    lines = [header]
    for summary in result.phases:
        phase, latency = summary.phase, summary.latency
        lines.append(
            f"{phase.name:<12}{describe_load(result.model, phase.load_end):>22}"
            f"{latency.throughput_per_second:>10,.1f}{summary.concurrency:>10.1f}"
            f"{latency.p95_seconds * 1000:>10,.1f}{latency.p99_seconds * 1000:>10,.1f}"
            f"{latency.error_ratio:>10.2%}"
        )
    lines.append("")
    return lines


def _check_lines(outcomes: Iterable[CheckOutcome]) -> list[str]:
    lines = ["checks"]
    for outcome in outcomes:
        verdict = "PASS" if outcome.is_passed else "FAIL"
        limit = format_metric_value(outcome.metric, outcome.limit)
        if math.isnan(outcome.observed):
            # The scope names no endpoint or step of this run (a typo?).
            observed = f"no requests named {outcome.scope!r} in this run"
        else:
            observed = "observed " + format_metric_value(
                outcome.metric, outcome.observed
            )
        lines.append(
            f"  {verdict}  {outcome.kind:<10} {outcome.description}: "
            f"{observed}, limit {limit}"
        )
    lines.append("")
    return lines


def _clip(name: str) -> str:
    return name if len(name) <= NAME_WIDTH - 2 else name[: NAME_WIDTH - 3] + "…"
