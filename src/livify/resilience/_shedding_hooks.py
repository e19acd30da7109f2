"""Hook points through which load shedding reports what it does.

The application wires a sink: `SheddingMetrics` records Prometheus metrics,
and any object with these methods can count or log instead. Every method
runs on the request path, so it must return quickly and not raise.
"""

from __future__ import annotations

from typing import Literal, Protocol

ShedReason = Literal["queue_full", "queue_timeout"]


class SheddingHooks(Protocol):
    """Receive the admission decisions of `Admission`."""

    def on_admit(self, queue_wait_seconds: float) -> None:
        """Record a request admitted after `queue_wait_seconds` (0: no wait)."""

    def on_shed(self, reason: ShedReason) -> None:
        """Record a request rejected because the queue was full or its wait ran out."""

    def on_in_flight_change(self, in_flight: int) -> None:
        """Record a new count of admitted requests still running."""

    def on_limit_change(self, limit: int) -> None:
        """Record that the adaptive concurrency limit moved to `limit`."""


class NoSheddingHooks:
    """Hooks that do nothing, the default."""

    def on_admit(self, queue_wait_seconds: float) -> None:
        pass

    def on_shed(self, reason: ShedReason) -> None:
        pass

    def on_in_flight_change(self, in_flight: int) -> None:
        pass

    def on_limit_change(self, limit: int) -> None:
        pass
