"""SLO targets and the Prometheus recording and alerting rules built from them.

`SLO` is the one place where livify's service-level objectives and alert
thresholds are set. `render_rules` turns an `SLO` into a Prometheus rule file.
The shipped `deploy/prometheus/rules/livify.rules.yml` is its output for the
defaults, and a test keeps the two equal. To change a target, change the
default here (or build an `SLO` with other values) and regenerate the file::

    python -m livify.observability.slo --output deploy/prometheus/rules/livify.rules.yml

The rules read the metrics of the observability middleware. Their names follow
the OpenTelemetry HTTP server semantic conventions as exported to Prometheus.
The SLO alerts are multi-window, multi-burn-rate alerts. Each one fires when
the error budget burns faster than a factor over both a long and a short
window. The long window keeps a brief spike from alerting, and the short window
lets the alert resolve soon after the burn stops.
"""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

# Imported from the module, not the package, so that the package may import
# this module without a cycle.
from livify.observability._metrics import LATENCY_BUCKETS_SECONDS

__all__ = [
    "DEFAULT_PAGE_WINDOWS",
    "DEFAULT_TICKET_WINDOWS",
    "SLO",
    "BurnRateWindow",
    "build_rule_groups",
    "main",
    "render_rules",
]

SECONDS_PER_HOUR = 3600
SECONDS_PER_DAY = 24 * SECONDS_PER_HOUR

RECORDING_WINDOW_SECONDS = 5 * 60
"""Rate window of the per-route recording rules and the symptom alerts."""

NO_TRAFFIC_WINDOW_SECONDS = 15 * 60
DOWN_FOR_SECONDS = 60


@dataclass(frozen=True, kw_only=True)
class BurnRateWindow:
    """A long and a short window that must both burn the error budget at `burn_rate`.

    A burn rate of 1 spends exactly the whole budget over the SLO period. The
    alert condition holds while the error ratio over each window is above
    `burn_rate` times the error budget.
    """

    long_window_seconds: int
    short_window_seconds: int
    burn_rate: float

    def __post_init__(self) -> None:
        if self.short_window_seconds <= 0:
            msg = (
                f"short_window_seconds must be positive, "
                f"got {self.short_window_seconds!r}"
            )
            raise ValueError(msg)

        if self.long_window_seconds <= self.short_window_seconds:
            msg = (
                f"long_window_seconds ({self.long_window_seconds!r}) must be longer "
                f"than short_window_seconds ({self.short_window_seconds!r})"
            )
            raise ValueError(msg)

        if not self.burn_rate > 0:
            msg = f"burn_rate must be positive, got {self.burn_rate!r}"
            raise ValueError(msg)


# The usual window pairs and factors for a 30-day SLO. A page at 14.4x means
# that 2% of the 30-day budget went in one hour, and at 6x that 5% went in six
# hours. A ticket at 3x means that 10% went in a day, and at 1x that 10% went
# in three days.
DEFAULT_PAGE_WINDOWS = (
    BurnRateWindow(
        long_window_seconds=SECONDS_PER_HOUR,
        short_window_seconds=5 * 60,
        burn_rate=14.4,
    ),
    BurnRateWindow(
        long_window_seconds=6 * SECONDS_PER_HOUR,
        short_window_seconds=30 * 60,
        burn_rate=6.0,
    ),
)
DEFAULT_TICKET_WINDOWS = (
    BurnRateWindow(
        long_window_seconds=SECONDS_PER_DAY,
        short_window_seconds=2 * SECONDS_PER_HOUR,
        burn_rate=3.0,
    ),
    BurnRateWindow(
        long_window_seconds=3 * SECONDS_PER_DAY,
        short_window_seconds=6 * SECONDS_PER_HOUR,
        burn_rate=1.0,
    ),
)


