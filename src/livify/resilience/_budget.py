"""A retry budget: retries may add only a fraction of extra load.

Every call deposits `ratio` of a retry token and every second deposits
`min_retries_per_second`, both kept for `window_seconds`. A retry spends a
whole token. With the defaults, during an outage that fails every call,
retries add at most 10% to the load plus one retry a second, instead of
multiplying it by the number of attempts.
"""

from __future__ import annotations

import time
from collections import deque

from livify.resilience._checks import check_not_negative, check_positive
from livify.resilience._types import Clock

DEFAULT_RETRY_RATIO = 0.1
DEFAULT_MIN_RETRIES_PER_SECOND = 1.0
DEFAULT_WINDOW_SECONDS = 10.0

# The window moves in steps of a tenth of its length, so memory stays
# bounded whatever the call rate.
_BUCKETS_PER_WINDOW = 10


class RetryBudget:
    """Allow retries up to `ratio` of the calls over a sliding time window.

    Over the last `window_seconds`, retries may number at most
    `ratio * calls + min_retries_per_second * window_seconds`. Raises
    `ValueError` when `window_seconds` is not positive or another value is
    negative.
    """

    def __init__(
        self,
        *,
        ratio: float = DEFAULT_RETRY_RATIO,
        min_retries_per_second: float = DEFAULT_MIN_RETRIES_PER_SECOND,
        window_seconds: float = DEFAULT_WINDOW_SECONDS,
        clock: Clock = time.monotonic,
    ) -> None:
        check_not_negative(ratio=ratio, min_retries_per_second=min_retries_per_second)
        check_positive(window_seconds=window_seconds)
        self.ratio = ratio
        self.min_retries_per_second = min_retries_per_second
        self.window_seconds = window_seconds
        self._clock = clock
        self._bucket_seconds = window_seconds / _BUCKETS_PER_WINDOW
        self._reserve = min_retries_per_second * window_seconds
        # [bucket index, calls, retries], oldest first.
        self._buckets: deque[list[int]] = deque()
        self._calls = 0
        self._retries = 0

    def record_call(self) -> None:
        """Count one call, which earns `ratio` of a retry."""
        self._current_bucket()[1] += 1
        self._calls += 1

    def try_spend(self) -> bool:
        """Count one retry and return True when the budget has room for it."""
        bucket = self._current_bucket()
        if self._retries + 1 > self.ratio * self._calls + self._reserve:
            return False

        bucket[2] += 1
        self._retries += 1
        return True

    def _current_bucket(self) -> list[int]:
        index = int(self._clock() / self._bucket_seconds)
        while self._buckets and self._buckets[0][0] <= index - _BUCKETS_PER_WINDOW:
            _, calls, retries = self._buckets.popleft()
            self._calls -= calls
            self._retries -= retries

        if not self._buckets or self._buckets[-1][0] != index:
            self._buckets.append([index, 0, 0])

        return self._buckets[-1]
