"""Moderation outages against real processes: nothing lost, nothing doubled.

The test starts `livify moderation serve` and `livify serve` as processes on
loopback ports, makes the moderation service hang and then stops it while
posts are written, restarts the livify server, brings moderation back, and
waits for the worker to publish every held post exactly once.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.live.moderation import ModerationProcess
from tests.live.server import (
    LiveServer,
    find_free_port,
    register_user,
    start_live_server,
)

pytestmark = pytest.mark.live

PUBLISH_TIMEOUT_SECONDS = 30.0
POLL_SECONDS = 0.2
SERVER_ENVIRONMENT = {
    "LIVIFY_MODERATION_TIMEOUT_SECONDS": "0.5",
    "LIVIFY_MODERATION_MAX_ATTEMPTS": "1",
    "LIVIFY_MODERATION_BREAKER_OPEN_SECONDS": "1",
    "LIVIFY_MODERATION_RETRY_INITIAL_SECONDS": "0.2",
    "LIVIFY_MODERATION_RETRY_MAX_SECONDS": "1",
    "LIVIFY_MODERATION_WORKER_INTERVAL_SECONDS": "0.2",
}


@pytest.fixture
def moderation(tmp_path: Path) -> Iterator[ModerationProcess]:
    service = ModerationProcess(find_free_port(), tmp_path / "moderation.log")
    service.start()
    try:
        yield service
    finally:
        service.stop()


def start_server(
    data_dir: Path, database_url: str | None, moderation: ModerationProcess
) -> LiveServer:
    return start_live_server(
        data_dir,
        database_url,
        extra_environment={
            **SERVER_ENVIRONMENT,
            "LIVIFY_MODERATION_URL": moderation.url,
        },
    )


def write_held_posts(
    server: LiveServer, user: dict[str, str], label: str, slug: str | None
) -> tuple[list[str], list[int]]:
    """Post two articles and, on `slug`, two comments; all must be held."""
    headers = {"Authorization": f"Token {user['token']}"}
    slugs = []
    comment_ids = []
    with httpx.Client(base_url=server.api_url, headers=headers, timeout=10.0) as client:
        for number in range(2):
            response = client.post(
                "/articles",
                json={
                    "article": {
                        "title": f"{label} {number}",
                        "description": "held",
                        "body": "written during an outage",
                    }
                },
            )
            assert response.status_code == 201, response.text
            article = response.json()["article"]
            assert article["moderation"] == "pending", article
            slugs.append(article["slug"])

        target = slug or slugs[0]
        for number in range(2):
            response = client.post(
                f"/articles/{target}/comments",
                json={"comment": {"body": f"{label} comment {number}"}},
            )
            assert response.status_code == 200, response.text
            comment = response.json()["comment"]
            assert comment["moderation"] == "pending", comment
            comment_ids.append(comment["id"])

    return slugs, comment_ids


def public_view(server: LiveServer, slug: str) -> tuple[list[str], int, list[int]]:
    """Return the anonymous article list, its count and `slug`'s comment ids."""
    with httpx.Client(base_url=server.api_url, timeout=10.0) as client:
        page = client.get("/articles", params={"limit": 100}).json()
        comments = client.get(f"/articles/{slug}/comments")

    ids = [c["id"] for c in comments.json()["comments"]] if comments.is_success else []
    return [a["slug"] for a in page["articles"]], page["articlesCount"], ids


def test_outage_loses_and_doubles_nothing(
    live_database_url: str | None, tmp_path: Path, moderation: ModerationProcess
) -> None:
    """Posts held during a hang and a stop are published once after a restart."""
    data_dir = tmp_path / "data"
    server = start_server(data_dir, live_database_url, moderation)
    try:
        user = register_user(server)
        with httpx.Client(base_url=server.api_url, timeout=10.0) as client:
            base = client.post(
                "/articles",
                headers={"Authorization": f"Token {user['token']}"},
                json={"article": {"title": "Base", "description": "d", "body": "b"}},
            ).json()["article"]
        assert "moderation" not in base

        moderation.set_faults(hang_rate=1.0)
        hung_slugs, hung_comments = write_held_posts(server, user, "Hung", base["slug"])
        moderation.stop()
        down_slugs, down_comments = write_held_posts(server, user, "Down", base["slug"])

        assert public_view(server, base["slug"]) == ([base["slug"]], 1, [])
    finally:
        server.stop()

    server = start_server(data_dir, live_database_url, moderation)
    try:
        moderation.start()
        held_slugs = [*hung_slugs, *down_slugs]
        held_comments = sorted([*hung_comments, *down_comments], reverse=True)
        expected = ([*reversed(held_slugs), base["slug"]], 5, held_comments)

        deadline = time.monotonic() + PUBLISH_TIMEOUT_SECONDS
        view: tuple[Any, ...] = ()
        while time.monotonic() < deadline:
            view = public_view(server, base["slug"])
            if view == expected:
                break
            time.sleep(POLL_SECONDS)

        slugs, count, comment_ids = view
        assert slugs == expected[0], server.log_tail()
        assert count == len(set(slugs)) == 5
        assert comment_ids == held_comments
    finally:
        server.stop()
