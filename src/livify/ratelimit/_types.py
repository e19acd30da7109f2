"""Small types shared by the rate limiter's modules."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Literal, TypeAlias

Clock: TypeAlias = Callable[[], float]
Sleep: TypeAlias = Callable[[float], Awaitable[None]]
AlgorithmName: TypeAlias = Literal["fixed_window", "sliding_window", "gcra"]
Outcome: TypeAlias = Literal["allowed", "warned", "delayed", "limited"]
# The fields of a `Usage` in order. The memory store's hot path passes these
# plain tuples, because building the frozen dataclass costs about 0.5 µs.
UsageValues: TypeAlias = tuple[bool, float, float, float]


@dataclass(frozen=True, slots=True)
class Usage:
    """The result of one hit on one counter.

    `used` is the weighted amount counted against the limit after this hit
    (before it, when rejected), in requests or cost units. `reset_seconds`
    is the time until the counter forgets what it holds now, and
    `retry_after_seconds` the wait before the same hit would be admitted
    (0.0 when admitted).
    """

    is_allowed: bool
    used: float
    reset_seconds: float
    retry_after_seconds: float


@dataclass(frozen=True, slots=True)
class Hit:
    """One counter to charge: its algorithm, key, rate and the request's cost.

    `capacity` is the hard limit the algorithm enforces, `limit` the nominal
    one per `window_seconds` (GCRA derives its rate from it).
    """

    algorithm: AlgorithmName
    key: str
    limit: int
    capacity: int
    window_seconds: float
    cost: int = 1
