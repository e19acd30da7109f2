"""Turn a step-load result into a capacity analysis, as text and as a chart."""

from __future__ import annotations

import math
from dataclasses import dataclass

from livify.capacity._exceptions import NotEnoughData
from livify.capacity._knee import Knee, find_knee
from livify.capacity._planning import DEFAULT_HEADROOM, InstancePlan, plan_instances
from livify.capacity._points import LoadPoint, step_points
from livify.capacity._usl import MIN_POINTS, UslFit, fit_usl
from livify.loadtest import Axis, LoadModel, RunResult, Series, render_line_chart

DEFAULT_SLO_P95_SECONDS = 0.25
CURVE_POINTS = 60
# The fit is trusted up to this multiple of the highest tested concurrency.
EXTRAPOLATION_LIMIT = 2.0


@dataclass(frozen=True)
class CapacityAnalysis:
    """The fit, the knee and the plan for one result.

    `fit` is None with fewer than three steps. `plan` is None when the
    request rate per user is unknown, as in an open-model run with no
    `requests_per_user_per_minute` given.
    """

    model: LoadModel
    points: list[LoadPoint]
    fit: UslFit | None
    knee: Knee
    plan: InstancePlan | None

    @property
    def measured_peak(self) -> LoadPoint:
        return max(self.points, key=lambda point: point.throughput_per_second)


def analyse(
    result: RunResult,
    *,
    slo_p95_seconds: float = DEFAULT_SLO_P95_SECONDS,
    users: int | None = None,
    requests_per_user_per_minute: float | None = None,
    headroom: float = DEFAULT_HEADROOM,
) -> CapacityAnalysis:
    """Fit the law, find the knee and, given `users`, size a deployment.

    Raises NotEnoughData when the result has no constant-load phase.
    """
    points = step_points(result)
    if not points:
        msg = "the result has no steady or step phase; run livify loadtest with --steps"
        raise NotEnoughData(msg)

    fit = None
    if len(points) >= MIN_POINTS:
        fit = fit_usl(
            [point.concurrency for point in points],
            [point.throughput_per_second for point in points],
        )
    knee = find_knee(points, slo_p95_seconds)

    rate = requests_per_user_per_minute or result.requests_per_user_per_minute
    plan = None
    if users is not None and rate:
        peak = _peak_throughput(fit, points)
        plan = plan_instances(
            users=users,
            requests_per_user_per_minute=rate,
            knee_throughput_per_second=knee.throughput_per_second,
            peak_throughput_per_second=peak,
            headroom=headroom,
        )
    return CapacityAnalysis(result.model, points, fit, knee, plan)


def _peak_throughput(fit: UslFit | None, points: list[LoadPoint]) -> float:
    """Return the throughput a plan may count on as the peak.

    A fitted peak far beyond the tested concurrency is an extrapolation: a
    coherency term near zero puts it at thousands of users and at a rate
    never seen. Past `EXTRAPOLATION_LIMIT` times the tested maximum, the
    fit's throughput at that limit replaces it.
    """
    measured = max(point.throughput_per_second for point in points)
    if fit is None:
        return measured

    reach = _trusted_reach(points)
    if fit.peak_concurrency <= reach:
        return max(fit.peak_throughput, measured)
    return max(fit.throughput(reach), measured)


def _trusted_reach(points: list[LoadPoint]) -> float:
    return max(point.concurrency for point in points) * EXTRAPOLATION_LIMIT


def render_analysis(analysis: CapacityAnalysis) -> str:
    """Return the analysis as text for a terminal."""
    lines = [_points_table(analysis), ""]
    lines += _fit_lines(analysis)
    lines += _knee_lines(analysis.knee)
    if analysis.plan is not None:
        lines += _plan_lines(analysis.plan)
        lines += _knee_caveat(analysis.knee)
    return "\n".join(lines) + "\n"


def _points_table(analysis: CapacityAnalysis) -> str:
    concurrency = "users" if analysis.model is LoadModel.CLOSED else "in flight"
    rows = [f"{'step':<10}{concurrency:>12}{'req/s':>12}{'p95 ms':>10}{'errors':>9}"]
    for point in analysis.points:
        rows.append(
            f"{point.name:<10}{point.concurrency:>12.1f}{point.throughput_per_second:>12,.1f}"
            f"{point.p95_seconds * 1000:>10,.1f}{point.error_ratio:>9.2%}"
        )
    return "\n".join(rows)


