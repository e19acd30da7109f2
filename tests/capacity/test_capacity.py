"""The USL fit, the knee and the instance plan."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from livify.capacity import (
    LoadPoint,
    NotEnoughData,
    analyse,
    find_knee,
    fit_usl,
    plan_instances,
    render_analysis,
    render_analysis_svg,
    usl_throughput,
)
from livify.capacity._analysis import EXTRAPOLATION_LIMIT, _peak_throughput
from livify.cli import main
from livify.loadtest import LoadModel, RunResult, build_plan
from tests.loadtest.synthetic import synthetic_result, synthetic_step_result

LAM, SIGMA, KAPPA = 120.0, 0.04, 0.0008
CONCURRENCY = [1, 2, 4, 8, 16, 24, 32, 48, 64]


def test_fit_recovers_exact_parameters() -> None:
    """Points on the curve give back lambda, sigma and kappa."""
    throughput = [usl_throughput(n, LAM, SIGMA, KAPPA) for n in CONCURRENCY]
    fit = fit_usl(CONCURRENCY, throughput)
    assert fit.lam == pytest.approx(LAM, rel=1e-4)
    assert fit.sigma == pytest.approx(SIGMA, rel=1e-3)
    assert fit.kappa == pytest.approx(KAPPA, rel=1e-3)
    assert fit.r_squared == pytest.approx(1.0)
    assert fit.peak_concurrency == pytest.approx(((1 - SIGMA) / KAPPA) ** 0.5, rel=1e-3)


def test_fit_recovers_parameters_through_noise() -> None:
    """With 2% measurement noise the parameters stay close."""
    rng = random.Random(4)
    throughput = [
        usl_throughput(n, LAM, SIGMA, KAPPA) * rng.uniform(0.98, 1.02)
        for n in CONCURRENCY
    ]
    fit = fit_usl(CONCURRENCY, throughput)
    assert fit.lam == pytest.approx(LAM, rel=0.05)
    assert fit.sigma == pytest.approx(SIGMA, abs=0.015)
    assert fit.kappa == pytest.approx(KAPPA, rel=0.35)
    assert fit.r_squared > 0.98


def test_fit_needs_three_points() -> None:
    """Two points cannot determine three parameters."""
    with pytest.raises(NotEnoughData, match="at least 3"):
        fit_usl([1, 2], [10, 19])


def point(concurrency: float, throughput: float, p95_ms: float) -> LoadPoint:
    return LoadPoint(
        f"n={concurrency}", concurrency, concurrency, throughput, p95_ms / 1000, 0.0
    )


def test_knee_interpolates_between_steps() -> None:
    """p95 crosses 250 ms halfway between 200 ms at 20 and 300 ms at 30 users."""
    knee = find_knee(
        [point(10, 100, 50), point(20, 180, 200), point(30, 220, 300)], 0.25
    )
    assert knee.is_reached
    assert knee.concurrency == pytest.approx(25)
    assert knee.throughput_per_second == pytest.approx(200)


def test_knee_not_reached_and_below_range() -> None:
    """The knee is a lower bound when no step breaks the SLO."""
    within = find_knee([point(10, 100, 50), point(20, 180, 60)], 0.25)
    assert not within.is_reached
    assert within.concurrency == 20
    broken = find_knee([point(10, 100, 400), point(20, 180, 600)], 0.25)
    assert broken.is_below_range


def test_plan_rounds_instances_up() -> None:
    """10,000 users at 6 requests/minute need 1,000 req/s: 1000 / 160 -> 7."""
    plan = plan_instances(
        users=10_000,
        requests_per_user_per_minute=6,
        knee_throughput_per_second=200,
        peak_throughput_per_second=250,
        headroom=0.8,
    )
    assert plan.required_throughput_per_second == pytest.approx(1000)
    assert plan.trigger_throughput_per_second == pytest.approx(160)
    assert plan.trigger_utilisation == pytest.approx(0.64)
    assert plan.instances == 7


def test_plan_rejects_bad_headroom() -> None:
    """Headroom is a share of the knee throughput in (0, 1]."""
    with pytest.raises(ValueError, match="headroom"):
        plan_instances(
            users=1,
            requests_per_user_per_minute=1,
            knee_throughput_per_second=1,
            peak_throughput_per_second=1,
            headroom=1.5,
        )


def step_result() -> RunResult:
    return synthetic_step_result(LoadModel.CLOSED)


def test_analysis_of_a_step_result() -> None:
    """A closed-model step run gives points per step, a fit, a knee and a plan."""
    analysis = analyse(step_result(), slo_p95_seconds=0.25, users=5_000)
    assert [p.concurrency for p in analysis.points] == [10, 20, 30, 40]
    assert analysis.fit is not None
    assert analysis.plan is not None
    # The synthetic run sends the same rate at every step, so each user's
    # rate comes from the first step: 200 req/s / 10 users = 1,200 per minute.
    assert analysis.plan.requests_per_user_per_minute == pytest.approx(1200, rel=0.05)

    text = render_analysis(analysis)
    assert "Universal Scalability Law" in text
    assert "assumptions" in text
    assert render_analysis_svg(analysis).count("<circle") >= 4


def test_analysis_without_phases_fails() -> None:
    """A result with only a ramp cannot be analysed."""
    plan = build_plan(LoadModel.CLOSED, load=10, ramp_seconds=5, steady_seconds=0)
    with pytest.raises(NotEnoughData, match="--steps"):
        analyse(synthetic_result(plan=plan))


def test_capacity_command_writes_chart(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`livify capacity` prints the analysis and writes the SVG chart."""
    result_path = tmp_path / "result.json"
    step_result().write_json(result_path)
    svg_path = tmp_path / "capacity.svg"
    status = main(
        ["capacity", str(result_path), "--users", "1000", "--svg", str(svg_path)]
    )
    assert status == 0
    assert "instance(s)" in capsys.readouterr().out
    assert svg_path.read_text().startswith("<svg")


def test_capacity_command_rejects_other_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A JSON file that is not a load-test result exits with status 2."""
    path = tmp_path / "other.json"
    path.write_text('{"format": "something else"}')
    assert main(["capacity", str(path)]) == 2
    assert "not a livify load-test result" in capsys.readouterr().err


def test_near_zero_coherency_peak_is_not_extrapolated() -> None:
    """A peak far past the tested concurrency is neither planned on nor printed."""
    points = [
        LoadPoint(f"step {n}", n, n, usl_throughput(n, 100.0, 0.01, 1e-9), 0.01, 0.0)
        for n in (10, 20, 30, 40)
    ]
    fit = fit_usl(
        [p.concurrency for p in points], [p.throughput_per_second for p in points]
    )
    reach = 40 * EXTRAPOLATION_LIMIT

    assert fit.peak_concurrency > reach
    assert _peak_throughput(fit, points) == pytest.approx(fit.throughput(reach))
    assert _peak_throughput(fit, points) < fit.peak_throughput / 2


@pytest.mark.parametrize(
    ("options", "named"),
    [
        (["--headroom", "1.5"], "--headroom"),
        (["--headroom", "0"], "--headroom"),
        (["--users", "-1"], "--users"),
        (["--requests-per-user-minute", "0"], "--requests-per-user-minute"),
    ],
)
def test_capacity_command_names_the_bad_option(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], options: list[str], named: str
) -> None:
    """A bad option value exits 2 with the option's name, with or without --users."""
    result_path = tmp_path / "result.json"
    step_result().write_json(result_path)

    assert main(["capacity", str(result_path), *options]) == 2
    assert named in capsys.readouterr().err
