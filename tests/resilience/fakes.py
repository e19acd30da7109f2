"""A manual clock for the time-based resilience algorithms."""

from __future__ import annotations


class FakeClock:
    """A monotonic clock that moves only when a test calls `advance`."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds
