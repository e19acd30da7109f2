"""A real `livify serve` with two workers and Redis, behind a real Varnish."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx
import orjson
import pytest

from tests.cache.varnish import free_port, running_varnish
from tests.live.server import LiveServer, register_user, start_live_server

pytestmark = pytest.mark.live

REDIS_URL = "redis://127.0.0.1:6379/0"
READS = 40


@dataclass
class Stack:
    server: LiveServer
    edge: str


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[Stack]:
    edge_port = free_port()
    environment = {
        "LIVIFY_CACHE_URL": REDIS_URL,
        # Each run gets its own keys in the shared Redis.
        "LIVIFY_CACHE_KEY_PREFIX": f"livify-test-{secrets.token_hex(6)}",
        "LIVIFY_EDGE_PURGE_URLS": orjson.dumps(
            [f"http://127.0.0.1:{edge_port}"]
        ).decode(),
    }
    server = start_live_server(
        tmp_path / "data",
        None,
        extra_args=["--workers", "2"],
        extra_environment=environment,
    )
    try:
        with running_varnish(server.port, port=edge_port) as edge:
            yield Stack(server, edge)
    finally:
        server.stop()


def create_article(server: LiveServer, token: str) -> str:
    response = httpx.post(
        f"{server.api_url}/articles",
        headers={"Authorization": f"Token {token}"},
        json={
            "article": {
                "title": f"Edge {secrets.token_hex(4)}",
                "description": "d",
                "body": "original body",
                "tagList": ["edge"],
            }
        },
    )
    assert response.status_code == 201, response.text
    slug: str = response.json()["article"]["slug"]
    return slug


def read_many(
    url: str, count: int, headers: dict[str, str] | None = None
) -> list[dict]:
    """GET `url` on `count` new connections, so both workers serve some."""

    def one(_index: int) -> dict:
        response = httpx.get(url, headers=headers, timeout=10.0)
        assert response.status_code == 200, response.text
        return response.json()

    with ThreadPoolExecutor(8) as pool:
        return list(pool.map(one, range(count)))


def test_every_worker_reads_the_write(stack: Stack) -> None:
    """After an edit, every following read on either worker shows it."""
    author = register_user(stack.server)
    slug = create_article(stack.server, author["token"])
    url = f"{stack.server.api_url}/articles/{slug}"
    read_many(url, READS)

    edited = httpx.put(
        url,
        headers={"Authorization": f"Token {author['token']}"},
        json={"article": {"body": "edited body"}},
    )
    bodies = {page["article"]["body"] for page in read_many(url, READS)}

    assert edited.status_code == 200
    assert bodies == {"edited body"}


def test_edge_hit_then_purged_on_edit(stack: Stack) -> None:
    """Varnish repeats an anonymous read; the first read after an edit is fresh."""
    author = register_user(stack.server)
    slug = create_article(stack.server, author["token"])
    edge_url = f"{stack.edge}/api/articles/{slug}"

    first = httpx.get(edge_url)
    second = httpx.get(edge_url)
    httpx.put(
        f"{stack.server.api_url}/articles/{slug}",
        headers={"Authorization": f"Token {author['token']}"},
        json={"article": {"body": "edited at the origin"}},
    )
    after_edit = httpx.get(edge_url)

    assert first.headers["x-cache"] == "MISS"
    assert second.headers["x-cache"] == "HIT"
    assert after_edit.json()["article"]["body"] == "edited at the origin"


def test_flags_never_leak_between_callers(stack: Stack) -> None:
    """Through Varnish and the cache, each caller sees only their own flag."""
    author = register_user(stack.server)
    fan = register_user(stack.server)
    other = register_user(stack.server)
    slug = create_article(stack.server, author["token"])
    edge_url = f"{stack.edge}/api/articles/{slug}"
    httpx.post(
        f"{edge_url}/favorite", headers={"Authorization": f"Token {fan['token']}"}
    )

    fan_views = read_many(edge_url, 6, {"Authorization": f"Token {fan['token']}"})
    other_views = read_many(edge_url, 6, {"Authorization": f"Token {other['token']}"})
    anonymous_views = read_many(edge_url, 6)

    assert {view["article"]["favorited"] for view in fan_views} == {True}
    assert {view["article"]["favorited"] for view in other_views} == {False}
    assert {view["article"]["favorited"] for view in anonymous_views} == {False}
    assert {view["article"]["favoritesCount"] for view in anonymous_views} == {1}
