"""Line charts as inline SVG, so reports need no script, font or network."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from html import escape

PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b")
WIDTH = 760
HEIGHT = 300
MARGIN_LEFT = 64
MARGIN_RIGHT = 16
MARGIN_TOP = 34
MARGIN_BOTTOM = 44
TICK_COUNT = 6


@dataclass(frozen=True)
class Series:
    """One line (or set of markers) of a chart, in data coordinates."""

    label: str
    points: Sequence[tuple[float, float]]
    has_line: bool = True
    has_markers: bool = False
    is_dashed: bool = False


@dataclass(frozen=True)
class Axis:
    """An axis label, an optional fixed range and optional fixed ticks.

    `transform` maps data values to the plotted scale, e.g. for the
    percentile axis of a latency distribution.
    """

    label: str
    minimum: float | None = None
    maximum: float | None = None
    ticks: Sequence[tuple[float, str]] = ()
    transform: Callable[[float], float] = field(default=lambda value: value)


def nice_ticks(low: float, high: float, count: int = TICK_COUNT) -> list[float]:
    """Return round tick values covering [low, high], about `count` of them."""
    if not math.isfinite(low) or not math.isfinite(high) or high <= low:
        return [low]

    raw = (high - low) / max(count - 1, 1)
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    first = math.floor(low / step) * step
    ticks = []
    value = first
    while value <= high + step * 1e-9:
        ticks.append(round(value, 12))
        value += step
    return ticks


def format_tick(value: float) -> str:
    if value == 0:
        return "0"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:g}"


def render_line_chart(
    title: str, x_axis: Axis, y_axis: Axis, series: Sequence[Series]
) -> str:
    """Return an `<svg>` element plotting `series`; an empty chart shows "no data"."""
    points = [
        (x_axis.transform(x), y_axis.transform(y))
        for one in series
        for x, y in one.points
        if math.isfinite(x) and math.isfinite(y)
    ]
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'width="{WIDTH}" height="{HEIGHT}" role="img" aria-label="{escape(title)}" '
        'font-family="sans-serif" font-size="11">',
        f'<text x="{WIDTH / 2}" y="16" text-anchor="middle" font-size="13" '
        f'font-weight="bold">{escape(title)}</text>',
    ]
    if not points:
        parts.append(
            f'<text x="{WIDTH / 2}" y="{HEIGHT / 2}" '
            'text-anchor="middle">no data</text>'
        )
        return "".join(parts) + "</svg>"

    frame = _Frame.fit(points, x_axis, y_axis)
    parts += frame.axes(x_axis, y_axis)
    for index, one in enumerate(series):
        parts += frame.series(one, PALETTE[index % len(PALETTE)], x_axis, y_axis)
    parts += _legend(series)
    return "".join(parts) + "</svg>"


@dataclass(frozen=True)
class _Frame:
    x_low: float
    x_high: float
    y_low: float
    y_high: float
    x_ticks: list[tuple[float, str]]
    y_ticks: list[tuple[float, str]]

    @classmethod
    def fit(
        cls, points: list[tuple[float, float]], x_axis: Axis, y_axis: Axis
    ) -> _Frame:
        xs = [x for x, _ in points]
        ys = [y for _, y in points]
        x_low = min(xs) if x_axis.minimum is None else x_axis.transform(x_axis.minimum)
        x_high = max(xs) if x_axis.maximum is None else x_axis.transform(x_axis.maximum)
        y_low = 0.0 if y_axis.minimum is None else y_axis.minimum
        y_high = max(ys) * 1.05 if y_axis.maximum is None else y_axis.maximum
        if x_high <= x_low:
            x_high = x_low + 1
        if y_high <= y_low:
            y_high = y_low + 1

        x_ticks = _ticks(x_axis, x_low, x_high)
        y_values = nice_ticks(y_low, y_high)
        y_high = max(y_high, y_values[-1])
        y_ticks = [(value, format_tick(value)) for value in y_values]
        return cls(x_low, x_high, y_low, y_high, x_ticks, y_ticks)

    def x(self, value: float) -> float:
        share = (value - self.x_low) / (self.x_high - self.x_low)
        return MARGIN_LEFT + share * (WIDTH - MARGIN_LEFT - MARGIN_RIGHT)

    def y(self, value: float) -> float:
        share = (value - self.y_low) / (self.y_high - self.y_low)
        return HEIGHT - MARGIN_BOTTOM - share * (HEIGHT - MARGIN_TOP - MARGIN_BOTTOM)

    def axes(self, x_axis: Axis, y_axis: Axis) -> list[str]:
        bottom, top = HEIGHT - MARGIN_BOTTOM, MARGIN_TOP
        left, right = MARGIN_LEFT, WIDTH - MARGIN_RIGHT
        parts = [
            f'<rect x="{left}" y="{top}" width="{right - left}" '
            f'height="{bottom - top}" '
            'fill="none" stroke="#999"/>'
        ]
        for value, label in self.y_ticks:
            y = self.y(value)
            parts.append(
                f'<line x1="{left}" y1="{y:.1f}" x2="{right}" y2="{y:.1f}" '
                'stroke="#eee"/>'
                f'<text x="{left - 6}" y="{y + 4:.1f}" '
                f'text-anchor="end">{escape(label)}</text>'
            )
        for value, label in self.x_ticks:
            x = self.x(value)
            parts.append(
                f'<line x1="{x:.1f}" y1="{bottom}" x2="{x:.1f}" '
                f'y2="{bottom + 4}" stroke="#999"/>'
                f'<text x="{x:.1f}" y="{bottom + 16}" '
                f'text-anchor="middle">{escape(label)}</text>'
            )
        parts.append(
            f'<text x="{(left + right) / 2}" y="{HEIGHT - 8}" text-anchor="middle">'
            f"{escape(x_axis.label)}</text>"
            f'<text x="14" y="{(top + bottom) / 2}" text-anchor="middle" '
            'transform="rotate(-90 14 '
            f'{(top + bottom) / 2})">{escape(y_axis.label)}</text>'
        )
        return parts

    def series(self, one: Series, color: str, x_axis: Axis, y_axis: Axis) -> list[str]:
        coordinates = [
            (self.x(x_axis.transform(x)), self.y(y_axis.transform(y)))
            for x, y in one.points
            if math.isfinite(x) and math.isfinite(y)
        ]
        parts = []
        if one.has_line and len(coordinates) > 1:
            path = " ".join(f"{x:.1f},{y:.1f}" for x, y in coordinates)
            dash = ' stroke-dasharray="6 4"' if one.is_dashed else ""
            parts.append(
                f'<polyline points="{path}" fill="none" stroke="{color}" '
                f'stroke-width="1.6"{dash}/>'
            )
        if one.has_markers or len(coordinates) == 1:
            parts += [
                f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="{color}"/>'
                for x, y in coordinates
            ]
        return parts


def _ticks(axis: Axis, low: float, high: float) -> list[tuple[float, str]]:
    if axis.ticks:
        ticks = [(axis.transform(value), label) for value, label in axis.ticks]
    else:
        ticks = [(value, format_tick(value)) for value in nice_ticks(low, high)]
    slack = (high - low) * 1e-9
    return [
        (value, label) for value, label in ticks if low - slack <= value <= high + slack
    ]


def _legend(series: Sequence[Series]) -> list[str]:
    parts = []
    x = MARGIN_LEFT + 8
    for index, one in enumerate(series):
        color = PALETTE[index % len(PALETTE)]
        parts.append(
            f'<rect x="{x}" y="{MARGIN_TOP + 6}" width="10" height="10" '
            f'fill="{color}"/>'
            f'<text x="{x + 14}" y="{MARGIN_TOP + 15}">{escape(one.label)}</text>'
        )
        x += 24 + 7 * len(one.label)
    return parts
