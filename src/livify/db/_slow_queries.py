"""Log SQL statements that run longer than a threshold."""

from __future__ import annotations

import time
from typing import Any

import structlog
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

logger = structlog.get_logger(__name__)

DEFAULT_SLOW_QUERY_SECONDS = 0.1
STATEMENT_LOG_MAX_CHARS = 1_000
_STARTED_KEY = "livify_query_started"


def log_slow_queries(
    engine: AsyncEngine, *, threshold_seconds: float = DEFAULT_SLOW_QUERY_SECONDS
) -> None:
    """Log each statement on `engine` that takes `threshold_seconds` or longer.

    The log line has the statement text (cut to 1,000 characters) and its
    duration, never the bound parameters, which can hold password hashes
    and personal data.
    """

    @event.listens_for(engine.sync_engine, "before_cursor_execute")
    def _before(connection: Any, _cursor: Any, _statement: str, *_args: Any) -> None:
        connection.info.setdefault(_STARTED_KEY, []).append(time.perf_counter())

    @event.listens_for(engine.sync_engine, "after_cursor_execute")
    def _after(connection: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        started = connection.info[_STARTED_KEY].pop()
        duration = time.perf_counter() - started
        if duration >= threshold_seconds:
            logger.warning(
                "db.slow_query",
                duration_ms=round(duration * 1000, 3),
                statement=statement[:STATEMENT_LOG_MAX_CHARS],
            )

    @event.listens_for(engine.sync_engine, "handle_error")
    def _failed(context: Any) -> None:
        # A failed statement never reaches after_cursor_execute; drop its start.
        connection = context.connection
        if connection is not None and connection.info.get(_STARTED_KEY):
            connection.info[_STARTED_KEY].pop()
