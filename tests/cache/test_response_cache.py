"""ResponseCacheMiddleware: replay anonymous GETs, never signed-in ones."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from livify.cache import LayeredCache, ResponseCacheMiddleware
from livify.types import ASGIApp, Message, Receive, Scope, Send
from tests.cache.helpers import FakeClock


@dataclass
class Harness:
    client: httpx.AsyncClient
    layers: LayeredCache
    clock: FakeClock
    calls: int = 0
    failure: str | None = None
    app: ASGIApp | None = None
    seen_routes: list[str] = field(default_factory=list)


@pytest.fixture
async def setup() -> AsyncIterator[Harness]:
    clock = FakeClock()
    harness = Harness(
        httpx.AsyncClient(), LayeredCache("memory://", clock=clock), clock
    )

    async def item(request: Request) -> Response:
        harness.calls += 1
        if harness.failure == "raise":
            raise ConnectionError("database unreachable")

        if harness.failure == "503":
            return JSONResponse({"errors": {"database": ["down"]}}, status_code=503)

        body = {"id": request.path_params["item_id"], "n": harness.calls}
        return JSONResponse(body, headers={"etag": f'"{harness.calls}"'})

    async def missing(_request: Request) -> Response:
        harness.calls += 1
        return JSONResponse({"errors": {}}, status_code=404)

    app = Starlette(routes=[Route("/items/{item_id}", item), Route("/gone", missing)])
    middleware = ResponseCacheMiddleware(
        app,
        cache=harness.layers.namespace(
            "responses", ttl_seconds=10, stale_if_error_seconds=60
        ),
        tags_for=lambda path, _query: [f"item:{path.rsplit('/', 1)[-1]}"],
    )

    async def outer(scope: Scope, receive: Receive, send: Send) -> None:
        await middleware(scope, receive, send)
        harness.seen_routes.append(getattr(scope.get("route"), "path", "none"))

    harness.app = outer
    transport = httpx.ASGITransport(app=outer)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        harness.client = client
        yield harness
    await harness.layers.aclose()


async def test_anonymous_get_replayed(setup: Harness) -> None:
    """The second anonymous GET is replayed without calling the app."""
    client = setup.client
    first = await client.get("/items/1")
    second = await client.get("/items/1")

    assert setup.calls == 1
    assert second.json() == first.json()
    assert second.headers["content-type"] == "application/json"
    # The route template survives a hit, so metrics keep their label.
    assert setup.seen_routes == ["/items/{item_id}", "/items/{item_id}"]


async def test_signed_in_get_never_replayed(setup: Harness) -> None:
    """A request with Authorization always reaches the app."""
    client = setup.client
    await client.get("/items/1")
    response = await client.get("/items/1", headers={"Authorization": "Token a"})

    assert setup.calls == 2
    assert response.json()["n"] == 2


async def test_error_answers_not_stored(setup: Harness) -> None:
    """Only 200 answers are stored."""
    client = setup.client
    for _ in range(2):
        assert (await client.get("/gone")).status_code == 404

    assert setup.calls == 2


async def test_tag_invalidation_reloads(setup: Harness) -> None:
    """Invalidating the response's tag makes the next GET reach the app."""
    client = setup.client
    await client.get("/items/1")
    await setup.layers.invalidate_tags(["item:1"])
    response = await client.get("/items/1")

    assert setup.calls == 2
    assert response.json()["n"] == 2


async def test_hit_answers_if_none_match_with_304(setup: Harness) -> None:
    """A hit compares If-None-Match with the stored ETag itself."""
    client = setup.client
    first = await client.get("/items/1")
    etag = first.headers["etag"]
    response = await client.get("/items/1", headers={"If-None-Match": etag})

    assert setup.calls == 1
    assert response.status_code == 304
    assert response.content == b""
    assert response.headers["etag"] == etag
    assert "content-type" not in response.headers


async def test_conditional_miss_stores_the_full_response(setup: Harness) -> None:
    """A miss that carried If-None-Match still stores the whole 200 response."""
    client = setup.client
    response = await client.get("/items/1", headers={"If-None-Match": '"1"'})
    replayed = await client.get("/items/1")

    assert response.status_code == 304
    assert replayed.status_code == 200
    assert replayed.json() == {"id": "1", "n": 1}
    assert setup.calls == 1


async def test_gzip_and_identity_are_separate_variants(setup: Harness) -> None:
    """A response is stored per Accept-Encoding variant."""
    client = setup.client
    await client.get("/items/1", headers={"Accept-Encoding": "identity"})
    await client.get("/items/1", headers={"Accept-Encoding": "gzip"})
    await client.get("/items/1", headers={"Accept-Encoding": "gzip, br"})

    assert setup.calls == 2


async def test_replayed_headers_are_not_shared(setup: Harness) -> None:
    """Middleware that appends to a hit's header list never changes the stored copy."""

    async def append_header(scope: Scope, receive: Receive, send: Send) -> None:
        async def send_with_header(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"].append((b"x-outer", b"1"))
            await send(message)

        assert setup.app is not None
        await setup.app(scope, receive, send_with_header)

    transport = httpx.ASGITransport(app=append_header)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        for _ in range(3):
            response = await client.get("/items/1")

    assert response.headers.get_list("x-outer") == ["1"]


@pytest.mark.parametrize("failure", ["raise", "503"])
async def test_stale_copy_served_when_the_app_fails(
    setup: Harness, failure: str
) -> None:
    """After expiry, a request to a failing app gets the stale copy, marked so."""
    client = setup.client
    await client.get("/items/1")
    setup.clock.advance(30)
    setup.failure = failure
    response = await client.get("/items/1")

    assert response.status_code == 200
    assert response.json() == {"id": "1", "n": 1}
    assert "stale-if-error" in response.headers["cache-status"]
    assert response.headers["cache-control"] == "no-store"


async def test_no_stale_copy_past_the_window(setup: Harness) -> None:
    """Past stale_if_error_seconds the failure reaches the caller."""
    client = setup.client
    await client.get("/items/1")
    setup.clock.advance(10 + 61)
    setup.failure = "503"
    response = await client.get("/items/1")

    assert response.status_code == 503


async def test_no_stale_copy_after_invalidation(setup: Harness) -> None:
    """A copy whose tag was invalidated is known to be outdated and never served."""
    client = setup.client
    await client.get("/items/1")
    await setup.layers.invalidate_tags(["item:1"])
    setup.failure = "503"
    response = await client.get("/items/1")

    assert response.status_code == 503
