"""Step-load points taken from a load-test result."""

from __future__ import annotations

from dataclasses import dataclass

from livify.loadtest import LoadModel, PhaseKind, RunResult


@dataclass(frozen=True)
class LoadPoint:
    """The measurements of one step.

    `concurrency` is the step's users in the closed model, and the mean
    number of requests in flight (Little's law) in the open model, where the
    load itself is a rate.
    """

    name: str
    load: float
    concurrency: float
    throughput_per_second: float
    p95_seconds: float
    error_ratio: float


def step_points(result: RunResult) -> list[LoadPoint]:
    """Return the steps of a step-load run, or its non-ramp phases otherwise."""
    phases = [s for s in result.phases if s.phase.kind is not PhaseKind.RAMP]
    points = []
    for summary in phases:
        if result.model is LoadModel.CLOSED:
            concurrency = summary.phase.load_end
        else:
            concurrency = summary.concurrency
        points.append(
            LoadPoint(
                name=summary.phase.name,
                load=summary.phase.load_end,
                concurrency=concurrency,
                throughput_per_second=summary.latency.throughput_per_second,
                p95_seconds=summary.latency.p95_seconds,
                error_ratio=summary.latency.error_ratio,
            )
        )
    return points
