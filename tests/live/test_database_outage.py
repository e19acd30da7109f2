"""A live `livify serve` on PostgreSQL while the database server is stopped.

The test starts a PostgreSQL cluster of its own on a free loopback port,
so stopping it leaves every other server on the machine alone.
"""

from __future__ import annotations

import secrets
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.live.conftest import require_tool
from tests.live.postgres_cluster import (
    PostgresCluster,
    create_cluster,
    find_postgres_bin,
)
from tests.live.server import LiveServer, register_user, start_live_server

pytestmark = pytest.mark.live

REQUEST_TIMEOUT_SECONDS = 15.0
RECOVERY_TIMEOUT_SECONDS = 30.0
POLL_INTERVAL_SECONDS = 0.5
STALE_MARK = "stale-if-error"
SHORT_CACHE_TTL_SECONDS = 1.0


@pytest.fixture
def cluster() -> Iterator[PostgresCluster]:
    bin_dir = require_tool(
        str(find_postgres_bin() or "") or None,
        "initdb",
        "install Debian's postgresql package (scripts/ensure-postgres.sh)",
    )
    # Not under pytest's tmp_path: the postgres user must be able to reach it.
    directory = Path(tempfile.mkdtemp(prefix="livify-pg-"))
    cluster = create_cluster(Path(bin_dir), directory)
    try:
        yield cluster
    finally:
        if cluster.is_running():
            cluster.stop("immediate")
        shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture
def server(cluster: PostgresCluster, tmp_path: Path) -> Iterator[LiveServer]:
    """`livify serve` on the cluster, with the in-process response cache on."""
    server = start_live_server(
        tmp_path / "data",
        cluster.url,
        extra_environment={"LIVIFY_CACHE_URL": "memory://"},
    )
    try:
        yield server
    finally:
        server.stop()


def article_body() -> dict[str, Any]:
    title = f"Outage {secrets.token_hex(4)}"
    return {"article": {"title": title, "description": "d", "body": "b"}}


def create_article(
    client: httpx.Client, server: LiveServer, token: str
) -> httpx.Response:
    return client.post(
        f"{server.api_url}/articles",
        json=article_body(),
        headers={"Authorization": f"Token {token}"},
    )


def assert_unavailable(response: httpx.Response) -> None:
    """Check for a 503 with Retry-After in the API's error format."""
    assert response.status_code == 503, response.text
    assert int(response.headers["retry-after"]) > 0
    errors = response.json()["errors"]
    assert errors, response.text


def wait_for_write(client: httpx.Client, server: LiveServer, token: str) -> int:
    """Retry an article write until it is not 503; return its status."""
    deadline = time.monotonic() + RECOVERY_TIMEOUT_SECONDS
    while True:
        response = create_article(client, server, token)
        if response.status_code != 503 or time.monotonic() > deadline:
            return response.status_code
        time.sleep(POLL_INTERVAL_SECONDS)


def test_stopped_database_gives_503_not_500(
    cluster: PostgresCluster, server: LiveServer
) -> None:
    """With PostgreSQL stopped, cached reads answer, the rest get 503, not 500.

    A restart of PostgreSQL brings writes back without restarting livify.
    """
    token = register_user(server)["token"]
    with httpx.Client(timeout=REQUEST_TIMEOUT_SECONDS) as client:
        created = create_article(client, server, token)
        assert created.status_code == 201, created.text
        cached_url = f"{server.api_url}/articles/{created.json()['article']['slug']}"
        for _ in range(2):
            assert client.get(cached_url).status_code == 200

        cluster.stop()

        cached = client.get(cached_url)
        assert cached.status_code == 200, cached.text

        for _ in range(3):
            assert_unavailable(create_article(client, server, token))

        user = {"username": "late", "email": "late@example.com", "password": "x" * 12}
        registration = client.post(f"{server.api_url}/users", json={"user": user})
        assert_unavailable(registration)

        uncached = client.get(
            f"{server.api_url}/profiles/nobody_{secrets.token_hex(3)}"
        )
        assert uncached.status_code == 503, uncached.text

        cluster.start()
        assert wait_for_write(client, server, token) == 201

    assert server.is_running, server.log_tail()
    assert "Traceback" not in server.log_tail(200)


@pytest.fixture
def short_lived_server(
    cluster: PostgresCluster, tmp_path: Path
) -> Iterator[LiveServer]:
    """`livify serve` whose cached views expire after one second."""
    server = start_live_server(
        tmp_path / "data",
        cluster.url,
        extra_environment={
            "LIVIFY_CACHE_URL": "memory://",
            "LIVIFY_CACHE_TTL_SECONDS": str(SHORT_CACHE_TTL_SECONDS),
        },
    )
    try:
        yield server
    finally:
        server.stop()


def test_expired_read_served_stale_while_database_down(
    cluster: PostgresCluster, short_lived_server: LiveServer
) -> None:
    """An anonymous read whose cached copy expired is served stale, marked so."""
    server = short_lived_server
    token = register_user(server)["token"]
    with httpx.Client(timeout=REQUEST_TIMEOUT_SECONDS) as client:
        slug = create_article(client, server, token).json()["article"]["slug"]
        url = f"{server.api_url}/articles/{slug}"
        fresh = client.get(url)
        assert fresh.status_code == 200, fresh.text
        time.sleep(SHORT_CACHE_TTL_SECONDS * 1.5)

        cluster.stop()
        stale = client.get(url)

    assert stale.status_code == 200, stale.text
    assert stale.json() == fresh.json()
    assert STALE_MARK in stale.headers.get("cache-status", ""), stale.headers
    assert stale.headers["cache-control"] == "no-store"
