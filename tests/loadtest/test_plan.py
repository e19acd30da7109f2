"""Load plans: phases, loads over time and open-model arrival times."""

from __future__ import annotations

import pytest

from livify.loadtest import ArrivalSchedule, LoadModel, LoadPlan, PhaseKind, build_plan


def arrival_offsets(schedule: ArrivalSchedule) -> list[float]:
    offsets = []
    while (offset := schedule.claim()) is not None:
        offsets.append(offset)
    return offsets


def test_constant_rate_spaces_arrivals_evenly() -> None:
    """At 10 requests/s for 3 s, 30 arrivals come 0.1 s apart from 0.05 s."""
    plan = build_plan(LoadModel.OPEN, load=10, ramp_seconds=0, steady_seconds=3)
    offsets = arrival_offsets(ArrivalSchedule(plan))
    assert len(offsets) == 30
    assert offsets[0] == pytest.approx(0.05)
    assert offsets[-1] == pytest.approx(2.95)


def test_ramp_sends_half_the_steady_count() -> None:
    """A linear ramp from 0 to 20/s over 2 s sends 20 arrivals, late ones denser."""
    plan = build_plan(LoadModel.OPEN, load=20, ramp_seconds=2, steady_seconds=1)
    offsets = arrival_offsets(ArrivalSchedule(plan))
    assert len(offsets) == 20 + 20
    ramp = [offset for offset in offsets if offset < 2]
    assert len(ramp) == 20
    assert ramp[1] - ramp[0] > ramp[-1] - ramp[-2]


def test_workers_split_arrivals_without_overlap() -> None:
    """Three workers together send each of the plan's arrivals exactly once."""
    plan = build_plan(LoadModel.OPEN, load=15, ramp_seconds=1, steady_seconds=2)
    alone = arrival_offsets(ArrivalSchedule(plan))
    shared = sorted(
        offset
        for index in range(3)
        for offset in arrival_offsets(
            ArrivalSchedule(plan, worker_index=index, worker_count=3)
        )
    )
    assert shared == alone


def test_step_plan_adds_load_per_step() -> None:
    """Steps start at the base load and add the increment, with no steady phase."""
    plan = build_plan(
        LoadModel.CLOSED,
        load=10,
        ramp_seconds=5,
        step_count=3,
        step_increment=5,
        step_seconds=10,
    )
    kinds = [phase.kind for phase in plan.phases]
    assert kinds == [PhaseKind.RAMP, PhaseKind.STEP, PhaseKind.STEP, PhaseKind.STEP]
    assert [phase.load_end for phase in plan.phases] == [10, 10, 15, 20]
    assert plan.duration_seconds == 35
    assert plan.load_at(2.5) == pytest.approx(5)
    assert plan.load_at(36) is None
    assert LoadPlan.from_dict(plan.to_dict()) == plan


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"load": 0}, "load must be positive"),
        ({"load": 5, "ramp_seconds": -1}, "must not be negative"),
        ({"load": 5, "step_count": 2}, "step_increment"),
    ],
)
def test_invalid_plans_are_rejected(arguments: dict[str, float], message: str) -> None:
    """Plans without load, with negative times or flat steps raise ValueError."""
    with pytest.raises(ValueError, match=message):
        build_plan(LoadModel.CLOSED, **arguments)  # type: ignore[arg-type]
