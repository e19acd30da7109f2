"""Dotted event names for the prose that uvicorn logs to `uvicorn.error`.

uvicorn writes messages such as "Exception in ASGI application" through the
standard library. `name_uvicorn_event` runs in the stdlib formatter's
pre-chain and gives each message listed in `UVICORN_EVENTS` an event name
in livify's style (`http.unhandled_exception`), with its arguments as named
fields.
"""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping
from typing import Any, Final

UVICORN_LOGGER = "uvicorn.error"
# Message templates (`LogRecord.msg`, before %-formatting) as uvicorn 0.55
# writes them, with the event name and the field name of each argument.
# NOTE: the multiprocess supervisor (`--workers` above 1) writes its process
# ids into the text with f-strings, so those lines keep their prose.
UVICORN_EVENTS: Final[Mapping[str, tuple[str, tuple[str, ...]]]] = {
    "Exception in ASGI application\n": ("http.unhandled_exception", ()),
    "ASGI callable returned without starting response.": (
        "http.response_not_started",
        (),
    ),
    "ASGI callable returned without completing response.": (
        "http.response_incomplete",
        (),
    ),
    "ASGI callable should return None, but returned '%s'.": (
        "http.invalid_return_value",
        ("value",),
    ),
    "Invalid HTTP request received.": ("http.invalid_request", ()),
    "Unsupported upgrade request.": ("http.upgrade_unsupported", ()),
    "Exceeded concurrency limit.": ("http.concurrency_limit_exceeded", ()),
    "Exception in 'lifespan' protocol\n": ("lifespan.unhandled_exception", ()),
    "ASGI 'lifespan' protocol appears unsupported.": ("lifespan.unsupported", ()),
    "Waiting for application startup.": ("lifespan.startup_started", ()),
    "Application startup complete.": ("lifespan.startup_complete", ()),
    "Application startup failed. Exiting.": ("lifespan.startup_failed", ()),
    "Waiting for application shutdown.": ("lifespan.shutdown_started", ()),
    "Application shutdown complete.": ("lifespan.shutdown_complete", ()),
    "Application shutdown failed. Exiting.": ("lifespan.shutdown_failed", ()),
    "Started server process [%d]": ("server.started", ("pid",)),
    "Finished server process [%d]": ("server.stopped", ("pid",)),
    "Uvicorn running on %s://%s:%d (Press CTRL+C to quit)": (
        "server.listening",
        ("scheme", "host", "port"),
    ),
    "Uvicorn running on %s://[%s]:%d (Press CTRL+C to quit)": (
        "server.listening",
        ("scheme", "host", "port"),
    ),
    "Shutting down": ("server.stopping", ()),
    "Waiting for connections to close. (CTRL+C to force quit)": (
        "server.connections_draining",
        (),
    ),
    "Waiting for background tasks to complete. (CTRL+C to force quit)": (
        "server.tasks_draining",
        (),
    ),
    "Cancel %s running task(s), timeout graceful shutdown exceeded": (
        "server.shutdown_timed_out",
        ("tasks",),
    ),
    "Maximum request limit of %d exceeded. Terminating process.": (
        "server.max_requests_exceeded",
        ("max_requests",),
    ),
}


def name_uvicorn_event(
    _logger: Any, _method: str, event: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """Replace a known uvicorn message with its event name and argument fields.

    Expects the formatter to pass the record's arguments as
    `positional_args`, and removes that key from every line, so lines from
    other loggers and unknown uvicorn messages keep only their text.
    """
    arguments = event.pop("positional_args", ())
    record = event.get("_record")
    if record is None or record.name != UVICORN_LOGGER:
        return event

    template = record.msg
    known = UVICORN_EVENTS.get(template) if isinstance(template, str) else None
    if known is None:
        return event

    name, field_names = known
    # Arguments that do not fit the listed field names leave the message
    # text in place, so that no value is lost.
    if not isinstance(arguments, tuple) or len(arguments) != len(field_names):
        return event

    event["event"] = name
    event.update(zip(field_names, arguments, strict=True))
    return event
