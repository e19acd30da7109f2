"""An AIMD concurrency limit driven by the latency of admitted requests.

The limit is the number of requests the server works on at once. Requests
report how long they took once admitted (queue wait excluded). At the end of
each window of `window_seconds` the limit moves:

- down by `backoff_ratio` when the window's mean latency is over
  `latency_target_seconds`, because more work in flight only made each
  request slower;
- up by `increase_step` when latency met the target and the window's peak
  in-flight count reached at least half the limit, so an idle server does
  not grow a limit it never tests.

A window with fewer than `min_samples` samples carries over into the next
one, so a single slow request at low traffic does not move the limit.
"""

from __future__ import annotations

import time
from collections.abc import Callable

DEFAULT_INITIAL_LIMIT = 32
DEFAULT_MIN_LIMIT = 4
DEFAULT_MAX_LIMIT = 512
DEFAULT_LATENCY_TARGET_SECONDS = 0.1
DEFAULT_WINDOW_SECONDS = 0.1
DEFAULT_MIN_SAMPLES = 10
DEFAULT_BACKOFF_RATIO = 0.8
DEFAULT_INCREASE_STEP = 1.0


class AimdLimit:
    """A concurrency limit that grows additively and shrinks multiplicatively.

    All options are keyword-only; durations are float seconds. `clock`
    returns monotonic seconds and is injectable for tests. Raises
    `ValueError` when the bounds or ratios are inconsistent.
    """

    def __init__(
        self,
        *,
        initial_limit: int = DEFAULT_INITIAL_LIMIT,
        min_limit: int = DEFAULT_MIN_LIMIT,
        max_limit: int = DEFAULT_MAX_LIMIT,
        latency_target_seconds: float = DEFAULT_LATENCY_TARGET_SECONDS,
        window_seconds: float = DEFAULT_WINDOW_SECONDS,
        min_samples: int = DEFAULT_MIN_SAMPLES,
        backoff_ratio: float = DEFAULT_BACKOFF_RATIO,
        increase_step: float = DEFAULT_INCREASE_STEP,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        _check_bounds(initial_limit, min_limit, max_limit)
        if not 0 < backoff_ratio < 1:
            msg = f"backoff_ratio must be between 0 and 1, got {backoff_ratio!r}"
            raise ValueError(msg)

        for name, value in (
            ("latency_target_seconds", latency_target_seconds),
            ("window_seconds", window_seconds),
            ("increase_step", increase_step),
        ):
            if value <= 0:
                msg = f"{name} must be positive, got {value!r}"
                raise ValueError(msg)

        self.min_limit = min_limit
        self.max_limit = max_limit
        self.latency_target_seconds = latency_target_seconds
        self.window_seconds = window_seconds
        self.min_samples = min_samples
        self.backoff_ratio = backoff_ratio
        self.increase_step = increase_step
        self._clock = clock
        self._limit = float(initial_limit)
        self._window_started = clock()
        self._latency_sum = 0.0
        self._samples = 0
        self._peak_in_flight = 0

    @property
    def limit(self) -> int:
        """The number of requests that may be in flight at once."""
        return int(self._limit)

    def record(self, latency_seconds: float, *, in_flight: int) -> bool:
        """Add one admitted request's latency; return whether the limit changed.

        `in_flight` is the number of requests in flight when this one
        finished, itself included.
        """
        self._latency_sum += latency_seconds
        self._samples += 1
        self._peak_in_flight = max(self._peak_in_flight, in_flight)

        now = self._clock()
        if now - self._window_started < self.window_seconds:
            return False

        if self._samples < self.min_samples:
            return False

        previous = self.limit
        self._adjust(self._latency_sum / self._samples)
        self._start_window(now)
        return self.limit != previous

    def _adjust(self, mean_latency_seconds: float) -> None:
        if mean_latency_seconds > self.latency_target_seconds:
            self._limit = max(self.min_limit, self._limit * self.backoff_ratio)
            return

        if self._peak_in_flight * 2 >= self._limit:
            self._limit = min(self.max_limit, self._limit + self.increase_step)

    def _start_window(self, now: float) -> None:
        self._window_started = now
        self._latency_sum = 0.0
        self._samples = 0
        self._peak_in_flight = 0


def _check_bounds(initial_limit: int, min_limit: int, max_limit: int) -> None:
    if min_limit < 1:
        msg = f"min_limit must be at least 1, got {min_limit!r}"
        raise ValueError(msg)

    if not min_limit <= initial_limit <= max_limit:
        msg = (
            f"initial_limit must be within [min_limit, max_limit], got "
            f"{initial_limit!r} with bounds [{min_limit!r}, {max_limit!r}]"
        )
        raise ValueError(msg)
