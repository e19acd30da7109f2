"""Reject request bodies over a size limit while they are read.

A declared `Content-Length` over the limit is rejected before the
application runs. A chunked body (no `Content-Length`) or one that sends
more than it declared is counted as it arrives. The read that crosses the
limit raises `RequestBodyTooLarge`, so the application never buffers more
than the limit plus one chunk.
"""

from __future__ import annotations

import orjson
from starlette.exceptions import HTTPException

from livify.types import ASGIApp, Message, Receive, Scope, Send

DEFAULT_MAX_BODY_BYTES = 1024 * 1024
HTTP1_VERSIONS = frozenset({"1.0", "1.1"})


class RequestBodyTooLarge(HTTPException):
    """The request body is larger than the configured limit.

    It is a Starlette `HTTPException` (status 413) so that frameworks which
    wrap errors raised while reading the body, such as FastAPI, let it
    through to their 413 handler.
    """

    def __init__(self, max_body_bytes: int) -> None:
        super().__init__(status_code=413, detail=too_large_message(max_body_bytes))
        self.max_body_bytes = max_body_bytes


class BodySizeLimitMiddleware:
    """Pure ASGI middleware that limits HTTP request bodies to `max_body_bytes`."""

    def __init__(
        self, app: ASGIApp, *, max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    ) -> None:
        if max_body_bytes <= 0:
            msg = f"max_body_bytes must be positive, got {max_body_bytes!r}"
            raise ValueError(msg)

        self.app = app
        self.max_body_bytes = max_body_bytes
        self._rejection_body = orjson.dumps(
            {"errors": {"body": [too_large_message(max_body_bytes)]}}
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        declared, is_chunked = _framing(scope)
        if declared is not None and declared > self.max_body_bytes:
            await self._send_rejection(send)
            return

        # In HTTP/1.x a request with neither header has no body (RFC 9112,
        # section 6.3), so there is nothing to count.
        is_http1 = scope.get("http_version") in HTTP1_VERSIONS
        if declared is None and not is_chunked and is_http1:
            await self.app(scope, receive, send)
            return

        received = 0
        response_started = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body_bytes:
                    raise RequestBodyTooLarge(self.max_body_bytes)
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal response_started
            if message["type"] == "http.response.start":
                response_started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except RequestBodyTooLarge:
            # The application did not handle it, so send the 413 here. If a
            # response has already started, the connection can only be ended.
            if response_started:
                raise
            await self._send_rejection(send)

    async def _send_rejection(self, send: Send) -> None:
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(self._rejection_body)).encode()),
                    (b"cache-control", b"no-store"),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": self._rejection_body})


def too_large_message(max_body_bytes: int) -> str:
    return f"is larger than the limit of {max_body_bytes} bytes"


def _framing(scope: Scope) -> tuple[int | None, bool]:
    """Return the declared length (None: absent or invalid) and whether to count.

    The second value is true with Transfer-Encoding or an unreadable length.
    """
    declared: int | None = None
    is_chunked = False
    for name, value in scope["headers"]:
        if name == b"content-length":
            try:
                declared = int(value)
            except ValueError:
                # Not a length this limit can trust: count what arrives.
                is_chunked = True
        elif name == b"transfer-encoding":
            is_chunked = True
    return declared, is_chunked
