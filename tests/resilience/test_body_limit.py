"""BodySizeLimitMiddleware: as pure ASGI, and in front of the API."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager

from livify.app import create_app
from livify.resilience import BodySizeLimitMiddleware, RequestBodyTooLarge
from livify.settings import Settings
from livify.types import Message, Receive, Scope, Send
from tests.platform.helpers import PASSWORD
from tests.platform.inspection import count_rows

LIMIT = 64


class Recorder:
    """An ASGI app that reads the whole body, then returns 200 with its size."""

    def __init__(self, *, start_first: bool = False, catch: bool = False) -> None:
        self.start_first = start_first
        self.catch = catch
        self.calls = 0
        self.received = b""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.calls += 1
        if self.start_first:
            await send({"type": "http.response.start", "status": 200, "headers": []})

        try:
            await self._read_body(receive)
        except RequestBodyTooLarge:
            if not self.catch:
                raise
            await send({"type": "http.response.start", "status": 499, "headers": []})
            await send({"type": "http.response.body", "body": b"handled"})
            return

        if not self.start_first:
            await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"%d" % len(self.received)})

    async def _read_body(self, receive: Receive) -> None:
        while True:
            message = await receive()
            self.received += message.get("body", b"")
            if not message.get("more_body", False):
                return


def http_scope(content_length: int | str | None = None) -> Scope:
    headers = []
    if content_length is not None:
        headers.append((b"content-length", str(content_length).encode()))
    return {"type": "http", "method": "POST", "path": "/", "headers": headers}


def chunks(*parts: bytes) -> tuple[Receive, list[int]]:
    """Return a receive callable that yields the parts, and a read counter."""
    reads = [0]
    messages = [
        {"type": "http.request", "body": part, "more_body": index < len(parts) - 1}
        for index, part in enumerate(parts)
    ]

    async def receive() -> Message:
        reads[0] += 1
        return messages[reads[0] - 1]

    return receive, reads


async def run(
    app: Any, scope: Scope, receive: Receive, *, limit: int = LIMIT
) -> list[Message]:
    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    await BodySizeLimitMiddleware(app, max_body_bytes=limit)(scope, receive, send)
    return sent


def status_of(sent: list[Message]) -> int:
    starts = [message for message in sent if message["type"] == "http.response.start"]
    assert len(starts) == 1, sent
    status: int = starts[0]["status"]
    return status


def body_of(sent: list[Message]) -> bytes:
    return b"".join(
        m.get("body", b"") for m in sent if m["type"] == "http.response.body"
    )


async def test_declared_length_over_limit() -> None:
    """A Content-Length over the limit gets 413 before the app runs."""
    app = Recorder()
    receive, reads = chunks(b"x" * (LIMIT + 1))

    sent = await run(app, http_scope(LIMIT + 1), receive)

    assert status_of(sent) == 413
    assert app.calls == 0
    assert reads[0] == 0


async def test_declared_length_at_limit() -> None:
    """A body of exactly the limit reaches the app whole."""
    app = Recorder()
    receive, _ = chunks(b"x" * LIMIT)

    sent = await run(app, http_scope(LIMIT), receive)

    assert status_of(sent) == 200
    assert body_of(sent) == str(LIMIT).encode()


async def test_chunked_body_over_limit() -> None:
    """Without Content-Length, the read that crosses the limit ends in 413."""
    app = Recorder()
    receive, reads = chunks(*[b"x" * 30] * 10)

    sent = await run(app, http_scope(), receive)

    assert status_of(sent) == 413
    # 30 + 30 + 30 crosses 64 on the third read, and nothing is read after it.
    assert reads[0] == 3
    assert app.received == b"x" * 60


async def test_chunked_body_at_limit() -> None:
    """Without Content-Length, a body of exactly the limit passes."""
    app = Recorder()
    receive, _ = chunks(b"x" * 32, b"x" * 32, b"")

    sent = await run(app, http_scope(), receive)

    assert status_of(sent) == 200
    assert app.received == b"x" * LIMIT


async def test_http1_request_without_framing_headers_is_not_wrapped() -> None:
    """HTTP/1.1 without Content-Length or Transfer-Encoding has no body to count."""
    seen: list[Receive] = []
    receive, _ = chunks(b"")

    async def app(_scope: Scope, inner_receive: Receive, send: Send) -> None:
        seen.append(inner_receive)
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    sent = await run(app, {**http_scope(), "http_version": "1.1"}, receive)

    assert status_of(sent) == 200
    assert seen == [receive]


async def test_http2_body_without_length_is_counted() -> None:
    """HTTP/2 may send a body without either header, so it is still counted."""
    receive, _ = chunks(*[b"x" * 30] * 3)

    sent = await run(Recorder(), {**http_scope(), "http_version": "2"}, receive)

    assert status_of(sent) == 413


async def test_body_longer_than_declared() -> None:
    """A body that sends more than its Content-Length is cut off with 413."""
    app = Recorder()
    receive, _ = chunks(b"x" * 40, b"x" * 40)

    sent = await run(app, http_scope(10), receive)

    assert status_of(sent) == 413


async def test_unparsable_content_length_is_counted() -> None:
    """A Content-Length that is not a number is ignored and the body counted."""
    under, _ = chunks(b"x" * 10)
    over, _ = chunks(b"x" * (LIMIT + 1))

    accepted = await run(Recorder(), http_scope("ten"), under)
    rejected = await run(Recorder(), http_scope("ten"), over)

    assert status_of(accepted) == 200
    assert status_of(rejected) == 413


async def test_rejection_is_json_errors() -> None:
    """The 413 body is the API error format, with matching headers."""
    receive, _ = chunks(b"")

    sent = await run(Recorder(), http_scope(LIMIT + 1), receive)

    headers = dict(sent[0]["headers"])
    body = body_of(sent)
    assert json.loads(body) == {
        "errors": {"body": [f"is larger than the limit of {LIMIT} bytes"]}
    }
    assert headers[b"content-type"] == b"application/json"
    assert headers[b"content-length"] == str(len(body)).encode()
    assert headers[b"connection"] == b"close"
    assert headers[b"cache-control"] == b"no-store"


async def test_started_response_reraises() -> None:
    """After the app started its response, the error propagates unanswered."""
    app = Recorder(start_first=True)
    receive, _ = chunks(b"x" * (LIMIT + 1))

    with pytest.raises(RequestBodyTooLarge) as raised:
        await run(app, http_scope(), receive)

    assert raised.value.status_code == 413
    assert raised.value.max_body_bytes == LIMIT


async def test_app_may_handle_error() -> None:
    """An app that catches the error sends the only response."""
    app = Recorder(catch=True)
    receive, _ = chunks(b"x" * (LIMIT + 1))

    sent = await run(app, http_scope(), receive)

    assert status_of(sent) == 499
    assert body_of(sent) == b"handled"


async def test_disconnect_passes_through() -> None:
    """Messages other than body chunks reach the app unchanged."""
    seen: list[Message] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        seen.append(await receive())

    async def receive() -> Message:
        return {"type": "http.disconnect"}

    await run(app, http_scope(), receive)

    assert seen == [{"type": "http.disconnect"}]


@pytest.mark.parametrize("scope_type", ["lifespan", "websocket"])
async def test_other_scopes_pass_through(scope_type: str) -> None:
    """Non-HTTP scopes get the original receive and send callables."""
    seen: list[Any] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        seen.extend([scope, receive, send])

    async def receive() -> Message:
        return {"type": f"{scope_type}.receive"}

    async def send(message: Message) -> None:
        return None

    scope: Scope = {"type": scope_type, "headers": [(b"content-length", b"999")]}
    await BodySizeLimitMiddleware(app, max_body_bytes=1)(scope, receive, send)

    assert seen == [scope, receive, send]


@pytest.mark.parametrize("limit", [0, -1])
def test_non_positive_limit_rejected(limit: int) -> None:
    """The limit must be at least one byte."""
    with pytest.raises(ValueError, match="max_body_bytes must be positive"):
        BodySizeLimitMiddleware(Recorder(), max_body_bytes=limit)


# --- in front of the API ----------------------------------------------------

API_LIMIT = 256


def registration(padding: int) -> bytes:
    """Return a registration body, padded with spaces to a chosen size."""
    user = {"username": "big", "email": "big@example.com", "password": PASSWORD}
    return json.dumps({"user": user}).encode() + b" " * padding


def registration_of_size(size: int) -> bytes:
    body = registration(0)
    return registration(size - len(body))


async def stream(body: bytes, chunk_bytes: int = 50) -> AsyncIterator[bytes]:
    for start in range(0, len(body), chunk_bytes):
        yield body[start : start + chunk_bytes]


@pytest.fixture
async def api(settings: Settings) -> AsyncIterator[tuple[Any, httpx.AsyncClient]]:
    """The API with a small body limit, and a client for it."""
    app = create_app(settings.model_copy(update={"max_body_bytes": API_LIMIT}))
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://testserver/api"
        ) as client:
            yield app, client


async def test_api_rejects_declared_length(
    api: tuple[Any, httpx.AsyncClient],
) -> None:
    """A registration over the limit with Content-Length gets 413, no account."""
    app, client = api
    before = await count_rows(app)

    response = await client.post(
        "/users",
        content=registration_of_size(API_LIMIT + 1),
        headers={"Content-Type": "application/json"},
    )

    assert response.status_code == 413
    assert response.json() == {
        "errors": {"body": [f"is larger than the limit of {API_LIMIT} bytes"]}
    }
    assert await count_rows(app) == before


async def test_api_rejects_chunked_body(api: tuple[Any, httpx.AsyncClient]) -> None:
    """A chunked registration over the limit gets 413 and creates no account."""
    app, client = api
    before = await count_rows(app)

    response = await client.post(
        "/users",
        content=stream(registration_of_size(API_LIMIT + 1)),
        headers={"Content-Type": "application/json"},
    )

    assert "content-length" not in response.request.headers
    assert response.request.headers["transfer-encoding"] == "chunked"
    assert response.status_code == 413
    assert response.json() == {
        "errors": {"body": [f"is larger than the limit of {API_LIMIT} bytes"]}
    }
    assert await count_rows(app) == before
    login = await client.post(
        "/users/login",
        json={"user": {"email": "big@example.com", "password": PASSWORD}},
    )
    assert login.status_code == 401


@pytest.mark.parametrize("is_chunked", [False, True], ids=["declared", "chunked"])
async def test_api_accepts_body_at_limit(
    api: tuple[Any, httpx.AsyncClient], is_chunked: bool
) -> None:
    """A registration of exactly the limit succeeds, chunked or not."""
    _, client = api
    body = registration_of_size(API_LIMIT)
    assert len(body) == API_LIMIT

    response = await client.post(
        "/users",
        content=stream(body) if is_chunked else body,
        headers={"Content-Type": "application/json"},
    )

    assert response.status_code == 201, response.text
