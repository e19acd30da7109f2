"""Type aliases and enums shared by the resilience modules."""

from __future__ import annotations

import enum
from collections.abc import Awaitable, Callable
from typing import Literal

Clock = Callable[[], float]
"""A monotonic clock in seconds, such as `time.monotonic`."""

Sleep = Callable[[float], Awaitable[None]]
"""An async sleep in seconds, such as `asyncio.sleep`."""

CallOutcome = Literal[
    "success",
    "client_error",
    "failed",
    "timeout",
    "circuit_open",
    "bulkhead_full",
    "cancelled",
]
"""Outcome of a call: 2xx or 3xx, 4xx, or the error or cancellation that ended it."""


class CircuitState(enum.Enum):
    """State of a circuit breaker; `value` is the breaker state gauge's number."""

    CLOSED = 0
    HALF_OPEN = 1
    OPEN = 2

    @property
    def label(self) -> str:
        return self.name.lower()
