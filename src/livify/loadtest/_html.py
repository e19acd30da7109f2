"""The HTML report: one self-contained file with tables and inline SVG charts.

It loads nothing from the network, so it opens offline and can be kept as a
build artifact.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from html import escape

from livify.loadtest._checks import CheckOutcome, format_metric_value
from livify.loadtest._histogram import LatencyHistogram
from livify.loadtest._result import LatencySummary, RunResult
from livify.loadtest._svg import Axis, Series, render_line_chart
from livify.loadtest._text import describe_load

# Percentiles of the latency distribution chart, up to 99.99.
DISTRIBUTION_PERCENTILES = tuple(
    100 * (1 - 10 ** (-step / 10)) for step in range(0, 41)
)
PERCENTILE_TICKS = (
    (0.0, "0%"),
    (90.0, "90%"),
    (99.0, "99%"),
    (99.9, "99.9%"),
    (99.99, "99.99%"),
)

_LATENCY_COLUMNS = ("p50", "p90", "p95", "p99", "p99.9", "max", "mean")
_STYLE = """
body { font-family: sans-serif; margin: 2em; color: #222; max-width: 1100px; }
table { border-collapse: collapse; margin: 0.5em 0 1.5em; font-size: 13px; }
th, td { padding: 3px 10px; border-bottom: 1px solid #ddd; text-align: right; }
th:first-child, td:first-child { text-align: left; }
.pass { color: #1a7f37; font-weight: bold; }
.fail { color: #cf222e; font-weight: bold; }
figure { margin: 1em 0; } p.note { color: #555; font-size: 13px; }
"""


def render_html(result: RunResult) -> str:
    """Return the report of `result` as one HTML document."""
    sections = [
        f"<h1>livify load test: {escape(result.target_url)}</h1>",
        f"<p>{escape(_headline(result))}</p>",
        *_checks(result),
        "<h2>Summary (latency in ms)</h2>",
        _summary_table([result.total, *([result.service] if result.service else [])]),
        *_service_note(result),
        "<h2>Over time</h2>",
        _figure(_latency_over_time(result)),
        _figure(_throughput_over_time(result)),
        "<h2>Latency distribution</h2>",
        _figure(_distribution(result)),
        *_step_section(result),
        "<h2>By endpoint</h2>",
        _summary_table(result.endpoints),
        "<h2>By journey step</h2>",
        _summary_table(result.steps),
        "<h2>Phases</h2>",
        _phase_table(result),
    ]
    body = "\n".join(sections)
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>livify load test: {escape(result.target_url)}</title>"
        f"<style>{_STYLE}</style></head><body>\n{body}\n</body></html>\n"
    )


def _headline(result: RunResult) -> str:
    peak = describe_load(result.model, result.plan.peak_load)
    return (
        f"{result.model} model, up to {peak}, {result.duration_seconds:.1f} s, "
        f"{result.workers} load process(es); {result.total.requests:,} requests, "
        f"{result.total.throughput_per_second:,.1f} req/s, "
        f"{result.total.error_ratio:.2%} errors; {result.stop_reason}."
    )


def _figure(svg: str) -> str:
    return f"<figure>{svg}</figure>"


def _checks(result: RunResult) -> list[str]:
    if not result.checks:
        return []

    rows = []
    for check in map(CheckOutcome.from_dict, result.checks):
        verdict = "pass" if check.is_passed else "fail"
        rows.append(
            "<tr><td "
            f'class="{verdict}">{verdict.upper()}</td><td>{escape(check.kind)}</td>'
            f"<td>{escape(check.description)}</td>"
            f"<td>{escape(format_metric_value(check.metric, check.observed))}</td>"
            f"<td>{escape(format_metric_value(check.metric, check.limit))}</td></tr>"
        )
    header = _header_row(("result", "kind", "check", "observed", "limit"))
    return ["<h2>Checks</h2>", f"<table>{header}{''.join(rows)}</table>"]


def _summary_table(summaries: Iterable[LatencySummary]) -> str:
    header = _header_row(("name", "requests", "errors", "req/s", *_LATENCY_COLUMNS))
    rows = []
    for summary in summaries:
        latencies = (*summary.latencies_seconds, summary.mean_seconds)
        cells = [
            escape(summary.name),
            f"{summary.requests:,}",
            f"{summary.error_ratio:.2%}",
            f"{summary.throughput_per_second:,.1f}",
            *(f"{seconds * 1000:,.1f}" for seconds in latencies),
        ]
        rows.append("<tr>" + "".join(f"<td>{cell}</td>" for cell in cells) + "</tr>")
    return f"<table>{header}{''.join(rows)}</table>"


def _service_note(result: RunResult) -> list[str]:
    if result.service is None:
        return []
    return [
        '<p class="note">Open model: "total" is measured from each request\'s '
        'intended send time, "service time" from the moment it was actually sent. '
        "The difference is time spent waiting to be sent, which a server stall or "
        "a saturated load generator causes and which a closed-loop tool hides.</p>"
    ]


def _latency_over_time(result: RunResult) -> str:
    timeline = result.timeline
    series = [
        Series(
            name, [(i.offset_seconds, getattr(i, attribute) * 1000) for i in timeline]
        )
        for name, attribute in (
            ("p50", "p50_seconds"),
            ("p95", "p95_seconds"),
            ("p99", "p99_seconds"),
            ("max", "max_seconds"),
        )
    ]
    return render_line_chart(
        f"Latency percentiles per {result.interval_seconds:g} s interval",
        Axis("seconds since start"),
        Axis("ms"),
        series,
    )


def _throughput_over_time(result: RunResult) -> str:
    width = result.interval_seconds
    timeline = result.timeline
    series = [
        Series(
            "requests/s", [(i.offset_seconds, i.requests / width) for i in timeline]
        ),
        Series("errors/s", [(i.offset_seconds, i.failures / width) for i in timeline]),
    ]
    return render_line_chart(
        "Throughput and errors", Axis("seconds since start"), Axis("per second"), series
    )


def _distribution(result: RunResult) -> str:
    encoded = result.histograms.get("total")
    points: list[tuple[float, float]] = []
    if encoded:
        histogram = LatencyHistogram.decode(encoded)
        values = histogram.percentiles_seconds(DISTRIBUTION_PERCENTILES)
        points = [
            (percentile, values[percentile] * 1000)
            for percentile in DISTRIBUTION_PERCENTILES
        ]

    percentile_axis = Axis(
        "percentile (log scale of 1 / (1 - p))",
        minimum=0.0,
        maximum=99.99,
        ticks=PERCENTILE_TICKS,
        transform=_percentile_position,
    )
    return render_line_chart(
        "Latency by percentile, all requests",
        percentile_axis,
        Axis("ms"),
        [Series("latency", points)],
    )


def _percentile_position(percentile: float) -> float:
    return -math.log10(max(1 - percentile / 100, 1e-6))


def _step_section(result: RunResult) -> list[str]:
    if not result.plan.is_step_load:
        return []

    steps = [s for s in result.phases if s.phase.kind == "step"]
    load_label = "offered requests/s" if result.model == "open" else "users"
    throughput = [
        Series(
            "measured throughput",
            [(s.phase.load_end, s.latency.throughput_per_second) for s in steps],
            has_markers=True,
        )
    ]
    latency = [
        Series(
            "p95",
            [(s.phase.load_end, s.latency.p95_seconds * 1000) for s in steps],
            has_markers=True,
        ),
        Series(
            "p99",
            [(s.phase.load_end, s.latency.p99_seconds * 1000) for s in steps],
            has_markers=True,
        ),
    ]
    return [
        "<h2>Throughput against load</h2>",
        _figure(
            render_line_chart(
                "Throughput per step", Axis(load_label), Axis("requests/s"), throughput
            )
        ),
        _figure(
            render_line_chart("Latency per step", Axis(load_label), Axis("ms"), latency)
        ),
    ]


def _phase_table(result: RunResult) -> str:
    header = _header_row(
        ("phase", "load", "req/s", "in flight", "p95 ms", "p99 ms", "errors")
    )
    rows = []
    for summary in result.phases:
        phase, latency = summary.phase, summary.latency
        cells = (
            escape(phase.name),
            escape(describe_load(result.model, phase.load_end)),
            f"{latency.throughput_per_second:,.1f}",
            f"{summary.concurrency:.1f}",
            f"{latency.p95_seconds * 1000:,.1f}",
            f"{latency.p99_seconds * 1000:,.1f}",
            f"{latency.error_ratio:.2%}",
        )
        rows.append("<tr>" + "".join(f"<td>{cell}</td>" for cell in cells) + "</tr>")
    return f"<table>{header}{''.join(rows)}</table>"


def _header_row(names: tuple[str, ...]) -> str:
    return "<tr>" + "".join(f"<th>{escape(name)}</th>" for name in names) + "</tr>"
