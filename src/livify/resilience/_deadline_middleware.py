"""Pure ASGI middleware that gives every HTTP request a deadline.

Reads (GET, HEAD, OPTIONS) get `read_timeout_seconds` and every other
method gets `write_timeout_seconds`. When the deadline passes, the
application's task is cancelled, so its `async with` blocks exit: a database
transaction in progress is rolled back and its connection returns to the
pool. Inside, `livify.resilience.remaining_seconds()` returns what is
left, so outbound calls made for the request stop in time. If no response
has started, the client gets `504 Gateway Timeout` with a body from
`error_body`. If one has started, the middleware just returns and the
server closes the unfinished response.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Collection
from typing import TypeAlias

import orjson
import structlog

from livify.resilience._deadline import deadline
from livify.types import ASGIApp, Message, Receive, Scope, Send

logger = structlog.get_logger(__name__)

DEFAULT_READ_TIMEOUT_SECONDS = 3.0
DEFAULT_WRITE_TIMEOUT_SECONDS = 10.0
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# At most one `request.deadline_exceeded` line per interval; the rest are counted.
LOG_INTERVAL_SECONDS = 1.0

TimeoutBody: TypeAlias = Callable[[float], bytes]


def default_timeout_body(timeout_seconds: float) -> bytes:
    """Return `{"error": message}` naming the deadline that passed."""
    message = f"request did not finish within {timeout_seconds:g} seconds"
    return orjson.dumps({"error": message})


class DeadlineMiddleware:
    """Cancel HTTP requests that run past their deadline and respond with 504.

    Timeouts are float seconds. Requests to `excluded_paths` (long polls,
    streams, health checks) run without a deadline. Other scope types pass
    straight through.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        read_timeout_seconds: float = DEFAULT_READ_TIMEOUT_SECONDS,
        write_timeout_seconds: float = DEFAULT_WRITE_TIMEOUT_SECONDS,
        error_body: TimeoutBody = default_timeout_body,
        excluded_paths: Collection[str] = (),
    ) -> None:
        for name, value in (
            ("read_timeout_seconds", read_timeout_seconds),
            ("write_timeout_seconds", write_timeout_seconds),
        ):
            if value <= 0:
                msg = f"{name} must be positive, got {value!r}"
                raise ValueError(msg)

        self.app = app
        self.read_timeout_seconds = read_timeout_seconds
        self.write_timeout_seconds = write_timeout_seconds
        self.excluded_paths = frozenset(excluded_paths)
        self._bodies = {
            seconds: error_body(seconds)
            for seconds in (read_timeout_seconds, write_timeout_seconds)
        }
        self._log = _ThrottledLog(LOG_INTERVAL_SECONDS)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in self.excluded_paths:
            await self.app(scope, receive, send)
            return

        timeout_seconds = (
            self.read_timeout_seconds
            if scope["method"] in READ_METHODS
            else self.write_timeout_seconds
        )
        response_started = False

        async def tracking_send(message: Message) -> None:
            nonlocal response_started
            if message["type"] == "http.response.start":
                response_started = True
            await send(message)

        try:
            async with asyncio.timeout(timeout_seconds) as timeout:
                with deadline(timeout_seconds):
                    await self.app(scope, receive, tracking_send)
        except TimeoutError:
            # A TimeoutError raised by the application itself is not ours.
            if not timeout.expired():
                raise

            self._log.exceeded(scope, timeout_seconds, response_started)
            if not response_started:
                await self._send_timeout(send, timeout_seconds)

    async def _send_timeout(self, send: Send, timeout_seconds: float) -> None:
        body = self._bodies[timeout_seconds]
        await send(
            {
                "type": "http.response.start",
                "status": 504,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"cache-control", b"no-store"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


class _ThrottledLog:
    """Log missed deadlines at most once per interval, with the count skipped."""

    def __init__(self, interval_seconds: float) -> None:
        self._interval_seconds = interval_seconds
        self._last_logged = float("-inf")
        self._suppressed = 0

    def exceeded(
        self, scope: Scope, timeout_seconds: float, response_started: bool
    ) -> None:
        now = time.monotonic()
        if now - self._last_logged < self._interval_seconds:
            self._suppressed += 1
            return

        logger.warning(
            "request.deadline_exceeded",
            method=scope["method"],
            path=scope["path"],
            timeout_seconds=timeout_seconds,
            response_started=response_started,
            suppressed=self._suppressed,
        )
        self._last_logged = now
        self._suppressed = 0
