"""Hook points through which the rate limiter reports its decisions.

The application wires a sink: `RateLimitMetrics` records Prometheus
metrics, and any object with these methods can count or log instead. The
methods run on the request path, so they must return quickly and not raise.
"""

from __future__ import annotations

from typing import Protocol

from livify.ratelimit._types import Outcome


class RateLimitHooks(Protocol):
    """Receive the limiter's events, labelled with the limit's name."""

    def on_decision(self, limit: str, outcome: Outcome) -> None:
        """A request was counted against `limit` with this outcome."""

    def on_store_error(self, store: str) -> None:
        """A store call failed or timed out and the local fallback decided."""

    def on_fallback_change(self, is_active: bool) -> None:
        """Decisions moved to the local fallback (`is_active`) or back to Redis."""


class NoHooks:
    """Hooks that do nothing, the default."""

    def on_decision(self, limit: str, outcome: Outcome) -> None:
        pass

    def on_store_error(self, store: str) -> None:
        pass

    def on_fallback_change(self, is_active: bool) -> None:
        pass
