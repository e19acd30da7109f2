"""A circuit breaker that judges a dependency over its most recent calls.

Closed, it keeps the outcomes of the last `window_size` calls and opens
when, with at least `minimum_calls` of them seen, the share of failures
reaches `failure_rate_threshold` or the share of calls that took
`slow_call_seconds` or more reaches `slow_call_rate_threshold`. Open, it
rejects every call with `CircuitOpen` for `open_seconds`. Then it is
half-open: at most `half_open_probes` calls run at once as probes, and the
others are rejected. That many successful probes close it, and one failed
or slow probe opens it again.
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass

from livify.resilience._checks import check_positive, check_rate
from livify.resilience._exceptions import CircuitOpen
from livify.resilience._hooks import NoHooks, ResilienceHooks
from livify.resilience._log import logger
from livify.resilience._types import CircuitState, Clock

DEFAULT_WINDOW_SIZE = 20
DEFAULT_MINIMUM_CALLS = 10
DEFAULT_FAILURE_RATE_THRESHOLD = 0.5
DEFAULT_SLOW_CALL_RATE_THRESHOLD = 0.8
DEFAULT_SLOW_CALL_SECONDS = 5.0
DEFAULT_OPEN_SECONDS = 10.0
DEFAULT_HALF_OPEN_PROBES = 3


@dataclass(frozen=True, slots=True)
class BreakerPermit:
    """Admission of one call; pass it back to `record` or `release`."""

    generation: int
    started_at: float
    is_probe: bool


class CircuitBreaker:
    """Stop calling a dependency that fails or slows down, then probe it.

    One breaker serves one dependency. `name` labels its errors, logs and
    hooks; `Dependency` fills in its own name and hooks where they are not
    given. `clock` is a monotonic clock in seconds and measures both call
    durations and the open period. Raises `ValueError` for a threshold
    outside (0, 1] or a count or duration that is not positive.
    """

    def __init__(
        self,
        *,
        name: str = "",
        window_size: int = DEFAULT_WINDOW_SIZE,
        minimum_calls: int = DEFAULT_MINIMUM_CALLS,
        failure_rate_threshold: float = DEFAULT_FAILURE_RATE_THRESHOLD,
        slow_call_rate_threshold: float = DEFAULT_SLOW_CALL_RATE_THRESHOLD,
        slow_call_seconds: float = DEFAULT_SLOW_CALL_SECONDS,
        open_seconds: float = DEFAULT_OPEN_SECONDS,
        half_open_probes: int = DEFAULT_HALF_OPEN_PROBES,
        clock: Clock = time.monotonic,
        hooks: ResilienceHooks | None = None,
    ) -> None:
        check_positive(
            window_size=window_size,
            minimum_calls=minimum_calls,
            slow_call_seconds=slow_call_seconds,
            open_seconds=open_seconds,
            half_open_probes=half_open_probes,
        )
        check_rate(failure_rate_threshold=failure_rate_threshold)
        check_rate(slow_call_rate_threshold=slow_call_rate_threshold)
        if minimum_calls > window_size:
            msg = (
                f"minimum_calls ({minimum_calls!r}) must not exceed "
                f"window_size ({window_size!r}), or the breaker never opens"
            )
            raise ValueError(msg)

        self.name = name
        self.hooks = hooks
        self.window_size = window_size
        self.minimum_calls = minimum_calls
        self.failure_rate_threshold = failure_rate_threshold
        self.slow_call_rate_threshold = slow_call_rate_threshold
        self.slow_call_seconds = slow_call_seconds
        self.open_seconds = open_seconds
        self.half_open_probes = half_open_probes
        self._clock = clock
        self._state = CircuitState.CLOSED
        # Bumped on every transition, so results of calls admitted in an
        # earlier state are ignored.
        self._generation = 0
        # (is_failure, is_slow) of the most recent calls while closed.
        self._window: deque[tuple[bool, bool]] = deque()
        self._failure_count = 0
        self._slow_count = 0
        self._opened_at = 0.0
        self._probes_in_flight = 0
        self._probe_successes = 0

    @property
    def state(self) -> CircuitState:
        """Current state; an open breaker whose `open_seconds` passed is half-open."""
        if (
            self._state is CircuitState.OPEN
            and self._clock() - self._opened_at >= self.open_seconds
        ):
            self._transition(CircuitState.HALF_OPEN)

        return self._state

    def acquire(self) -> BreakerPermit:
        """Admit one call, or raise `CircuitOpen` when the breaker rejects it."""
        state = self.state
        now = self._clock()
        if state is CircuitState.CLOSED:
            return BreakerPermit(self._generation, now, is_probe=False)

        if state is CircuitState.OPEN:
            retry_after = self._opened_at + self.open_seconds - now
            raise CircuitOpen(self.name, retry_after_seconds=retry_after)

        if self._probes_in_flight + self._probe_successes >= self.half_open_probes:
            raise CircuitOpen(self.name, retry_after_seconds=0.0)

        self._probes_in_flight += 1
        return BreakerPermit(self._generation, now, is_probe=True)

    def record(self, permit: BreakerPermit, *, is_failure: bool) -> None:
        """Record how an admitted call ended; its duration comes from the clock."""
        if permit.generation != self._generation:
            return

        is_slow = self._clock() - permit.started_at >= self.slow_call_seconds
        if permit.is_probe:
            self._record_probe(is_failure or is_slow)
        else:
            self._record_closed_call(is_failure, is_slow)

    def release(self, permit: BreakerPermit) -> None:
        """Give back a permit whose call ended without a result, such as on cancel."""
        if permit.is_probe and permit.generation == self._generation:
            self._probes_in_flight -= 1

    def _record_closed_call(self, is_failure: bool, is_slow: bool) -> None:
        if len(self._window) == self.window_size:
            dropped_failure, dropped_slow = self._window.popleft()
            self._failure_count -= dropped_failure
            self._slow_count -= dropped_slow

        self._window.append((is_failure, is_slow))
        self._failure_count += is_failure
        self._slow_count += is_slow
        calls = len(self._window)
        if calls < self.minimum_calls:
            return

        failure_rate = self._failure_count / calls
        slow_call_rate = self._slow_count / calls
        if (
            failure_rate >= self.failure_rate_threshold
            or slow_call_rate >= self.slow_call_rate_threshold
        ):
            self._transition(
                CircuitState.OPEN,
                calls=calls,
                failure_rate=failure_rate,
                slow_call_rate=slow_call_rate,
            )

    def _record_probe(self, is_failure: bool) -> None:
        self._probes_in_flight -= 1
        if is_failure:
            self._transition(CircuitState.OPEN, probe_failed=True)
            return

        self._probe_successes += 1
        if self._probe_successes >= self.half_open_probes:
            self._transition(CircuitState.CLOSED)

    def _transition(self, state: CircuitState, **fields: object) -> None:
        previous = self._state
        self._state = state
        self._generation += 1
        self._window.clear()
        self._failure_count = 0
        self._slow_count = 0
        self._probes_in_flight = 0
        self._probe_successes = 0
        if state is CircuitState.OPEN:
            self._opened_at = self._clock()
            logger.warning(
                "resilience.breaker.opened",
                dependency=self.name,
                open_seconds=self.open_seconds,
                **fields,
            )
        else:
            logger.info(_TRANSITION_EVENTS[state], dependency=self.name)

        (self.hooks or _NO_HOOKS).on_breaker_transition(self.name, previous, state)


_NO_HOOKS = NoHooks()
_TRANSITION_EVENTS = {
    CircuitState.HALF_OPEN: "resilience.breaker.half_opened",
    CircuitState.CLOSED: "resilience.breaker.closed",
}