@dataclass(frozen=True, kw_only=True)
class SLO:
    """livify's service-level objectives and the thresholds of its alerts.

    Ratios are fractions (0.999, not 99.9). Durations are seconds, sizes are
    bytes, and rates are requests per second. Every field is validated when
    the object is built, and a bad value raises `ValueError`.
    """

    job: str = "livify"
    """Prometheus `job` label of the livify scrape target."""

    team: str = "livify"
    """Value of the `team` label on every alert, for Alertmanager routing."""

    period_days: int = 30
    """SLO period. A burn rate of 1 spends the error budget in exactly this time."""

    availability_objective: float = 0.999
    """Fraction of requests that must not fail (no 5xx, no unhandled exception)."""

    latency_objective: float = 0.99
    """Fraction of requests that must finish within `latency_threshold_seconds`."""

    latency_threshold_seconds: float = 0.5
    """Latency SLO threshold. It must be a bucket bound of the duration histogram."""

    page_windows: tuple[BurnRateWindow, ...] = DEFAULT_PAGE_WINDOWS
    """Window pairs of the critical (page) burn-rate alerts. Any one pair fires."""

    ticket_windows: tuple[BurnRateWindow, ...] = DEFAULT_TICKET_WINDOWS
    """Window pairs of the warning (ticket) burn-rate alerts. Any one pair fires."""

    p99_alert_threshold_seconds: float = 0.5
    """Per-route p99 latency above which the symptom alert fires."""

    error_ratio_alert_threshold: float = 0.05
    """Per-route fraction of failed requests above which the symptom alert fires."""

    symptom_min_request_rate: float = 0.05
    """Minimum per-route request rate for the symptom alerts (3 per minute).

    Below it a single slow or failed request would make a route's p99 or
    error ratio meaningless.
    """

    symptom_for_seconds: int = 5 * 60
    """How long a symptom must last before its alert fires."""

    in_flight_alert_threshold: int = 100
    """In-flight requests per instance (summed over workers) that count as saturated.

    NOTE: 100 is a guess. Set it just below the concurrency at which the
    instance starts shedding load or its latency knee, as measured by a load
    test on the production machine.
    """

    db_pool_utilisation_alert_threshold: float = 0.9
    """Fraction of a database pool's connections in use that counts as saturated."""

    event_loop_lag_alert_seconds: float = 0.1
    """Event-loop lag that counts as saturated. Each request on the worker waits it."""

    saturation_for_seconds: int = 10 * 60
    """How long a saturation signal must last before its alert fires."""

    memory_limit_bytes: int = 2 * 1024**3
    """Resident memory of one instance (summed over workers) that must not be reached.

    NOTE: 2 GiB is a placeholder. Set it to the memory limit of the container
    or host that runs livify.
    """

    memory_growth_lookback_seconds: int = SECONDS_PER_HOUR
    """Window of memory samples that `predict_linear` fits a line to."""

    memory_growth_horizon_seconds: int = 4 * SECONDS_PER_HOUR
    """How far ahead the memory-growth alert looks for the limit to be reached."""

    memory_growth_for_seconds: int = 15 * 60

    runbook_base_url: str = "docs/alerts.md"
    """Address of the alert runbook. An alert links to `<base>#<lowercased name>`."""

    def __post_init__(self) -> None:
        _check_ratio("availability_objective", self.availability_objective)
        _check_ratio("latency_objective", self.latency_objective)
        _check_ratio("error_ratio_alert_threshold", self.error_ratio_alert_threshold)
        _check_ratio(
            "db_pool_utilisation_alert_threshold",
            self.db_pool_utilisation_alert_threshold,
        )
        self._check_latency_threshold()
        self._check_windows()

        for name in (
            "period_days",
            "p99_alert_threshold_seconds",
            "symptom_min_request_rate",
            "symptom_for_seconds",
            "in_flight_alert_threshold",
            "event_loop_lag_alert_seconds",
            "saturation_for_seconds",
            "memory_limit_bytes",
            "memory_growth_lookback_seconds",
            "memory_growth_horizon_seconds",
            "memory_growth_for_seconds",
        ):
            _check_positive(name, getattr(self, name))

        for name in ("job", "team"):
            if not getattr(self, name):
                msg = f"{name} must not be empty"
                raise ValueError(msg)

    @property
    def availability_error_budget(self) -> float:
        """Fraction of requests that may fail within the SLO period."""
        return _error_budget(self.availability_objective)

    @property
    def latency_error_budget(self) -> float:
        """Fraction of requests that may be slower than the latency threshold."""
        return _error_budget(self.latency_objective)

    def _check_latency_threshold(self) -> None:
        if self.latency_threshold_seconds not in LATENCY_BUCKETS_SECONDS:
            msg = (
                f"latency_threshold_seconds must be a bucket bound of the request "
                f"duration histogram, got {self.latency_threshold_seconds!r}. "
                f"Choose one of {LATENCY_BUCKETS_SECONDS!r}"
            )
            raise ValueError(msg)

    def _check_windows(self) -> None:
        for name in ("page_windows", "ticket_windows"):
            windows: tuple[BurnRateWindow, ...] = getattr(self, name)
            if not windows:
                msg = f"{name} must contain at least one BurnRateWindow"
                raise ValueError(msg)

            for window in windows:
                self._check_burn_rate_reachable(name, window)

    def _check_burn_rate_reachable(self, name: str, window: BurnRateWindow) -> None:
        # An error ratio cannot exceed 1, so a factor times the budget at or
        # above 1 would make an alert that can never fire.
        for objective in ("availability", "latency"):
            budget = _error_budget(getattr(self, f"{objective}_objective"))
            if window.burn_rate * budget >= 1:
                msg = (
                    f"{name} burn rate {window.burn_rate!r} can never fire for the "
                    f"{objective} objective, because {window.burn_rate!r} times its "
                    f"error budget {budget!r} is not below 1. Lower the burn rate "
                    f"or raise the objective"
                )
                raise ValueError(msg)


