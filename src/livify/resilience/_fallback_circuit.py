"""A circuit that decides when a client skips a failing backend for its fallback.

The cache skips Redis and reads L1 and the loader; the rate limiter skips
Redis and counts in memory. Both need the same small state machine:
consecutive failures open it, a cooldown that grows after each failed probe
keeps calls away, and one probe per cooldown tests the backend again.
`CircuitBreaker` is the fuller breaker for outbound HTTP dependencies,
with failure-rate and slow-call windows.
"""

from __future__ import annotations

from livify.resilience._types import CircuitState, Clock

DEFAULT_FAILURE_THRESHOLD = 3
DEFAULT_COOLDOWN_SECONDS = 1.0
DEFAULT_COOLDOWN_MAX_SECONDS = 30.0


class FallbackCircuit:
    """Count consecutive failures and stop calls for a growing cooldown.

    After `failure_threshold` failures in a row the circuit opens for
    `cooldown_seconds`. Then one call may probe: a success closes the
    circuit, a failure opens it again for twice the previous cooldown, up to
    `cooldown_max_seconds` (equal to `cooldown_seconds` for a fixed
    cooldown). A probe that reports nothing within one cooldown (its task
    was cancelled) lets the next call probe.
    """

    def __init__(
        self,
        *,
        clock: Clock,
        failure_threshold: int = DEFAULT_FAILURE_THRESHOLD,
        cooldown_seconds: float = DEFAULT_COOLDOWN_SECONDS,
        cooldown_max_seconds: float = DEFAULT_COOLDOWN_MAX_SECONDS,
    ) -> None:
        if failure_threshold <= 0:
            msg = f"failure_threshold must be positive, got {failure_threshold!r}"
            raise ValueError(msg)

        if not 0 < cooldown_seconds <= cooldown_max_seconds:
            msg = (
                f"need 0 < cooldown_seconds <= cooldown_max_seconds, got "
                f"{cooldown_seconds!r} and {cooldown_max_seconds!r}"
            )
            raise ValueError(msg)

        self._clock = clock
        self.failure_threshold = failure_threshold
        self.cooldown_seconds = cooldown_seconds
        self.cooldown_max_seconds = cooldown_max_seconds
        self.state = CircuitState.CLOSED
        self._failures = 0
        self._cooldown = cooldown_seconds
        self._retry_at = 0.0

    @property
    def is_open(self) -> bool:
        """Whether calls are being kept away (open or probing)."""
        return self.state is not CircuitState.CLOSED

    def allow(self) -> bool:
        """Return whether a call may go to the backend now."""
        if self.state is CircuitState.CLOSED:
            return True

        now = self._clock()
        if now < self._retry_at:
            return False

        # One probe per cooldown; concurrent callers keep to the fallback.
        self.state = CircuitState.HALF_OPEN
        self._retry_at = now + self._cooldown
        return True

    def record_success(self) -> bool:
        """Close the circuit; return True when it was open until now."""
        was_open = self.is_open
        self.state = CircuitState.CLOSED
        self._failures = 0
        self._cooldown = self.cooldown_seconds
        return was_open

    def record_failure(self) -> bool:
        """Count a failure; return True when it opened a closed circuit."""
        self._failures += 1
        if self.state is CircuitState.HALF_OPEN:
            self._cooldown = min(self._cooldown * 2, self.cooldown_max_seconds)
        elif self.state is CircuitState.OPEN or self._failures < self.failure_threshold:
            return False

        was_closed = self.state is CircuitState.CLOSED
        self.state = CircuitState.OPEN
        self._retry_at = self._clock() + self._cooldown
        return was_closed
