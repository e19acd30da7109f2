"""livify's VCL in a real varnishd, purged by EdgePurger."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from livify.cache._edge_purge import EdgePurger
from tests.cache.varnish import running_varnish

PUBLIC = "public, max-age=5, s-maxage=60, stale-while-revalidate=30"


class Origin:
    """A loopback HTTP origin whose article title the test can change."""

    def __init__(self) -> None:
        self.title = "first"
        self.requests = 0
        origin = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                # Varnish's health probe requests /livez; count only reads.
                if self.path.startswith("/api/"):
                    origin.requests += 1
                body = json.dumps({"title": origin.title}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                if self.headers.get("Authorization"):
                    self.send_header("Cache-Control", "private, no-cache")
                else:
                    self.send_header("Cache-Control", PUBLIC)
                self.send_header("Surrogate-Key", "article:7 author:3 tag:ab12")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *_args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def origin() -> Iterator[Origin]:
    server = Origin()
    try:
        yield server
    finally:
        server.close()


@pytest.fixture
def edge(origin: Origin) -> Iterator[str]:
    with running_varnish(origin.port) as base_url:
        yield base_url


def test_second_anonymous_read_is_hit(origin: Origin, edge: str) -> None:
    """An anonymous read is cached, and the keys never reach the client."""
    first = httpx.get(f"{edge}/api/articles/x")
    second = httpx.get(f"{edge}/api/articles/x")

    assert first.headers["x-cache"] == "MISS"
    assert second.headers["x-cache"] == "HIT"
    assert origin.requests == 1
    assert "surrogate-key" not in second.headers


def test_authorized_reads_never_cached(origin: Origin, edge: str) -> None:
    """Requests with Authorization always reach the origin and are not kept."""
    httpx.get(f"{edge}/api/articles/x")
    for _ in range(3):
        response = httpx.get(
            f"{edge}/api/articles/x", headers={"Authorization": "Token secret"}
        )
        assert response.headers["x-cache"] == "MISS"

    assert origin.requests == 4


async def test_purge_by_key_shows_edit(origin: Origin, edge: str) -> None:
    """After a purge of one of its keys, the next read fetches the new body."""
    client = httpx.AsyncClient()
    await client.get(f"{edge}/api/articles/x")
    origin.title = "edited"
    purger = EdgePurger([edge])
    purger.start()
    try:
        purger.purge(["tag:ab12"])
        await purger.join()
    finally:
        await purger.aclose()

    response = await client.get(f"{edge}/api/articles/x")
    await client.aclose()

    assert response.json() == {"title": "edited"}
    assert response.headers["x-cache"] == "MISS"


async def test_purge_of_other_key_keeps_entry(origin: Origin, edge: str) -> None:
    """A key the object does not carry, even a prefix of one, purges nothing."""
    client = httpx.AsyncClient()
    await client.get(f"{edge}/api/articles/x")
    purger = EdgePurger([edge])
    purger.start()
    try:
        purger.purge(["article:70", "article"])
        await purger.join()
    finally:
        await purger.aclose()

    response = await client.get(f"{edge}/api/articles/x")
    await client.aclose()

    assert response.headers["x-cache"] == "HIT"


async def test_failed_purge_is_counted() -> None:
    """A node that cannot be reached is retried, then counted as failed."""

    class Hooks:
        def __init__(self) -> None:
            self.sent: list[str] = []
            self.failed: list[str] = []

        def on_purge_sent(self, node: str) -> None:
            self.sent.append(node)

        def on_purge_failed(self, node: str) -> None:
            self.failed.append(node)

        def on_purge_dropped(self, key_count: int) -> None:
            pass

    hooks = Hooks()
    # Nothing listens on port 1 of the loopback address.
    purger = EdgePurger(
        ["http://127.0.0.1:1"],
        attempts=2,
        wait_initial_seconds=0.01,
        wait_max_seconds=0.01,
        hooks=hooks,
    )
    purger.start()
    try:
        purger.purge(["article:1"])
        await purger.join()
    finally:
        await purger.aclose()

    assert hooks.failed == ["http://127.0.0.1:1"]
    assert hooks.sent == []


def test_invalid_key_rejected() -> None:
    """Keys outside [a-z0-9:] raise ValueError before anything is queued."""
    purger = EdgePurger(["http://127.0.0.1:1"])

    with pytest.raises(ValueError, match="invalid surrogate key"):
        purger.purge(["tag:Dragons"])
