"""Pure ASGI middleware that measures every HTTP request and logs it.

Per request it counts the latency and in-flight requests (through
`RequestTally`, flushed to the histogram and gauge in bulk) and any error,
labelled by the route template that the router matched
(`/api/articles/{slug}`), never by the raw path, so label cardinality stays
bounded. It also names the request for its log lines (`request_id`, made
only when needed) and writes the access and slow-request log lines.
"""

from __future__ import annotations

import random
import time
from collections.abc import Awaitable, Callable, Collection
from typing import Any, Literal

import structlog
from opentelemetry import trace

from livify.observability._metrics import HttpServerMetrics
from livify.observability._request_id import (
    REQUEST_ID_HEADER,
    current_scope,
    request_id,
)
from livify.types import ASGIApp, Message, Receive, Scope, Send

logger = structlog.get_logger("livify.access")

UNMATCHED_ROUTE = "unmatched"
DEFAULT_SLOW_REQUEST_SECONDS = 1.0
KNOWN_METHODS = frozenset(
    {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "CONNECT", "TRACE"}
)
RequestIdHeader = Literal["always", "errors"]
# The lowest status whose response carries X-Request-ID, per choice.
_REQUEST_ID_MIN_STATUS: dict[str, int] = {"always": 0, "errors": 500}


class ObservabilityMiddleware:
    """Record golden-signal metrics and access logs for HTTP requests.

    `excluded_paths` are neither measured nor logged (for example `/metrics`
    and health probes, so that scrapes do not count as traffic).
    `access_log_sample_ratio` is the share of ordinary requests logged (0.0
    to 1.0); requests slower than `slow_request_seconds` and failed requests
    are always logged. `names_spans` renames the current OpenTelemetry
    span after the route; turn it off when no tracing middleware runs.

    `request_id_header` selects the responses that carry `X-Request-ID`.
    With `errors` (the default) only 5xx responses do: they are always
    logged, so the id a caller quotes finds the log line. With `always`
    every response does, which costs an id and a header per request.
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
        request_id_header: RequestIdHeader = "errors",
    ) -> None:
        if not 0.0 <= access_log_sample_ratio <= 1.0:
            msg = (
                f"access_log_sample_ratio must be in [0, 1], "
                f"got {access_log_sample_ratio!r}"
            )
            raise ValueError(msg)
        if request_id_header not in _REQUEST_ID_MIN_STATUS:
            msg = (
                f"request_id_header must be 'always' or 'errors', "
                f"got {request_id_header!r}"
            )
            raise ValueError(msg)

        self.app = app
        self.metrics = metrics
        self.excluded_paths = frozenset(excluded_paths)
        self.access_log_sample_ratio = access_log_sample_ratio
        self.slow_request_seconds = slow_request_seconds
        self.names_spans = names_spans
        self._request_id_min_status = _REQUEST_ID_MIN_STATUS[request_id_header]
        self._clock = clock
        self._sample = sample

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in self.excluded_paths:
            await self.app(scope, receive, send)
            return

        method = scope["method"]
        if method not in KNOWN_METHODS:
            method = "_OTHER"
        names_spans = self.names_spans
        request_id_min_status = self._request_id_min_status
        status = 500
        error_type: str | None = None

        # A plain function that returns the server's awaitable: an async one
        # would add a coroutine per message.
        def send_with_status(message: Message) -> Awaitable[None]:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                if status >= request_id_min_status:
                    header = (REQUEST_ID_HEADER, request_id(scope).encode())
                    message["headers"] = [*message.get("headers", ()), header]
                if names_spans:
                    # The tracing middleware ends its span with the last body
                    # message, so name it now, when the router has matched.
                    _name_server_span(method, scope)
            return send(message)

        tally = self.metrics.tally
        clock = self._clock
        context_token = current_scope.set(scope)
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
            route = _route_template(scope.get("route"))
            labels = (method, route, _status_label(status))
            tally.finished(method, labels, duration, now)
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
            current_scope.reset(context_token)

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


def _route_template(route: object) -> str:
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else UNMATCHED_ROUTE


def _name_server_span(method: str, scope: Scope) -> None:
    """Set the route on the tracing middleware's span, known only after routing."""
    span = trace.get_current_span()
    if span.is_recording():
        route = _route_template(scope.get("route"))
        span.set_attribute("http.route", route)
        span.update_name(f"{method} {route}")


def _client_address(scope: Scope) -> str | None:
    client = scope.get("client")
    return f"{client[0]}:{client[1]}" if client else None
