"""Pure ASGI middleware that rejects excess requests with 503 under overload.

Each HTTP request asks `Admission` for a slot. An admitted request runs and
reports its latency, which drives the adaptive limit. A shed request gets
`503 Service Unavailable` with `Retry-After` and never reaches the
application, so the requests already admitted keep their latency.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection
from typing import TypeAlias

import orjson

from livify.resilience._admission import Admission
from livify.types import ASGIApp, Receive, Scope, Send

DEFAULT_RETRY_AFTER_SECONDS = 1

OverloadBody: TypeAlias = Callable[[int], bytes]


def default_overload_body(retry_after_seconds: int) -> bytes:
    """Return `{"error": message}` naming the `Retry-After` delay."""
    message = f"server overloaded; retry after {retry_after_seconds} seconds"
    return orjson.dumps({"error": message})


class LoadSheddingMiddleware:
    """Admit HTTP requests through `admission` and reject the excess with 503.

    `error_body` builds the 503 body from `retry_after_seconds` (an integer
    number of seconds, as the `Retry-After` header requires). Requests to
    `excluded_paths` (health checks, metrics) are never shed and are not
    counted. Other scope types pass straight through.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        admission: Admission | None = None,
        retry_after_seconds: int = DEFAULT_RETRY_AFTER_SECONDS,
        error_body: OverloadBody = default_overload_body,
        excluded_paths: Collection[str] = (),
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        if retry_after_seconds < 0:
            msg = (
                f"retry_after_seconds must not be negative, got {retry_after_seconds!r}"
            )
            raise ValueError(msg)

        self.app = app
        self.admission = admission or Admission()
        self.excluded_paths = frozenset(excluded_paths)
        self._clock = clock
        self._rejection_body = error_body(retry_after_seconds)
        self._rejection_headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(self._rejection_body)).encode()),
            (b"retry-after", str(retry_after_seconds).encode()),
            (b"cache-control", b"no-store"),
        ]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in self.excluded_paths:
            await self.app(scope, receive, send)
            return

        if await self.admission.acquire() is None:
            await self._reject(send)
            return

        started = self._clock()
        try:
            await self.app(scope, receive, send)
        finally:
            self.admission.release(self._clock() - started)

    async def _reject(self, send: Send) -> None:
        await send(
            {
                "type": "http.response.start",
                "status": 503,
                "headers": list(self._rejection_headers),
            }
        )
        await send({"type": "http.response.body", "body": self._rejection_body})