def render_rules(slo: SLO | None = None) -> str:
    """Render the Prometheus rule file for `slo` (default: `SLO()`) as YAML text.

    The text starts with a comment that names this module as its source, and
    it passes `promtool check rules`.
    """
    groups = build_rule_groups(slo or SLO())
    body = yaml.dump(
        groups, Dumper=_RuleDumper, sort_keys=False, width=1000, allow_unicode=True
    )
    return _HEADER + body


def build_rule_groups(slo: SLO) -> dict[str, Any]:
    """Build the rule file content for `slo` as plain dicts and lists.

    It has the shape Prometheus expects (`{"groups": [...]}`), ready for a
    YAML dump.
    """
    return {
        "groups": [
            _route_recording_group(slo),
            _slo_recording_group(slo),
            _slo_alert_group(slo),
            _symptom_alert_group(slo),
            _saturation_alert_group(slo),
        ]
    }


def main(argv: Sequence[str] | None = None) -> int:
    """Write the rule file for the default SLO to a file or to standard output."""
    parser = argparse.ArgumentParser(
        prog="python -m livify.observability.slo",
        description="Render livify's Prometheus recording and alerting rules.",
    )
    parser.add_argument(
        "--output",
        type=Path,
        help="file to write (default: standard output)",
    )
    args = parser.parse_args(argv)

    text = render_rules()
    if args.output is None:
        sys.stdout.write(text)
    else:
        args.output.write_text(text, encoding="utf-8")

    return 0


_HEADER = """\
# Prometheus recording and alerting rules for livify.
# Generated by `python -m livify.observability.slo` from the SLO defaults in
# src/livify/observability/slo.py. Do not edit by hand: change the SLO and
# regenerate, because a test fails when this file and the generator differ.
"""

DURATION = "http_server_request_duration_seconds"

# Recorded names follow the Prometheus convention level:metric:operations.
P_QUANTILES = (("p50", 0.5), ("p95", 0.95), ("p99", 0.99))
ROUTE_REQUEST_RATE = "http_route:http_server_request_duration_seconds_count:rate5m"
ROUTE_ERROR_RATIO = "http_route:http_server_errors:ratio_rate5m"
SLO_ERROR_RATIO = "job:slo_errors:ratio_rate{window}"
SLO_ERROR_BUDGET = "slo:error_budget:ratio"


def _rate(selector: str, window: str) -> str:
    return f"rate({selector}[{window}])"


def _route_latency_name(quantile_name: str) -> str:
    return f"http_route:http_server_request_duration_seconds:{quantile_name}_rate5m"


