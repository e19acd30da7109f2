"""LoadSheddingMiddleware and DeadlineMiddleware as pure ASGI."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest

from livify.resilience import (
    Admission,
    AimdLimit,
    DeadlineMiddleware,
    LoadSheddingMiddleware,
    remaining_seconds,
)
from livify.types import Receive, Scope, Send


class GatedApp:
    """An ASGI app whose requests wait until the test opens the gate."""

    def __init__(self) -> None:
        self.gate = asyncio.Event()
        self.started = asyncio.Event()
        self.running = 0
        self.cancelled = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.running += 1
        self.started.set()
        try:
            if scope["path"] != "/fast":
                await self.gate.wait()
        except asyncio.CancelledError:
            self.cancelled += 1
            raise
        finally:
            self.running -= 1

        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})


def one_slot_admission() -> Admission:
    limit = AimdLimit(initial_limit=1, min_limit=1, max_limit=1)
    return Admission(limit, queue_size=0)


def client_for(app: object) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    return httpx.AsyncClient(transport=transport, base_url="http://test")


async def test_excess_request_gets_503_with_retry_after() -> None:
    """With the only slot busy, the next request is shed with a JSON 503."""
    app = GatedApp()
    middleware = LoadSheddingMiddleware(
        app,
        admission=one_slot_admission(),
        retry_after_seconds=2,
        error_body=lambda seconds: json.dumps({"wait": seconds}).encode(),
    )
    async with client_for(middleware) as client:
        first = asyncio.create_task(client.get("/slow"))
        await app.started.wait()

        shed = await client.get("/slow")
        app.gate.set()
        admitted = await first

    assert admitted.status_code == 200
    assert shed.status_code == 503
    assert shed.headers["retry-after"] == "2"
    assert shed.headers["content-type"] == "application/json"
    assert shed.json() == {"wait": 2}


async def test_excluded_paths_are_never_shed() -> None:
    """Health and metrics paths pass while every slot is busy."""
    app = GatedApp()
    middleware = LoadSheddingMiddleware(
        app, admission=one_slot_admission(), excluded_paths={"/fast"}
    )
    async with client_for(middleware) as client:
        first = asyncio.create_task(client.get("/slow"))
        await app.started.wait()

        health = await client.get("/fast")
        app.gate.set()
        await first

    assert health.status_code == 200


async def test_slot_released_after_app_error() -> None:
    """A request whose app raises still gives its slot back."""
    admission = one_slot_admission()

    async def failing(scope: Scope, receive: Receive, send: Send) -> None:
        raise RuntimeError("boom")

    middleware = LoadSheddingMiddleware(failing, admission=admission)
    async with client_for(middleware) as client:
        with pytest.raises(RuntimeError, match="boom"):
            await client.get("/")

    assert admission.in_flight == 0


async def test_deadline_cancels_app_and_sends_504() -> None:
    """A read past its deadline is cancelled and answered 504 with the body."""
    app = GatedApp()
    middleware = DeadlineMiddleware(
        app,
        read_timeout_seconds=0.05,
        write_timeout_seconds=5.0,
        error_body=lambda seconds: f"late after {seconds}".encode(),
    )
    async with client_for(middleware) as client:
        response = await client.get("/slow")

    assert response.status_code == 504
    assert response.text == "late after 0.05"
    assert app.cancelled == 1
    assert app.running == 0


async def test_writes_get_their_own_deadline() -> None:
    """A POST gets the write timeout, so it outlives the read deadline."""
    app = GatedApp()
    middleware = DeadlineMiddleware(
        app, read_timeout_seconds=0.01, write_timeout_seconds=5.0
    )
    async with client_for(middleware) as client:
        pending = asyncio.create_task(client.post("/slow"))
        await asyncio.sleep(0.1)
        app.gate.set()
        response = await pending

    assert response.status_code == 200


async def test_started_response_just_stops() -> None:
    """Past the deadline after the response started, nothing more is sent."""
    sent: list[dict[str, object]] = []

    async def streaming(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"a", "more_body": True})
        await asyncio.sleep(10)

    async def record(message: dict[str, object]) -> None:
        sent.append(message)

    async def receive() -> dict[str, object]:
        return {"type": "http.request", "body": b"", "more_body": False}

    middleware = DeadlineMiddleware(streaming, read_timeout_seconds=0.05)
    scope = {"type": "http", "method": "GET", "path": "/", "headers": []}
    await asyncio.wait_for(middleware(scope, receive, record), timeout=5.0)  # type: ignore[arg-type]

    assert [message.get("status") for message in sent] == [200, None]


async def test_app_timeout_error_is_not_a_deadline() -> None:
    """A TimeoutError the app raises itself propagates unchanged."""

    async def timing_out(scope: Scope, receive: Receive, send: Send) -> None:
        raise TimeoutError("upstream")

    middleware = DeadlineMiddleware(timing_out, read_timeout_seconds=5.0)
    async with client_for(middleware) as client:
        with pytest.raises(TimeoutError, match="upstream"):
            await client.get("/")


def test_nonpositive_deadline_raises() -> None:
    """A zero or negative timeout raises ValueError naming the option."""

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        pass

    with pytest.raises(ValueError, match="write_timeout_seconds must be positive"):
        DeadlineMiddleware(app, write_timeout_seconds=0)


async def test_deadline_is_visible_to_outbound_calls() -> None:
    """Inside the request, remaining_seconds() counts down from the timeout."""
    seen: list[float | None] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        seen.append(remaining_seconds())
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    middleware = DeadlineMiddleware(app, read_timeout_seconds=2.0)
    async with client_for(middleware) as client:
        await client.get("/")

    assert seen[0] is not None
    assert 1.5 < seen[0] <= 2.0
    assert remaining_seconds() is None
