"""SLO thresholds such as `p95 < 250ms` or `errors < 0.5%`, and their checks.

Grammar: `[SCOPE:] METRIC OPERATOR VALUE[UNIT]`.

- METRIC: `p50`, `p90`, `p95`, `p99`, `p99.9`, `max`, `mean` (latency),
  `errors` (failed share of requests) or `throughput` (requests/s).
- OPERATOR: `<`, `<=`, `>` or `>=`.
- UNIT: `us`, `ms` or `s` for latency (default ms), `%` or none (a ratio)
  for errors, `/s` or none for throughput.
- SCOPE: an endpoint (`GET /api/articles/{slug}`) or a journey step
  (`browse.read_article`); without one the check covers every request.

A threshold file contains one threshold per line, and `#` starts a comment.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from livify.loadtest._checks import CheckOutcome
from livify.loadtest._exceptions import InvalidThreshold
from livify.loadtest._result import LatencySummary, RunResult, headline_summary

LATENCY_METRICS = {
    "p50": 50.0,
    "p90": 90.0,
    "p95": 95.0,
    "p99": 99.0,
    "p99.9": 99.9,
}
METRICS = (*LATENCY_METRICS, "max", "mean", "errors", "throughput")
OPERATORS: dict[str, Callable[[float, float], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}
LATENCY_UNITS = {"us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "": 1e-3}
_EXPRESSION = re.compile(
    r"^\s*(?:(?P<scope>.+?)\s*:\s+)?(?P<metric>[a-z0-9.]+)\s*"
    r"(?P<operator><=|>=|<|>)\s*(?P<value>[0-9]*\.?[0-9]+)\s*(?P<unit>[a-zµ%/]*)\s*$"
)


@dataclass(frozen=True)
class Threshold:
    """One parsed threshold; `limit` is in seconds, a ratio or requests/s."""

    expression: str
    metric: str
    operator: str
    limit: float
    scope: str = ""

    def check(self, result: RunResult) -> CheckOutcome:
        """Compare the run with this threshold.

        A scope the run never requested fails, because a threshold on a
        name that does not exist is almost always a typo.
        """
        summary = find_summary(result, self.scope)
        observed = (
            float("nan") if summary is None else metric_value(summary, self.metric)
        )
        is_passed = summary is not None and self.is_met_by(summary)
        return CheckOutcome(
            kind="threshold",
            description=self.expression,
            metric=self.metric,
            scope=self.scope or "total",
            observed=observed,
            limit=self.limit,
            is_passed=is_passed,
        )

    def is_met_by(self, summary: LatencySummary) -> bool:
        """Return whether `summary` meets this threshold, whatever its scope."""
        observed = metric_value(summary, self.metric)
        return OPERATORS[self.operator](observed, self.limit)


def parse_threshold(expression: str) -> Threshold:
    """Parse `[SCOPE:] METRIC OPERATOR VALUE[UNIT]`; raises InvalidThreshold."""
    match = _EXPRESSION.match(expression)
    if match is None:
        msg = (
            f"invalid threshold {expression!r}: expected METRIC OPERATOR VALUE, "
            "such as 'p95 < 250ms', 'errors < 0.5%' or 'throughput > 100/s'"
        )
        raise InvalidThreshold(msg)

    metric = match["metric"]
    if metric not in METRICS:
        msg = (
            f"invalid threshold {expression!r}: unknown metric "
            f"{metric!r}, expected one of {', '.join(METRICS)}"
        )
        raise InvalidThreshold(msg)

    limit = _convert(expression, metric, float(match["value"]), match["unit"])
    return Threshold(
        expression=expression.strip(),
        metric=metric,
        operator=match["operator"],
        limit=limit,
        scope=(match["scope"] or "").strip(),
    )


def _convert(expression: str, metric: str, value: float, unit: str) -> float:
    if metric == "errors" and unit in {"%", ""}:
        return value / 100 if unit == "%" else value
    if metric == "throughput" and unit in {"/s", ""}:
        return value
    if metric not in {"errors", "throughput"} and unit in LATENCY_UNITS:
        return value * LATENCY_UNITS[unit]

    accepted = {"errors": "'%' or none", "throughput": "'/s' or none"}.get(
        metric, "'us', 'ms' or 's'"
    )
    msg = (
        f"invalid threshold {expression!r}: unit {unit!r} does not fit "
        f"{metric}; use {accepted}"
    )
    raise InvalidThreshold(msg)


def read_thresholds(path: Path) -> list[Threshold]:
    """Parse a threshold file: one per line, `#` comments and blank lines skipped."""
    thresholds = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        text = line.split("#", 1)[0].strip()
        if not text:
            continue
        try:
            thresholds.append(parse_threshold(text))
        except InvalidThreshold as exc:
            msg = f"{path}:{number}: {exc}"
            raise InvalidThreshold(msg) from exc
    return thresholds


def check_thresholds(
    result: RunResult, thresholds: Iterable[Threshold]
) -> list[CheckOutcome]:
    return [threshold.check(result) for threshold in thresholds]


def find_summary(result: RunResult, scope: str) -> LatencySummary | None:
    """Return the headline summary (see `headline_summary`), or a named one."""
    if not scope:
        return headline_summary(result)
    for summary in (*result.endpoints, *result.steps):
        if summary.name == scope:
            return summary
    return None


def metric_value(summary: LatencySummary, metric: str) -> float:
    """Return `metric` of `summary` in its base unit."""
    if metric in LATENCY_METRICS:
        return summary.percentile_seconds(LATENCY_METRICS[metric])
    if metric == "max":
        return summary.max_seconds
    if metric == "mean":
        return summary.mean_seconds
    if metric == "errors":
        return summary.error_ratio
    if metric == "throughput":
        return summary.throughput_per_second

    msg = f"unknown metric {metric!r}, expected one of {', '.join(METRICS)}"
    raise ValueError(msg)
