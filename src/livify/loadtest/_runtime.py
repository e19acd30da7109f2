"""The state that the users of one load-generating process share during a run."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from livify.loadtest._arrivals import ArrivalSchedule
from livify.loadtest._catalogue import Catalogue, load_catalogue
from livify.loadtest._journeys import (
    MEMBER_JOURNEYS,
    VISITOR_JOURNEYS,
    Journey,
    Member,
    StepChoice,
    StepContext,
    sign_up,
    step_mix,
)
from livify.loadtest._plan import LoadModel, LoadPlan
from livify.loadtest._recorder import Recorder
from livify.loadtest._session import Session

DEFAULT_THINK_MIN_SECONDS = 0.5
DEFAULT_THINK_MAX_SECONDS = 2.0
DEFAULT_MEMBER_SHARE = 0.3
# Members the open model signs up in each process, shared by its arrivals.
DEFAULT_OPEN_MODEL_MEMBERS = 4
SETUP_PHASE = "setup"
CLEANUP_PHASE = "cleanup"


@dataclass
class WorkloadSettings:
    """The workload every process must agree on, sent by the master to its workers."""

    plan: LoadPlan
    target_url: str
    run_tag: str
    member_share: float = DEFAULT_MEMBER_SHARE
    think_min_seconds: float = DEFAULT_THINK_MIN_SECONDS
    think_max_seconds: float = DEFAULT_THINK_MAX_SECONDS
    open_model_members: int = DEFAULT_OPEN_MODEL_MEMBERS
    random_seed: int | None = None
    journeys: tuple[Journey, ...] = VISITOR_JOURNEYS + MEMBER_JOURNEYS

    def to_dict(self) -> dict[str, Any]:
        return {
            "plan": self.plan.to_dict(),
            "target_url": self.target_url,
            "run_tag": self.run_tag,
            "member_share": self.member_share,
            "think_min_seconds": self.think_min_seconds,
            "think_max_seconds": self.think_max_seconds,
            "open_model_members": self.open_model_members,
            "random_seed": self.random_seed,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> WorkloadSettings:
        fields = {**data, "plan": LoadPlan.from_dict(data["plan"])}
        return cls(**fields)


@dataclass
class Runtime:
    """Per-process state: the recorder, the catalogue, arrivals and members.

    `started_at` is the `clock()` value at which the plan's offset 0 falls.
    """

    recorder: Recorder
    settings: WorkloadSettings | None = None
    worker_index: int = 0
    worker_count: int = 1
    started_at: float = 0.0
    is_stopping: bool = False
    is_armed: bool = False
    in_flight: int = 0
    clock: Callable[[], float] = time.perf_counter
    schedule: ArrivalSchedule | None = None
    members: list[Member] = field(default_factory=list)
    _catalogue: Catalogue | None = None
    _lock: threading.RLock = field(default_factory=threading.RLock)
    _user_numbers: int = 0
    _has_signed_up: bool = False
    _mix: tuple[StepChoice, ...] = ()

    def configure(
        self,
        settings: WorkloadSettings,
        *,
        worker_index: int = 0,
        worker_count: int = 1,
    ) -> None:
        """Get ready for a run whose offset 0 is now."""
        self.settings = settings
        self.worker_index = worker_index
        self.worker_count = worker_count
        self.started_at = self.clock()
        self.is_stopping = False
        # The open model's clock starts once its senders are set up, so that
        # sign-ups do not count as queueing in the first arrivals' latency.
        self.is_armed = settings.plan.model is LoadModel.CLOSED
        self._mix = step_mix(settings.journeys, member_share=settings.member_share)
        if settings.plan.model is LoadModel.OPEN:
            self.schedule = ArrivalSchedule(
                settings.plan, worker_index=worker_index, worker_count=worker_count
            )

    @property
    def workload(self) -> WorkloadSettings:
        if self.settings is None:
            msg = "the runtime has no workload yet; call configure() first"
            raise RuntimeError(msg)
        return self.settings

    def new_rng(self) -> random.Random:
        """Return a generator for one user, repeatable when a seed was given."""
        seed = self.workload.random_seed
        if seed is None:
            return random.Random()
        return random.Random(f"{seed}-{self.next_user_number()}")

    def next_user_number(self) -> int:
        with self._lock:
            self._user_numbers += 1
            return self.worker_index * 1_000_000 + self._user_numbers

    def catalogue(self, session: Session) -> Catalogue:
        """Load the catalogue through the first caller's session, once."""
        with self._lock:
            if self._catalogue is None:
                self._catalogue = load_catalogue(session)
            return self._catalogue

    def open_model_members(self, session: Session, rng: random.Random) -> list[Member]:
        """Sign up the open model's shared members through the first caller.

        With a member share of 0 no member is needed, so none signs up.
        """
        with self._lock:
            if self._has_signed_up or self.workload.member_share <= 0:
                return self.members

            self._has_signed_up = True

            context = StepContext(session, Catalogue(), rng)
            for _ in range(self.workload.open_model_members):
                member = sign_up(
                    context,
                    run_tag=self.workload.run_tag,
                    number=self.next_user_number(),
                )
                if member is not None:
                    self.members.append(member)
            return self.members

    def arm(self) -> None:
        """Start the open model's arrivals now, unless they already started."""
        with self._lock:
            if not self.is_armed:
                self.started_at = self.clock()
                self.is_armed = True

    def phase_name(self) -> str:
        """Return the name of the plan's phase now, `setup` or `cleanup` outside it."""
        if not self.is_armed or self.settings is None:
            return SETUP_PHASE
        if self.is_stopping:
            return CLEANUP_PHASE

        elapsed = self.clock() - self.started_at
        phase = self.settings.plan.phase_at(elapsed)
        if elapsed < 0:
            return SETUP_PHASE
        return CLEANUP_PHASE if phase is None else phase.name

    def think_seconds(self, rng: random.Random) -> float:
        """Return a think time drawn evenly between the workload's bounds."""
        workload = self.workload
        return rng.uniform(workload.think_min_seconds, workload.think_max_seconds)

    def pick_step(self, rng: random.Random) -> StepChoice:
        return rng.choices(self._mix, weights=[choice.weight for choice in self._mix])[
            0
        ]
