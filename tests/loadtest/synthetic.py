"""Load-test results built from made-up samples, without a server."""

from __future__ import annotations

import random

from livify.loadtest import (
    LoadModel,
    LoadPlan,
    Recorder,
    RunResult,
    Sample,
    build_plan,
    build_result,
)

STARTED_AT = 1_700_000_000.0
ENDPOINTS = ("GET /api/articles", "GET /api/articles/{slug}", "POST /api/users")


def synthetic_result(
    *,
    latency_scale: float = 1.0,
    failure_ratio: float = 0.0,
    requests: int = 2_000,
    plan: LoadPlan | None = None,
    seed: int = 7,
) -> RunResult:
    """Return a result of `requests` lognormal latencies over the plan's length.

    `latency_scale` multiplies every latency, which is how a test injects a
    regression; the random draws stay the same for the same `seed`.
    """
    plan = plan or build_plan(
        LoadModel.CLOSED, load=10, ramp_seconds=0, steady_seconds=20
    )
    rng = random.Random(seed)
    recorder = Recorder()
    duration = plan.duration_seconds
    for index in range(requests):
        latency = rng.lognormvariate(-4.0, 0.5) * latency_scale
        is_failure = rng.random() < failure_ratio
        offset = duration * (index + 0.5) / requests
        phase = plan.phase_at(offset)
        recorder.record(
            Sample(
                endpoint=ENDPOINTS[index % len(ENDPOINTS)],
                step="browse.home",
                latency_seconds=latency,
                service_seconds=latency,
                status=500 if is_failure else 200,
                is_failure=is_failure,
                finished_at=STARTED_AT + offset,
                phase="cleanup" if phase is None else phase.name,
            )
        )
    return build_result(
        recorder,
        plan=plan,
        target_url="http://127.0.0.1:9",
        started_at=STARTED_AT,
        ended_at=STARTED_AT + duration,
        workers=1,
        workload={},
    )


def synthetic_step_result(
    model: LoadModel, *, ramp_seconds: float = 0.0, requests: int = 4_000
) -> RunResult:
    """Return a step-load result: 4 steps of 5 s from 10, adding 10 per step."""
    plan = build_plan(
        model,
        load=10,
        ramp_seconds=ramp_seconds,
        step_count=4,
        step_increment=10,
        step_seconds=5,
    )
    return synthetic_result(plan=plan, requests=requests)
