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
from livify.types import Receive, Scope, Send


@dataclass
class Harness:
    client: httpx.AsyncClient
    layers: LayeredCache
    calls: int = 0
    seen_routes: list[str] = field(default_factory=list)


@pytest.fixture
async def setup() -> AsyncIterator[Harness]:
    harness = Harness(httpx.AsyncClient(), LayeredCache("memory://"))

    async def item(request: Request) -> Response:
        harness.calls += 1
        return JSONResponse({"id": request.path_params["item_id"], "n": harness.calls})

    async def missing(_request: Request) -> Response:
        harness.calls += 1
        return JSONResponse({"errors": {}}, status_code=404)

    app = Starlette(routes=[Route("/items/{item_id}", item), Route("/gone", missing)])
    middleware = ResponseCacheMiddleware(
        app,
        cache=harness.layers.namespace("responses"),
        tags_for=lambda path, _query: [f"item:{path.rsplit('/', 1)[-1]}"],
    )

    async def outer(scope: Scope, receive: Receive, send: Send) -> None:
        await middleware(scope, receive, send)
        harness.seen_routes.append(getattr(scope.get("route"), "path", "none"))

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
