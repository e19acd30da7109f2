"""Pure ASGI middleware that measures every HTTP request and logs it.

Per request it counts the latency and in-flight requests (through
`RequestTally`, flushed to the histogram and gauge in bulk) and any error,
labelled by the route template that the router matched
(`/api/articles/{slug}`), never by the raw path, so label cardinality stays
bounded. It also gives each request an id, binds it to the log context and
writes the access and slow-request log lines.
"""

from __future__ import annotations

import itertools
import os
import random
import re
import time
from collections.abc import Callable, Collection
from typing import Any

import structlog
from opentelemetry import trace

from livify.observability._logging import request_id as log_request_id
from livify.observability._metrics import HttpServerMetrics
from livify.types import ASGIApp, Message, Receive, Scope, Send

logger = structlog.get_logger("livify.access")

UNMATCHED_ROUTE = "unmatched"
REQUEST_ID_HEADER = b"x-request-id"
# Accept a caller's request id only if it is short and plain, so it is safe
# to echo in a header and to write into logs.
REQUEST_ID_PATTERN = re.compile(rb"^[A-Za-z0-9._:-]{1,128}$")
DEFAULT_SLOW_REQUEST_SECONDS = 1.0
_REQUEST_ID_PREFIX = os.urandom(8).hex()
_request_counter = itertools.count(1)


def _new_request_id_prefix() -> None:
    global _REQUEST_ID_PREFIX, _request_counter
    _REQUEST_ID_PREFIX = os.urandom(8).hex()
    _request_counter = itertools.count(1)


# A forked worker must not repeat its parent's ids.
os.register_at_fork(after_in_child=_new_request_id_prefix)
KNOWN_METHODS = frozenset(
    {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "CONNECT", "TRACE"}
)


class ObservabilityMiddleware:
    """Record golden-signal metrics and access logs for HTTP requests.

    `excluded_paths` are neither measured nor logged (for example `/metrics`
    and health probes, so that scrapes do not count as traffic).
    `access_log_sample_ratio` is the share of ordinary requests logged (0.0
    to 1.0); requests slower than `slow_request_seconds` and failed requests
    are always logged. `names_spans` renames the current OpenTelemetry
    span after the route; turn it off when no tracing middleware runs.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        metrics: HttpServerMetrics,
        excluded_paths: Collection[str] = (),
        access_log_sample_ratio: float = 1.0,
        slow_request_seconds: float = DEFAULT_SLOW_REQUEST_SECONDS,
        clock: Callable[[], float] = time.perf_counter,
        sample: Callable[[], float] = random.random,
        names_spans: bool = True,
    ) -> None:
        if not 0.0 <= access_log_sample_ratio <= 1.0:
            msg = (
                f"access_log_sample_ratio must be in [0, 1], "
                f"got {access_log_sample_ratio!r}"
            )
            raise ValueError(msg)

        self.app = app
        self.metrics = metrics
        self.excluded_paths = frozenset(excluded_paths)
        self.access_log_sample_ratio = access_log_sample_ratio
        self.slow_request_seconds = slow_request_seconds
        self.names_spans = names_spans
        self._clock = clock
        self._sample = sample

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in self.excluded_paths:
            await self.app(scope, receive, send)
            return

        method = scope["method"]
        if method not in KNOWN_METHODS:
            method = "_OTHER"
        request_id = _request_id(scope)
        request_id_header = (REQUEST_ID_HEADER, request_id.encode())
        names_spans = self.names_spans
        status = 500
        error_type: str | None = None

        async def send_with_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                if names_spans:
                    # The tracing middleware ends its span with the last body
                    # message, so name it now, when the router has matched.
                    _name_server_span(method, scope)
                message["headers"] = [*message.get("headers", ()), request_id_header]
            await send(message)

        tally = self.metrics.tally
        clock = self._clock
        context_token = log_request_id.set(request_id)
        tally.started(method)
        started = clock()
        try:
            await self.app(scope, receive, send_with_status)
        except Exception as exc:
            error_type = type(exc).__name__
            raise
        finally:
            now = clock()
            duration = now - started
            route = _route_template(scope)
            tally.finished(
                method, (method, route, _status_label(status)), duration, now
            )
            if error_type is None and status >= 500:
                error_type = str(status)
            if error_type is not None:
                self.metrics.errors.labels(method, route, error_type).inc()

            # Most requests are neither failed nor slow, and most of those go
            # unlogged: decide that here, without building the log fields.
            if (
                error_type is not None
                or duration >= self.slow_request_seconds
                or self._sample() < self.access_log_sample_ratio
            ):
                self._log(scope, method, route, status, error_type, duration)
            log_request_id.reset(context_token)

    def _log(
        self,
        scope: Scope,
        method: str,
        route: str,
        status: int,
        error_type: str | None,
        duration: float,
    ) -> None:
        is_failed = error_type is not None or status >= 500
        is_slow = duration >= self.slow_request_seconds
        fields: dict[str, Any] = {
            "method": method,
            "path": scope["path"],
            "route": route,
            "status": status,
            "duration_ms": round(duration * 1000, 3),
            "client": _client_address(scope),
        }
        if error_type is not None:
            fields["error_type"] = error_type

        if is_failed:
            logger.error("http.request_failed", **fields)
        elif is_slow:
            logger.warning("http.request_slow", **fields)
        else:
            logger.info("http.request", **fields)


def _status_label(status: int) -> str:
    label = _STATUS_LABELS.get(status)
    if label is None:
        label = _STATUS_LABELS[status] = str(status)
    return label


# Status codes are few, so their label strings are made once.
_STATUS_LABELS: dict[int, str] = {}


def _route_template(scope: Scope) -> str:
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else UNMATCHED_ROUTE


def _name_server_span(method: str, scope: Scope) -> None:
    """Set the route on the tracing middleware's span, known only after routing."""
    span = trace.get_current_span()
    if span.is_recording():
        route = _route_template(scope)
        span.set_attribute("http.route", route)
        span.update_name(f"{method} {route}")


def _request_id(scope: Scope) -> str:
    for name, value in scope["headers"]:
        if name == REQUEST_ID_HEADER and REQUEST_ID_PATTERN.match(value):
            return str(value.decode("ascii"))

    # A random per-process prefix and a counter: unique across processes and
    # restarts, without a system call per request as os.urandom needs.
    return f"{_REQUEST_ID_PREFIX}{next(_request_counter):x}"


def _client_address(scope: Scope) -> str | None:
    client = scope.get("client")
    return f"{client[0]}:{client[1]}" if client else None