def _fit_lines(analysis: CapacityAnalysis) -> list[str]:
    fit = analysis.fit
    peak = analysis.measured_peak
    measured = (
        f"measured peak: {peak.throughput_per_second:,.1f} req/s at "
        f"concurrency {peak.concurrency:.1f}"
    )
    if fit is None:
        return [
            "Universal Scalability Law: not fitted, it needs at least "
            f"{MIN_POINTS} steps.",
            measured,
            "",
        ]

    lines = [
        f"Universal Scalability Law over {fit.points} points (R^2 = "
        f"{fit.r_squared:.3f}):",
        f"  lambda (throughput at concurrency 1)  {fit.lam:,.2f} req/s",
        f"  sigma  (contention)                   {fit.sigma:.4f}",
        f"  kappa  (coherency)                    {fit.kappa:.6f}",
    ]
    tested = max(point.concurrency for point in analysis.points)
    reach = _trusted_reach(analysis.points)
    if fit.peak_concurrency > reach:
        lines.append(
            f"  no peak up to concurrency {reach:.1f} ({EXTRAPOLATION_LIMIT:g}x "
            f"the tested maximum): {fit.throughput(reach):,.1f} req/s there"
        )
    else:
        where = (
            ""
            if fit.peak_concurrency <= tested
            else " (beyond the tested range, an extrapolation)"
        )
        lines.append(
            f"  peak: {fit.peak_throughput:,.1f} req/s at concurrency "
            f"{fit.peak_concurrency:.1f}{where}"
        )
    return [*lines, measured, ""]


def _knee_lines(knee: Knee) -> list[str]:
    slo = f"p95 {knee.slo_p95_seconds * 1000:.0f} ms"
    if knee.is_below_range:
        text = f"knee: the first step already breaks {slo}; test lower loads"
    elif knee.is_reached:
        text = (
            f"knee: p95 crosses {slo} at concurrency "
            f"{knee.concurrency:.1f}, about {knee.throughput_per_second:,.1f} req/s"
        )
    else:
        text = (
            f"knee: not reached; every step kept {slo}, so the knee is "
            f"above concurrency {knee.concurrency:.1f} "
            f"({knee.throughput_per_second:,.1f} req/s)"
        )
    return [text, ""]


def _knee_caveat(knee: Knee) -> list[str]:
    if knee.is_below_range:
        return [
            "caveat: the first step already broke the SLO, so the plan overstates",
            "  what one instance can serve; repeat the test from a lower load.",
        ]
    if not knee.is_reached:
        return [
            "caveat: no step reached the knee, so the plan uses the highest step",
            "  tested and may ask for more instances than needed.",
        ]
    return []


def _plan_lines(plan: InstancePlan) -> list[str]:
    utilisation = (
        ""
        if math.isnan(plan.trigger_utilisation)
        else f", {plan.trigger_utilisation:.0%} of its peak throughput"
    )
    return [
        "autoscale trigger: add an instance when one serves more than "
        f"{plan.trigger_throughput_per_second:,.1f} req/s{utilisation}",
        f"plan: {plan.users:,} concurrently active users x "
        f"{plan.requests_per_user_per_minute:,.1f} requests/minute = "
        f"{plan.required_throughput_per_second:,.1f} req/s -> "
        f"{plan.instances} instance(s)",
        "assumptions: instances are the measured system and add capacity "
        "linearly (shared",
        "  databases and caches are not the bottleneck); users send "
        "requests at the journeys'",
        "  rate; the balancer spreads them evenly; each instance stays "
        "below the trigger.",
    ]


def render_analysis_svg(analysis: CapacityAnalysis) -> str:
    """Return a chart of the measured points, the fitted curve and the knee."""
    measured = Series(
        "measured",
        [(p.concurrency, p.throughput_per_second) for p in analysis.points],
        has_line=False,
        has_markers=True,
    )
    series = [measured]
    fit = analysis.fit
    if fit is not None:
        top = max(p.concurrency for p in analysis.points)
        if math.isfinite(fit.peak_concurrency):
            top = max(top, min(fit.peak_concurrency * 1.2, top * 3))
        curve = [
            (top * i / CURVE_POINTS, fit.throughput(top * i / CURVE_POINTS))
            for i in range(1, CURVE_POINTS + 1)
        ]
        series.append(Series("USL fit", curve, is_dashed=True))

    knee = analysis.knee
    knee_label = "knee (p95 = SLO)" if knee.is_reached else "last step within SLO"
    series.append(
        Series(
            knee_label,
            [(knee.concurrency, knee.throughput_per_second)],
            has_line=False,
            has_markers=True,
        )
    )
    label = "users" if analysis.model is LoadModel.CLOSED else "requests in flight"
    return render_line_chart(
        "Throughput against concurrency",
        Axis(label, minimum=0.0),
        Axis("requests/s"),
        series,
    )