def _route_recording_group(slo: SLO) -> dict[str, Any]:
    job = _job_matcher(slo)
    window = _duration(RECORDING_WINDOW_SECONDS)
    rules: list[dict[str, Any]] = []

    for quantile_name, quantile in P_QUANTILES:
        expr = (
            f"histogram_quantile(\n"
            f"  {_number(quantile)},\n"
            f"  sum by (le, http_route) (\n"
            f"    {_rate(f'{DURATION}_bucket{{{job}}}', window)}\n"
            f"  )\n"
            f")"
        )
        rules.append({"record": _route_latency_name(quantile_name), "expr": expr})

    rules.append(
        {
            "record": ROUTE_REQUEST_RATE,
            "expr": (
                f"sum by (http_route) (\n"
                f"  {_rate(f'{DURATION}_count{{{job}}}', window)}\n"
                f")"
            ),
        }
    )
    rules.append(
        {
            "record": ROUTE_ERROR_RATIO,
            "expr": _error_ratio_expr(job, window, by="http_route"),
        }
    )
    return {"name": "livify-http-routes", "rules": rules}


def _error_ratio_expr(job: str, window: str, *, by: str) -> str:
    # A route or job that never failed has no error series at all. The `or`
    # branch fills in 0 for it, so dashboards show 0% and not "no data".
    return (
        f"(\n"
        f"  sum by ({by}) ({_rate(f'http_server_errors_total{{{job}}}', window)})\n"
        f"  or\n"
        f"  0 * sum by ({by}) (\n"
        f"    {_rate(f'{DURATION}_count{{{job}}}', window)}\n"
        f"  )\n"
        f")\n"
        f"/\n"
        f"sum by ({by}) (\n"
        f"  {_rate(f'{DURATION}_count{{{job}}}', window)}\n"
        f")"
    )


def _slow_ratio_expr(slo: SLO, job: str, window: str) -> str:
    bound = _bucket_label(slo.latency_threshold_seconds)
    fast_bucket = f'{DURATION}_bucket{{{job}, le="{bound}"}}'
    return (
        f"1 - (\n"
        f"  sum by (job) (\n"
        f"    {_rate(fast_bucket, window)}\n"
        f"  )\n"
        f"  /\n"
        f"  sum by (job) (\n"
        f"    {_rate(f'{DURATION}_count{{{job}}}', window)}\n"
        f"  )\n"
        f")"
    )


def _slo_recording_group(slo: SLO) -> dict[str, Any]:
    job = _job_matcher(slo)
    rules: list[dict[str, Any]] = []

    for window_seconds in _slo_window_seconds(slo):
        window = _duration(window_seconds)
        record = SLO_ERROR_RATIO.format(window=window)
        rules.append(
            {
                "record": record,
                "expr": _error_ratio_expr(job, window, by="job"),
                "labels": {"slo": "availability"},
            }
        )
        rules.append(
            {
                "record": record,
                "expr": _slow_ratio_expr(slo, job, window),
                "labels": {"slo": "latency"},
            }
        )

    # The budgets as series let dashboards divide an error ratio by its
    # budget to show the burn rate without repeating the objectives.
    for name, budget in (
        ("availability", slo.availability_error_budget),
        ("latency", slo.latency_error_budget),
    ):
        rules.append(
            {
                "record": SLO_ERROR_BUDGET,
                "expr": f"vector({_number(budget)})",
                "labels": {"slo": name},
            }
        )

    return {"name": "livify-slo-error-ratios", "rules": rules}


def _slo_window_seconds(slo: SLO) -> list[int]:
    seconds = {
        window_seconds
        for window in (*slo.page_windows, *slo.ticket_windows)
        for window_seconds in (window.long_window_seconds, window.short_window_seconds)
    }
    return sorted(seconds)


def _slo_alert_group(slo: SLO) -> dict[str, Any]:
    objectives = (
        ("availability", "Availability", slo.availability_error_budget),
        ("latency", "Latency", slo.latency_error_budget),
    )
    rules: list[dict[str, Any]] = []

    for slo_name, title, budget in objectives:
        for kind, severity, windows in (
            ("FastBurn", "critical", slo.page_windows),
            ("SlowBurn", "warning", slo.ticket_windows),
        ):
            alert = f"Livify{title}ErrorBudget{kind}"
            rules.append(
                {
                    "alert": alert,
                    "expr": _burn_rate_expr(slo_name, budget, windows),
                    "labels": _labels(slo, severity, {"slo": slo_name}),
                    "annotations": _burn_rate_annotations(
                        slo, alert, slo_name, windows
                    ),
                }
            )

    return {"name": "livify-slo-burn-rate-alerts", "rules": rules}


