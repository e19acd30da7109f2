"""A trivial ASGI app and a way to call an app with a given peer and headers."""

from __future__ import annotations

from typing import Any

from livify.types import ASGIApp, Message, Receive, Scope, Send


async def ok_app(scope: Scope, receive: Receive, send: Send) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})


class Response:
    def __init__(self, status: int, headers: dict[str, str], body: bytes) -> None:
        self.status = status
        self.headers = headers
        self.body = body


async def call(
    app: ASGIApp,
    path: str = "/api/articles",
    *,
    method: str = "GET",
    peer: str = "192.0.2.10",
    headers: dict[str, str] | None = None,
) -> Response:
    """Send one HTTP request to `app` and collect its response."""
    scope: dict[str, Any] = {
        "type": "http",
        "method": method,
        "path": path,
        "client": (peer, 50000),
        "headers": [
            (name.lower().encode(), value.encode())
            for name, value in (headers or {}).items()
        ],
    }
    messages: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        messages.append(message)

    await app(scope, receive, send)
    start = messages[0]
    body = b"".join(message.get("body", b"") for message in messages[1:])
    response_headers = {
        name.decode(): value.decode() for name, value in start.get("headers", [])
    }
    return Response(start["status"], response_headers, body)
