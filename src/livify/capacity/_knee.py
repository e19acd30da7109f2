"""The knee: the load at which p95 latency crosses the SLO."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

from livify.capacity._points import LoadPoint


@dataclass(frozen=True)
class Knee:
    """The point where p95 reaches `slo_p95_seconds`, interpolated between steps.

    `is_reached` is False when no step broke the SLO; the numbers are then
    those of the last step, a lower bound. `is_below_range` is True when the
    first step already broke it; they are then those of the first step.
    """

    slo_p95_seconds: float
    concurrency: float
    throughput_per_second: float
    is_reached: bool
    is_below_range: bool = False


def find_knee(points: Sequence[LoadPoint], slo_p95_seconds: float) -> Knee:
    """Interpolate linearly between the last step within the SLO and the next.

    Raises ValueError when `points` is empty.
    """
    if not points:
        msg = "find_knee needs at least one step-load point"
        raise ValueError(msg)

    ordered = sorted(points, key=lambda point: point.concurrency)
    if ordered[0].p95_seconds > slo_p95_seconds:
        first = ordered[0]
        return Knee(
            slo_p95_seconds, first.concurrency, first.throughput_per_second, True, True
        )

    for below, above in itertools.pairwise(ordered):
        if above.p95_seconds > slo_p95_seconds:
            share = (slo_p95_seconds - below.p95_seconds) / (
                above.p95_seconds - below.p95_seconds
            )
            return Knee(
                slo_p95_seconds,
                _between(below.concurrency, above.concurrency, share),
                _between(
                    below.throughput_per_second, above.throughput_per_second, share
                ),
                is_reached=True,
            )

    last = ordered[-1]
    return Knee(slo_p95_seconds, last.concurrency, last.throughput_per_second, False)


def _between(low: float, high: float, share: float) -> float:
    return low + (high - low) * share