def _burn_rate_expr(
    slo_name: str, budget: float, windows: Sequence[BurnRateWindow]
) -> str:
    pairs = []
    for window in windows:
        threshold = f"({_number(window.burn_rate)} * {_number(budget)})"
        long_ratio = SLO_ERROR_RATIO.format(
            window=_duration(window.long_window_seconds)
        )
        short_ratio = SLO_ERROR_RATIO.format(
            window=_duration(window.short_window_seconds)
        )
        pairs.append(
            f"(\n"
            f'  {long_ratio}{{slo="{slo_name}"}} > {threshold}\n'
            f"  and\n"
            f'  {short_ratio}{{slo="{slo_name}"}} > {threshold}\n'
            f")"
        )
    return "\nor\n".join(pairs)


def _burn_rate_annotations(
    slo: SLO, alert: str, slo_name: str, windows: Sequence[BurnRateWindow]
) -> dict[str, str]:
    if slo_name == "availability":
        bad = "failed (5xx status or unhandled exception)"
        objective = f"{_percent(slo.availability_objective)} of requests succeed"
    else:
        threshold = f"{_number(slo.latency_threshold_seconds)} s"
        bad = f"took longer than {threshold}"
        objective = (
            f"{_percent(slo.latency_objective)} of requests finish within {threshold}"
        )

    # The slowest burn that fires the alert sets the longest time the budget lasts.
    days_left = slo.period_days / min(window.burn_rate for window in windows)
    window_list = ", ".join(
        f"{_duration(window.long_window_seconds)} and "
        f"{_duration(window.short_window_seconds)} at {_number(window.burn_rate)}x"
        for window in windows
    )
    return {
        "summary": f"livify is burning its {slo_name} error budget too fast",
        "description": (
            f"{{{{ $value | humanizePercentage }}}} of requests {bad} over the "
            f"alert's long window. The objective is that {objective} over "
            f"{slo.period_days} days, and at this burn rate its error budget is "
            f"spent within {_number(round(days_left, 1))} days. The alert fires on "
            f"these window pairs and burn rates: {window_list}."
        ),
        "runbook_url": _runbook_url(slo, alert),
    }


def _symptom_alert_group(slo: SLO) -> dict[str, Any]:
    job = _job_matcher(slo)
    no_traffic_window = _duration(NO_TRAFFIC_WINDOW_SECONDS)
    window = _duration(RECORDING_WINDOW_SECONDS)
    symptom_for = _duration(slo.symptom_for_seconds)
    busy_route = f"{ROUTE_REQUEST_RATE} > {_number(slo.symptom_min_request_rate)}"
    rules = [
        {
            "alert": "LivifyHighP99Latency",
            "expr": (
                f"{_route_latency_name('p99')} > "
                f"{_number(slo.p99_alert_threshold_seconds)}\n"
                f"and on (http_route)\n"
                f"{busy_route}"
            ),
            "for": symptom_for,
            "labels": _labels(slo, "warning"),
            "annotations": {
                "summary": "Route {{ $labels.http_route }} has a slow p99 latency",
                "description": (
                    "The p99 latency of {{ $labels.http_route }} over "
                    f"{window} windows has been above "
                    f"{_number(slo.p99_alert_threshold_seconds)} s for "
                    f"{symptom_for}. It is now {{{{ $value | humanizeDuration }}}}."
                ),
                "runbook_url": _runbook_url(slo, "LivifyHighP99Latency"),
            },
        },
        {
            "alert": "LivifyHighErrorRatio",
            "expr": (
                f"{ROUTE_ERROR_RATIO} > {_number(slo.error_ratio_alert_threshold)}\n"
                f"and on (http_route)\n"
                f"{busy_route}"
            ),
            "for": symptom_for,
            "labels": _labels(slo, "warning"),
            "annotations": {
                "summary": "Route {{ $labels.http_route }} fails too many requests",
                "description": (
                    "The share of requests to {{ $labels.http_route }} that failed "
                    f"(5xx or unhandled exception) over {window} windows has been "
                    f"above {_percent(slo.error_ratio_alert_threshold)} for "
                    f"{symptom_for}. It is now {{{{ $value | humanizePercentage }}}}."
                ),
                "runbook_url": _runbook_url(slo, "LivifyHighErrorRatio"),
            },
        },
        {
            "alert": "LivifyDown",
            "expr": f"max by (job) (up{{{job}}}) == 0\nor\nabsent(up{{{job}}})",
            "for": _duration(DOWN_FOR_SECONDS),
            "labels": _labels(slo, "critical"),
            "annotations": {
                "summary": "No livify instance answers Prometheus scrapes",
                "description": (
                    f"Every scrape of job {slo.job!r} failed or found no target for "
                    f"{_duration(DOWN_FOR_SECONDS)}. Users are probably getting no "
                    f"answer, and the SLO alerts cannot see it."
                ),
                "runbook_url": _runbook_url(slo, "LivifyDown"),
            },
        },
        {
            "alert": "LivifyNoTraffic",
            "expr": (
                f"sum by (job) (\n"
                f"  {_rate(f'{DURATION}_count{{{job}}}', no_traffic_window)}\n"
                f") == 0"
            ),
            "for": _duration(NO_TRAFFIC_WINDOW_SECONDS),
            "labels": _labels(slo, "info"),
            "annotations": {
                "summary": "livify is up but serves no requests",
                "description": (
                    "livify answered scrapes but served no request for at least "
                    f"{_duration(2 * NO_TRAFFIC_WINDOW_SECONDS)}. This is normal for "
                    "an idle site. During an incident it means traffic is not "
                    "reaching the application."
                ),
                "runbook_url": _runbook_url(slo, "LivifyNoTraffic"),
            },
        },
    ]
    return {"name": "livify-symptom-alerts", "rules": rules}


