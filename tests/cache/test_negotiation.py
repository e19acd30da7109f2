"""Accept-Encoding parsing, the gzip middleware built on it, and HEAD as GET."""

from __future__ import annotations

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from livify.cache import GZipMiddleware, HeadMiddleware, accepts_gzip

BIG_TEXT = "cacheable " * 200


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (b"gzip", True),
        (b"GZIP", True),
        (b"x-gzip", True),
        (b"br, gzip;q=0.5", True),
        (b"gzip ; q=1.0", True),
        (b"*", True),
        (b"br, *;q=0.1", True),
        (b"gzip;q=0", False),
        (b"gzip;q=0.000", False),
        (b"*;q=0", False),
        (b"*, gzip;q=0", False),
        (b"br", False),
        (b"identity", False),
        (b"", False),
        (b"gzip;q=banana", False),
        (b"gzip;q=2", False),
        (b"gzipx", False),
    ],
)
def test_accepts_gzip(value: bytes, expected: bool) -> None:
    assert accepts_gzip(value) is expected


async def text(request: Request) -> Response:
    return PlainTextResponse(BIG_TEXT, headers={"x-method": request.method})


def client_for(app: object) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    return httpx.AsyncClient(transport=transport, base_url="http://t")


@pytest.mark.parametrize(
    ("accept_encoding", "is_gzipped"),
    [("gzip", True), ("GZIP", True), ("gzip;q=0", False), ("br", False)],
)
async def test_gzip_follows_parsed_accept_encoding(
    accept_encoding: str, is_gzipped: bool
) -> None:
    app = GZipMiddleware(Starlette(routes=[Route("/text", text)]), minimum_size=100)
    async with client_for(app) as client:
        response = await client.get(
            "/text", headers={"accept-encoding": accept_encoding}
        )

    assert response.status_code == 200
    assert (response.headers.get("content-encoding") == "gzip") is is_gzipped
    assert response.text == BIG_TEXT


async def test_head_gets_get_headers_without_body() -> None:
    routes = [Route("/text", text, methods=["GET"])]
    app = HeadMiddleware(Starlette(routes=routes))
    async with client_for(app) as client:
        get = await client.get("/text")
        head = await client.head("/text")

    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["content-length"] == get.headers["content-length"]
    assert head.headers["x-method"] == "GET"


async def test_head_restores_the_method_for_the_server() -> None:
    """The server reads the method to know no body follows the headers."""
    seen: list[str] = []
    app = HeadMiddleware(Starlette(routes=[Route("/text", text)]))

    async def server(scope: dict[str, object], receive: object, send: object) -> None:
        async def record(message: dict[str, object]) -> None:
            if message["type"] == "http.response.start":
                seen.append(str(scope["method"]))
            await send(message)  # type: ignore[operator]

        await app(scope, receive, record)  # type: ignore[arg-type]

    async with client_for(server) as client:
        await client.head("/text")

    assert seen == ["HEAD"]
