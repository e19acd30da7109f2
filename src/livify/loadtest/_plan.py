"""Load plans: the phases of a run and the load each one applies.

The load is a number of concurrent users in the closed model and an arrival
rate in requests per second in the open model. A plan is a ramp from zero to
the base load, then either one steady phase or a series of steps that each add
`step_increment` on top of the last, to find where the target saturates.
"""

from __future__ import annotations

import enum
import math
from dataclasses import asdict, dataclass
from typing import Any

DEFAULT_RAMP_SECONDS = 5.0
DEFAULT_STEADY_SECONDS = 20.0
DEFAULT_STEP_SECONDS = 15.0


class LoadModel(enum.StrEnum):
    """The way load is applied.

    CLOSED: a fixed number of users, each sending its next request after the
    previous response and a think time, so a slow server receives less load.
    OPEN: requests arrive at a set rate whatever the server does, as they do
    from a large population of independent users.
    """

    CLOSED = "closed"
    OPEN = "open"


class PhaseKind(enum.StrEnum):
    RAMP = "ramp"
    STEADY = "steady"
    STEP = "step"


@dataclass(frozen=True)
class Phase:
    """A stretch of a run whose load goes linearly from `load_start` to `load_end`."""

    name: str
    kind: PhaseKind
    start_seconds: float
    duration_seconds: float
    load_start: float
    load_end: float

    @property
    def end_seconds(self) -> float:
        return self.start_seconds + self.duration_seconds

    def load_at(self, elapsed_seconds: float) -> float:
        """Return the load at `elapsed_seconds` after the run started."""
        if self.duration_seconds <= 0:
            return self.load_end
        share = (elapsed_seconds - self.start_seconds) / self.duration_seconds
        share = min(max(share, 0.0), 1.0)
        return self.load_start + (self.load_end - self.load_start) * share

    def arrivals_until(self, elapsed_seconds: float) -> float:
        """Return the arrivals this phase has sent by `elapsed_seconds` (open model)."""
        span = min(
            max(elapsed_seconds - self.start_seconds, 0.0), self.duration_seconds
        )
        return (self.load_start + self.load_at(self.start_seconds + span)) / 2 * span

    def offset_of_arrival(self, arrivals: float) -> float:
        """Return the offset into this phase at which `arrivals` have been sent.

        The rate is linear in time, so the count is quadratic and solved in
        closed form. Raises ValueError when the phase never sends that many.
        """
        if arrivals > self.arrivals_until(self.end_seconds) + 1e-9:
            msg = f"phase {self.name!r} sends fewer than {arrivals!r} arrivals"
            raise ValueError(msg)

        slope = (self.load_end - self.load_start) / max(self.duration_seconds, 1e-12)
        if abs(slope) < 1e-12:
            return arrivals / self.load_start if self.load_start > 0 else 0.0

        # load_start * t + slope / 2 * t^2 = arrivals
        discriminant = self.load_start**2 + 2 * slope * arrivals
        return (-self.load_start + math.sqrt(max(discriminant, 0.0))) / slope


@dataclass(frozen=True)
class LoadPlan:
    """The phases of one run, back to back from offset 0."""

    model: LoadModel
    phases: tuple[Phase, ...]

    @property
    def duration_seconds(self) -> float:
        return self.phases[-1].end_seconds if self.phases else 0.0

    @property
    def peak_load(self) -> float:
        return max((max(p.load_start, p.load_end) for p in self.phases), default=0.0)

    @property
    def is_step_load(self) -> bool:
        return any(phase.kind is PhaseKind.STEP for phase in self.phases)

    def phase_at(self, elapsed_seconds: float) -> Phase | None:
        """Return the phase running at `elapsed_seconds`, None after the end."""
        for phase in self.phases:
            if elapsed_seconds < phase.end_seconds:
                return phase
        return None

    def load_at(self, elapsed_seconds: float) -> float | None:
        """Return the load at `elapsed_seconds`, None after the end of the plan."""
        phase = self.phase_at(elapsed_seconds)
        return None if phase is None else phase.load_at(elapsed_seconds)

    def arrival_offset(self, index: int) -> float | None:
        """Return when arrival `index` (from 0) is due, None if after the end.

        The open model's arrivals are evenly spaced in the cumulative count:
        arrival k is sent when k + 1/2 arrivals are due, so a constant rate r
        sends at 0.5/r, 1.5/r, and so on.
        """
        target = index + 0.5
        for phase in self.phases:
            in_phase = phase.arrivals_until(phase.end_seconds)
            if target <= in_phase:
                return phase.start_seconds + phase.offset_of_arrival(target)
            target -= in_phase
        return None

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": str(self.model),
            "phases": [
                {**asdict(phase), "kind": str(phase.kind)} for phase in self.phases
            ],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LoadPlan:
        phases = tuple(
            Phase(**{**phase, "kind": PhaseKind(phase["kind"])})
            for phase in data["phases"]
        )
        return cls(LoadModel(data["model"]), phases)


def build_plan(
    model: LoadModel,
    *,
    load: float,
    ramp_seconds: float = DEFAULT_RAMP_SECONDS,
    steady_seconds: float = DEFAULT_STEADY_SECONDS,
    step_count: int = 0,
    step_increment: float = 0.0,
    step_seconds: float = DEFAULT_STEP_SECONDS,
) -> LoadPlan:
    """Build a ramp to `load`, then a steady phase, or `step_count` steps.

    With `step_count` > 0, step 1 applies `load` and each later step adds
    `step_increment`, each for `step_seconds`; there is no steady phase.
    Raises ValueError for a load that is not positive, a negative duration,
    or steps that would not increase the load.
    """
    _check_plan_arguments(load, ramp_seconds, steady_seconds, step_count)
    if step_count > 0 and not step_increment > 0:
        msg = f"step_increment must be positive for a step load, got {step_increment!r}"
        raise ValueError(msg)

    phases: list[Phase] = []
    offset = 0.0
    if ramp_seconds > 0:
        phases.append(Phase("ramp", PhaseKind.RAMP, offset, ramp_seconds, 0.0, load))
        offset += ramp_seconds

    if step_count == 0:
        phases.append(
            Phase("steady", PhaseKind.STEADY, offset, steady_seconds, load, load)
        )
        return LoadPlan(model, tuple(phases))

    for number in range(1, step_count + 1):
        step_load = load + (number - 1) * step_increment
        phases.append(
            Phase(
                f"step {number}",
                PhaseKind.STEP,
                offset,
                step_seconds,
                step_load,
                step_load,
            )
        )
        offset += step_seconds
    return LoadPlan(model, tuple(phases))


def _check_plan_arguments(
    load: float, ramp_seconds: float, steady_seconds: float, step_count: int
) -> None:
    if not load > 0:
        msg = f"load must be positive (users or requests/s), got {load!r}"
        raise ValueError(msg)

    if ramp_seconds < 0 or steady_seconds < 0:
        msg = (
            f"durations must not be negative, got ramp {ramp_seconds!r} s "
            f"and steady {steady_seconds!r} s"
        )
        raise ValueError(msg)

    if step_count < 0:
        msg = f"step_count must not be negative, got {step_count!r}"
        raise ValueError(msg)
