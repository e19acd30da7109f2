"""Hook points through which outbound calls report what they do.

The application wires a sink: `ResilienceMetrics` records Prometheus
metrics, and any object with these methods can count, log or trace
instead. Every method runs on the call path, so it must return quickly and
not raise.
"""

from __future__ import annotations

from typing import Protocol

from livify.resilience._types import CallOutcome, CircuitState


class ResilienceHooks(Protocol):
    """Receive the events of outbound calls, labelled with the dependency name."""

    def on_call(
        self, dependency: str, outcome: CallOutcome, duration_seconds: float
    ) -> None:
        """Record a call that ended, after all its attempts and waits."""

    def on_retry(self, dependency: str, attempt: int, delay_seconds: float) -> None:
        """Record that attempt `attempt` failed and the next starts after the delay."""

    def on_retry_rejected(self, dependency: str) -> None:
        """Record a failed attempt not retried because the retry budget was spent."""

    def on_breaker_transition(
        self, dependency: str, previous: CircuitState, current: CircuitState
    ) -> None:
        """Record a circuit breaker transition from `previous` to `current`."""

    def on_bulkhead_rejected(self, dependency: str) -> None:
        """Record a call that found no free bulkhead slot in time."""


class NoHooks:
    """Hooks that do nothing, the default."""

    def on_call(
        self, dependency: str, outcome: CallOutcome, duration_seconds: float
    ) -> None:
        pass

    def on_retry(self, dependency: str, attempt: int, delay_seconds: float) -> None:
        pass

    def on_retry_rejected(self, dependency: str) -> None:
        pass

    def on_breaker_transition(
        self, dependency: str, previous: CircuitState, current: CircuitState
    ) -> None:
        pass

    def on_bulkhead_rejected(self, dependency: str) -> None:
        pass
