"""Structured logs: JSON lines with request and trace ids, secrets redacted.

`configure_logging` sets up structlog and routes the standard library's
loggers (uvicorn, SQLAlchemy, Alembic) through the same processors, so every
line a process writes has one format.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import MutableMapping
from typing import Any

import orjson
import structlog
from opentelemetry import trace

from livify.observability._request_id import current_request_id
from livify.observability._uvicorn_events import name_uvicorn_event

# Values of these keys, at any depth of the event dict, are replaced.
REDACTED_KEYS = frozenset(
    {"password", "password_hash", "token", "authorization", "secret", "secret_key"}
)
REDACTED = "[redacted]"


def add_request_id(
    _logger: Any, _method: str, event: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """Add the id of the request being served, if any.

    The id comes from one context variable that the middleware sets, not
    from structlog's bind_contextvars, which costs several times more per
    request (a dict and a variable per key).
    """
    value = current_request_id()
    if value is not None:
        event.setdefault("request_id", value)
    return event


def add_trace_context(
    _logger: Any, _method: str, event: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """Add the current OpenTelemetry trace and span ids, if a span is active."""
    context = trace.get_current_span().get_span_context()
    if context.is_valid:
        event["trace_id"] = format(context.trace_id, "032x")
        event["span_id"] = format(context.span_id, "016x")
    return event


def redact_secrets(
    _logger: Any, _method: str, event: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    for key in event.keys() & REDACTED_KEYS:
        event[key] = REDACTED
    return event


def _render_json(_logger: Any, _method: str, event: MutableMapping[str, Any]) -> str:
    return orjson.dumps(event, default=repr).decode()


class _StderrLogger:
    """Write each rendered line to the current `sys.stderr`.

    Looking the stream up on every line, instead of once, keeps cached
    loggers working when `sys.stderr` is replaced, as test capture does.
    """

    def __init__(self, name: str | None) -> None:
        self.name = name

    def msg(self, message: str) -> None:
        sys.stderr.write(message + "\n")

    debug = info = warning = error = critical = exception = log = msg


def _create_stderr_logger(*args: Any) -> _StderrLogger:
    return _StderrLogger(args[0] if args and isinstance(args[0], str) else None)


def add_logger_name(
    logger: Any, _method: str, event: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """Add the name given to `structlog.get_logger(name)`, if any."""
    name = getattr(logger, "name", None)
    if name:
        event["logger"] = name
    return event


def configure_logging(*, level: str = "info", json: bool = True) -> None:
    """Send structlog and standard-library logs to stderr as JSON or console text.

    `level` is a standard level name (debug, info, warning, error). structlog
    events are rendered without passing through the `logging` module, which
    costs several times less per line; records from other libraries' stdlib
    loggers get the same processors through a formatter.
    """
    numeric_level = logging.getLevelName(level.upper())
    if not isinstance(numeric_level, int):
        msg = f"unknown log level {level!r}; use debug, info, warning or error"
        raise ValueError(msg)

    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        add_request_id,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        add_trace_context,
        redact_secrets,
    ]
    renderer: Any = _render_json if json else structlog.dev.ConsoleRenderer()

    structlog.configure(
        processors=[
            add_logger_name,
            *shared,
            structlog.processors.format_exc_info,
            renderer,
        ],
        logger_factory=_create_stderr_logger,
        wrapper_class=structlog.make_filtering_bound_logger(numeric_level),
        cache_logger_on_first_use=True,
    )

    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[
            name_uvicorn_event,
            structlog.stdlib.add_logger_name,
            *shared,
        ],
        # name_uvicorn_event reads the record's arguments from the event
        # and removes them from every line.
        pass_foreign_args=True,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            renderer,
        ],
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter)

    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(numeric_level)
    # Alembic reports each plugin it loads at INFO; keep only its migration lines.
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True

    # livify writes its own access log, sampled and without query strings.
    access = logging.getLogger("uvicorn.access")
    access.handlers[:] = []
    access.propagate = False
