"""HttpCacheHeadersMiddleware: ETags, 304 responses and Cache-Control."""

from __future__ import annotations

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from livify.cache._http_headers import CachePolicy, HttpCacheHeadersMiddleware

POLICY = CachePolicy(
    max_age_seconds=5,
    shared_max_age_seconds=60,
    stale_while_revalidate_seconds=30,
    stale_if_error_seconds=300,
)
PUBLIC = "public, max-age=5, s-maxage=60, stale-while-revalidate=30, stale-if-error=300"


async def article(request: Request) -> Response:
    return JSONResponse({"title": request.query_params.get("title", "first")})


async def missing(_request: Request) -> Response:
    return JSONResponse({"errors": {"article": ["not found"]}}, status_code=404)


async def create(_request: Request) -> Response:
    return JSONResponse({"ok": True}, status_code=201)


@pytest.fixture
def client() -> httpx.AsyncClient:
    app = Starlette(
        routes=[
            Route("/article", article),
            Route("/missing", missing),
            Route("/articles", create, methods=["POST"]),
            Route("/private", article),
        ]
    )
    middleware = HttpCacheHeadersMiddleware(
        app, policy=POLICY, is_public_path=lambda path: path != "/private"
    )
    transport = httpx.ASGITransport(app=middleware)
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


async def test_anonymous_get_is_public(client: httpx.AsyncClient) -> None:
    """An anonymous 200 GET gets the public policy, an ETag and Vary."""
    response = await client.get("/article")

    assert response.headers["cache-control"] == PUBLIC
    assert response.headers["etag"].startswith('"')
    assert response.headers["vary"] == "Authorization, Accept-Encoding"


async def test_matching_etag_gets_304(client: httpx.AsyncClient) -> None:
    """A request naming the current ETag gets 304 with no body."""
    first = await client.get("/article")
    second = await client.get(
        "/article", headers={"If-None-Match": first.headers["etag"]}
    )

    assert second.status_code == 304
    assert second.content == b""
    assert second.headers["etag"] == first.headers["etag"]
    assert second.headers["cache-control"] == PUBLIC


async def test_changed_body_gets_new_etag(client: httpx.AsyncClient) -> None:
    """A different body gets a different ETag, so an old one gets 200."""
    first = await client.get("/article")
    changed = await client.get(
        "/article",
        params={"title": "edited"},
        headers={"If-None-Match": first.headers["etag"]},
    )

    assert changed.status_code == 200
    assert changed.headers["etag"] != first.headers["etag"]
    assert changed.json() == {"title": "edited"}


@pytest.mark.parametrize("template", ["W/{}", '"other", {}', "*"])
async def test_if_none_match_forms_accepted(
    client: httpx.AsyncClient, template: str
) -> None:
    """Weak tags, lists and `*` all match (RFC 9110 section 13.1.2)."""
    etag = (await client.get("/article")).headers["etag"]

    response = await client.get(
        "/article", headers={"If-None-Match": template.format(etag)}
    )

    assert response.status_code == 304


async def test_authorized_get_is_private(client: httpx.AsyncClient) -> None:
    """A request with Authorization is never public."""
    response = await client.get("/article", headers={"Authorization": "Token x"})

    assert response.headers["cache-control"] == "private, no-cache"
    assert "Authorization" in response.headers["vary"]


async def test_errors_and_writes_not_stored(client: httpx.AsyncClient) -> None:
    """Error responses and writes get no-store and no ETag."""
    missing = await client.get("/missing")
    created = await client.post("/articles")

    assert missing.headers["cache-control"] == "no-store"
    assert "etag" not in missing.headers
    assert created.headers["cache-control"] == "no-store"


async def test_excluded_path_not_public(client: httpx.AsyncClient) -> None:
    """Paths the predicate rejects get no-store even when anonymous."""
    response = await client.get("/private")

    assert response.headers["cache-control"] == "no-store"
