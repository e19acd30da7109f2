"""Hand out the open model's arrivals to the users of one process."""

from __future__ import annotations

from livify.loadtest._plan import LoadPlan


class ArrivalSchedule:
    """The intended send times of one load-generating process, in order.

    Process `worker_index` of `worker_count` takes the plan's arrivals
    `worker_index`, `worker_index + worker_count`, and so on, so the
    processes together send at the plan's rate and none sends the same
    arrival twice. Users call `claim` when they are free, then wait until the returned
    offset. When every user is busy, an arrival waits for one, and its
    latency, measured from the offset, includes that wait.
    """

    def __init__(
        self, plan: LoadPlan, *, worker_index: int = 0, worker_count: int = 1
    ) -> None:
        if worker_count < 1 or not 0 <= worker_index < worker_count:
            msg = (
                f"worker_index must be in [0, worker_count), got {worker_index!r} "
                f"of {worker_count!r}"
            )
            raise ValueError(msg)

        self._plan = plan
        self._next_index = worker_index
        self._stride = worker_count
        self.claimed = 0

    def claim(self) -> float | None:
        """Return the next arrival's offset from the run's start, None at the end."""
        offset = self._plan.arrival_offset(self._next_index)
        if offset is not None:
            self._next_index += self._stride
            self.claimed += 1
        return offset