def _saturation_alert_group(slo: SLO) -> dict[str, Any]:
    job = _job_matcher(slo)
    saturation_for = _duration(slo.saturation_for_seconds)
    rules = [
        {
            "alert": "LivifyInFlightRequestsHigh",
            "expr": (
                f"sum by (instance) (http_server_active_requests{{{job}}}) > "
                f"{_number(slo.in_flight_alert_threshold)}"
            ),
            "for": saturation_for,
            "labels": _labels(slo, "warning"),
            "annotations": {
                "summary": "livify instance {{ $labels.instance }} is saturated",
                "description": (
                    "{{ $labels.instance }} has had more than "
                    f"{_number(slo.in_flight_alert_threshold)} requests in flight "
                    f"for {saturation_for}. It now has {{{{ $value }}}}."
                ),
                "runbook_url": _runbook_url(slo, "LivifyInFlightRequestsHigh"),
            },
        },
        {
            "alert": "LivifyDbPoolSaturated",
            "expr": (
                f"sum by (instance, pool) (livify_db_pool_checked_out{{{job}}})\n"
                f"/\n"
                f"sum by (instance, pool) (livify_db_pool_size{{{job}}})\n"
                f"> {_number(slo.db_pool_utilisation_alert_threshold)}\n"
                f"or\n"
                f"sum by (instance, pool) (livify_db_pool_waiting{{{job}}}) > 0"
            ),
            "for": saturation_for,
            "labels": _labels(slo, "warning"),
            "annotations": {
                "summary": (
                    "The {{ $labels.pool }} database pool of {{ $labels.instance }} "
                    "is saturated"
                ),
                "description": (
                    "For "
                    f"{saturation_for}, the {{{{ $labels.pool }}}} pool of "
                    "{{ $labels.instance }} has had more than "
                    f"{_percent(slo.db_pool_utilisation_alert_threshold)} of its "
                    f"connections checked out, or requests waiting for one."
                ),
                "runbook_url": _runbook_url(slo, "LivifyDbPoolSaturated"),
            },
        },
        {
            "alert": "LivifyEventLoopLagHigh",
            "expr": (
                f"max by (instance) (livify_event_loop_lag_seconds{{{job}}}) > "
                f"{_number(slo.event_loop_lag_alert_seconds)}"
            ),
            "for": saturation_for,
            "labels": _labels(slo, "warning"),
            "annotations": {
                "summary": "The event loop of {{ $labels.instance }} is lagging",
                "description": (
                    "The largest event-loop lag among the workers of "
                    "{{ $labels.instance }} has been above "
                    f"{_number(slo.event_loop_lag_alert_seconds)} s for "
                    f"{saturation_for}. It is now {{{{ $value | humanizeDuration }}}}, "
                    f"a delay added to every request on that worker."
                ),
                "runbook_url": _runbook_url(slo, "LivifyEventLoopLagHigh"),
            },
        },
        _memory_growth_alert(slo),
    ]
    return {"name": "livify-saturation-alerts", "rules": rules}


