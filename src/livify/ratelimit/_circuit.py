"""A breaker that keeps decisions local for a cooldown after Redis fails."""

from __future__ import annotations

from livify.ratelimit._types import Clock

DEFAULT_COOLDOWN_SECONDS = 5.0


class Circuit:
    """Open on a Redis failure and let one call probe Redis after `cooldown_seconds`.

    A failure is enough to open it because every failed call already cost
    the request a timeout. A probe that fails opens it for another cooldown.
    """

    def __init__(
        self, *, clock: Clock, cooldown_seconds: float = DEFAULT_COOLDOWN_SECONDS
    ) -> None:
        if cooldown_seconds <= 0:
            msg = f"cooldown_seconds must be positive, got {cooldown_seconds!r}"
            raise ValueError(msg)

        self._clock = clock
        self.cooldown_seconds = cooldown_seconds
        self.is_open = False
        self._retry_at = 0.0

    def allow(self) -> bool:
        """Return whether a call may go to Redis now."""
        if not self.is_open:
            return True

        now = self._clock()
        if now < self._retry_at:
            return False

        # One probe per cooldown; concurrent callers stay local meanwhile.
        self._retry_at = now + self.cooldown_seconds
        return True

    def record_success(self) -> bool:
        """Close the circuit; return True when it was open until now."""
        was_open = self.is_open
        self.is_open = False
        return was_open

    def record_failure(self) -> bool:
        """Open the circuit; return True when it was closed until now."""
        was_closed = not self.is_open
        self.is_open = True
        self._retry_at = self._clock() + self.cooldown_seconds
        return was_closed
