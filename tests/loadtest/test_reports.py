"""The terminal summary and the self-contained HTML report."""

from __future__ import annotations

import re

from livify.loadtest import (
    LoadModel,
    RunResult,
    evaluate,
    parse_threshold,
    render_html,
    render_summary,
)
from tests.loadtest.synthetic import synthetic_result, synthetic_step_result


def step_result() -> RunResult:
    result = synthetic_step_result(LoadModel.OPEN, ramp_seconds=2)
    evaluate(result, [parse_threshold("p95 < 250ms")], None)
    return result


def test_summary_lists_endpoints_phases_and_checks() -> None:
    """The table shows every endpoint, each step and the check verdicts."""
    text = render_summary(step_result())
    for expected in (
        "by endpoint",
        "GET /api/articles/{slug}",
        "step 3",
        "PASS  threshold",
    ):
        assert expected in text


def test_html_report_is_self_contained() -> None:
    """The report loads no script, style sheet, image or font from anywhere."""
    html = render_html(step_result())
    assert html.startswith("<!DOCTYPE html>")
    assert "<script" not in html
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html)
    assert "@import" not in html
    assert "url(" not in html


def test_html_report_has_every_chart() -> None:
    """Latency and throughput over time, the distribution and load charts."""
    html = render_html(step_result())
    assert html.count("<svg") == 5
    for title in (
        "Latency percentiles per 1 s interval",
        "Throughput and errors",
        "Latency by percentile, all requests",
        "Throughput per step",
        "Latency per step",
    ):
        assert f'aria-label="{title}"' in html


def test_steady_run_has_no_load_charts() -> None:
    """Only step-load runs plot throughput against load."""
    html = render_html(synthetic_result())
    assert html.count("<svg") == 3