def _memory_growth_alert(slo: SLO) -> dict[str, Any]:
    memory = f"livify_process_resident_memory_bytes{{{_job_matcher(slo)}}}"
    lookback = _duration(slo.memory_growth_lookback_seconds)
    half = _duration(slo.memory_growth_lookback_seconds // 2)
    horizon = _duration(slo.memory_growth_horizon_seconds)
    # predict_linear alone fires on a one-off step, such as a cache filling
    # after a restart, because the fitted line through the step is steep. A
    # leak grows in both halves of the lookback window, and a step in only one.
    expr = (
        f"predict_linear({memory}[{lookback}], {slo.memory_growth_horizon_seconds})\n"
        f"  > {slo.memory_limit_bytes}\n"
        f"and\n"
        f"{memory} - {memory} offset {half} > 0\n"
        f"and\n"
        f"{memory} offset {half} - {memory} offset {lookback} > 0"
    )
    return {
        "alert": "LivifyMemoryGrowth",
        "expr": expr,
        "for": _duration(slo.memory_growth_for_seconds),
        "labels": _labels(slo, "warning"),
        "annotations": {
            "summary": "livify on {{ $labels.instance }} will run out of memory",
            "description": (
                f"Resident memory of {{{{ $labels.instance }}}} grew in both halves "
                f"of the last {lookback}. A straight line through that window "
                f"reaches {{{{ $value | humanize1024 }}}}B in {horizon}, above the "
                f"limit of {_bytes(slo.memory_limit_bytes)}. Steady growth like "
                f"this often means a leak."
            ),
            "runbook_url": _runbook_url(slo, "LivifyMemoryGrowth"),
        },
    }


def _labels(
    slo: SLO, severity: str, extra: dict[str, str] | None = None
) -> dict[str, str]:
    return {"severity": severity, "team": slo.team, **(extra or {})}


def _runbook_url(slo: SLO, alert: str) -> str:
    return f"{slo.runbook_base_url}#{alert.lower()}"


def _job_matcher(slo: SLO) -> str:
    escaped = slo.job.replace("\\", "\\\\").replace('"', '\\"')
    return f'job="{escaped}"'


def _error_budget(objective: float) -> float:
    # Round away the float error of 1 - 0.999 (0.0010000000000000009).
    return round(1 - objective, 12)


def _bucket_label(bound: float) -> str:
    # prometheus_client writes the bounds of these buckets as Python's float
    # repr does, so the 1-second bucket is le="1.0", not le="1".
    return repr(float(bound))


def _number(value: float) -> str:
    if float(value).is_integer():
        return str(int(value))

    return format(value, ".12g")


def _percent(ratio: float) -> str:
    return f"{_number(round(ratio * 100, 10))}%"


def _bytes(size: int) -> str:
    for unit, factor in (("GiB", 1024**3), ("MiB", 1024**2), ("KiB", 1024)):
        if size >= factor:
            return f"{_number(round(size / factor, 2))} {unit}"

    return f"{size} B"


def _duration(seconds: float) -> str:
    if not float(seconds).is_integer() or seconds <= 0:
        msg = f"a duration must be a positive whole number of seconds, got {seconds!r}"
        raise ValueError(msg)

    whole = int(seconds)
    for unit, factor in (("d", SECONDS_PER_DAY), ("h", SECONDS_PER_HOUR), ("m", 60)):
        if whole % factor == 0:
            return f"{whole // factor}{unit}"

    return f"{whole}s"


def _check_ratio(name: str, value: float) -> None:
    if not 0 < value < 1:
        msg = f"{name} must be a fraction between 0 and 1 (exclusive), got {value!r}"
        raise ValueError(msg)


def _check_positive(name: str, value: float) -> None:
    if not (value > 0 and math.isfinite(value)):
        msg = f"{name} must be a positive finite number, got {value!r}"
        raise ValueError(msg)


class _RuleDumper(yaml.SafeDumper):
    """YAML dumper that writes multi-line strings (PromQL) as literal blocks."""


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_RuleDumper.add_representer(str, _represent_str)


if __name__ == "__main__":
    raise SystemExit(main())
