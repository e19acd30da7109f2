"""A structlog wrapper that writes each warning event at most once per interval."""

from __future__ import annotations

import time
from typing import Any

import structlog

DEFAULT_LOG_INTERVAL_SECONDS = 10.0


class RateLimitedLogger:
    """Write a warning per event name at most once every `interval_seconds`.

    A line written after a quiet period carries `suppressed`, the number of
    lines of the same event dropped since the previous one.
    """

    def __init__(
        self,
        logger: Any,
        *,
        interval_seconds: float = DEFAULT_LOG_INTERVAL_SECONDS,
    ) -> None:
        self._logger = logger
        self.interval_seconds = interval_seconds
        self._last_written: dict[str, float] = {}
        self._suppressed: dict[str, int] = {}

    def warning(self, event: str, **fields: Any) -> None:
        now = time.monotonic()
        last = self._last_written.get(event)
        if last is not None and now - last < self.interval_seconds:
            self._suppressed[event] = self._suppressed.get(event, 0) + 1
            return

        self._last_written[event] = now
        suppressed = self._suppressed.pop(event, 0)
        self._logger.warning(event, suppressed=suppressed, **fields)


logger = structlog.get_logger("livify.cache")
