"""Content moderation through a real reference service on a loopback port.

The service runs in the test's event loop, and tests flip its faults through
its control endpoint. The app's own background worker idles (a long poll
interval), so each test drives the queue with `run_once`.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from livify.platform.events import ArticleChanged, CommentAdded, Event, EventBus
from livify.platform.moderation import (
    ModerationClient,
    ModerationQueue,
    ModerationRuntime,
    ModerationWorker,
    build_moderation_dependency,
)
from livify.platform.tables import (
    APPROVED,
    articles,
    comments,
    moderation_queue,
    utcnow,
)
from livify.settings import Settings
from tests.platform.helpers import assert_error, auth, register
from tests.platform.moderation_server import serve_moderation, set_faults, stats

TIMEOUT_SECONDS = 0.3
# Enough failed calls for the breaker's minimum of 10 with every one failing.
CALLS_TO_OPEN_BREAKER = 10


@pytest.fixture
async def moderation_url() -> AsyncIterator[str]:
    async with serve_moderation(random_seed=1) as url:
        yield url


@pytest.fixture
def settings(settings: Settings, moderation_url: str) -> Settings:
    return settings.model_copy(
        update={
            "moderation_url": moderation_url,
            "moderation_timeout_seconds": TIMEOUT_SECONDS,
            "moderation_max_attempts": 1,
            "moderation_retry_initial_seconds": 0.01,
            "moderation_retry_max_seconds": 0.02,
            "moderation_worker_interval_seconds": 3600.0,
        }
    )


def runtime(app: FastAPI) -> ModerationRuntime:
    found: ModerationRuntime | None = app.state.moderation
    assert found is not None
    return found


def article_payload(body: str = "You have to believe", **extra: Any) -> dict[str, Any]:
    return {
        "article": {
            "title": extra.get("title", "How to train your dragon"),
            "description": "Ever wonder how?",
            "body": body,
            "tagList": extra.get("tags", ["dragons"]),
        }
    }


async def post_article(
    client: httpx.AsyncClient, user: dict[str, Any], **fields: Any
) -> httpx.Response:
    return await client.post(
        "/articles", headers=auth(user), json=article_payload(**fields)
    )


async def post_comment(
    client: httpx.AsyncClient, user: dict[str, Any], slug: str, body: str = "Nice"
) -> httpx.Response:
    return await client.post(
        f"/articles/{slug}/comments",
        headers=auth(user),
        json={"comment": {"body": body}},
    )


async def list_slugs(
    client: httpx.AsyncClient, path: str, user: dict[str, Any] | None = None
) -> list[str]:
    response = await client.get(path, headers=auth(user) if user else None)
    assert response.status_code == 200, response.text
    return [article["slug"] for article in response.json()["articles"]]


async def comment_ids(
    client: httpx.AsyncClient, slug: str, user: dict[str, Any] | None = None
) -> list[int]:
    response = await client.get(
        f"/articles/{slug}/comments", headers=auth(user) if user else None
    )
    assert response.status_code == 200, response.text
    return [comment["id"] for comment in response.json()["comments"]]


async def tag_names(client: httpx.AsyncClient) -> list[str]:
    response = await client.get("/tags")
    assert response.status_code == 200, response.text
    names: list[str] = response.json()["tags"]
    return names


async def open_breaker(
    client: httpx.AsyncClient, url: str, user: dict[str, Any]
) -> None:
    """Make enough checks fail for the breaker to open."""
    await set_faults(url, error_rate=1.0)
    for number in range(CALLS_TO_OPEN_BREAKER):
        response = await post_article(client, user, title=f"Failing {number}")
        assert response.status_code == 201, response.text


async def test_approved_article_is_published(app_client: httpx.AsyncClient) -> None:
    """An approved article is public at once and carries no moderation field."""
    author = await register(app_client)
    response = await post_article(app_client, author)
    assert response.status_code == 201, response.text
    article = response.json()["article"]
    assert "moderation" not in article

    anonymous = await app_client.get(f"/articles/{article['slug']}")
    assert anonymous.status_code == 200, anonymous.text
    assert article["slug"] in await list_slugs(app_client, "/articles")


async def test_rejected_article_gets_422(app_client: httpx.AsyncClient) -> None:
    """A banned word gets 422 on the field that contains it, and nothing is stored."""
    author = await register(app_client)
    response = await post_article(app_client, author, body="Buy cheap SPAM here")

    assert_error(response, 422, "body")
    assert "spam" in response.json()["errors"]["body"][0]
    assert await list_slugs(app_client, "/articles", author) == []


async def test_rejected_comment_gets_422(app_client: httpx.AsyncClient) -> None:
    """A comment with a banned word gets 422 and never shows in the list."""
    author = await register(app_client)
    slug = (await post_article(app_client, author)).json()["article"]["slug"]

    response = await post_comment(app_client, author, slug, "what a scam")

    assert_error(response, 422, "body")
    assert await comment_ids(app_client, slug, author) == []


async def test_rejected_edit_changes_nothing(app_client: httpx.AsyncClient) -> None:
    """An edit with a banned word gets 422 and the published text stays."""
    author = await register(app_client)
    slug = (await post_article(app_client, author)).json()["article"]["slug"]

    response = await app_client.put(
        f"/articles/{slug}",
        headers=auth(author),
        json={"article": {"description": "now with viagra"}},
    )

    assert_error(response, 422, "description")
    current = await app_client.get(f"/articles/{slug}")
    assert current.json()["article"]["description"] == "Ever wonder how?"


async def test_hang_holds_article_as_pending(
    app_client: httpx.AsyncClient, moderation_url: str
) -> None:
    """A check that times out gives 201 with "moderation": "pending"."""
    author = await register(app_client)
    await set_faults(moderation_url, hang_rate=1.0)

    response = await post_article(app_client, author, tags=["secret-tag"])

    assert response.status_code == 201, response.text
    assert response.json()["article"]["moderation"] == "pending"


async def test_pending_article_hidden_from_others(
    app_client: httpx.AsyncClient, moderation_url: str
) -> None:
    """Only the author reads a pending article; lists, feed, tags never show it."""
    author = await register(app_client)
    reader = await register(app_client)
    followed = await app_client.post(
        f"/profiles/{author['username']}/follow", headers=auth(reader)
    )
    assert followed.status_code == 200, followed.text
    # Fill the caches first, so a leak through a stale entry would show.
    assert await tag_names(app_client) == []
    assert await list_slugs(app_client, "/articles") == []
    await set_faults(moderation_url, error_rate=1.0)

    response = await post_article(app_client, author, tags=["secret-tag"])
    slug = response.json()["article"]["slug"]

    for viewer in (None, reader):
        headers = auth(viewer) if viewer else None
        single = await app_client.get(f"/articles/{slug}", headers=headers)
        assert single.status_code == 404, single.text
        listed = await app_client.get(f"/articles/{slug}/comments", headers=headers)
        assert listed.status_code == 404, listed.text
        assert await list_slugs(app_client, "/articles", viewer) == []
        path = f"/articles?author={author['username']}"
        assert await list_slugs(app_client, path, viewer) == []
        assert await list_slugs(app_client, "/articles?tag=secret-tag", viewer) == []

    assert await list_slugs(app_client, "/articles/feed", reader) == []
    assert await tag_names(app_client) == []
    favorite = await app_client.post(f"/articles/{slug}/favorite", headers=auth(reader))
    assert favorite.status_code == 404, favorite.text
    comment = await post_comment(app_client, reader, slug)
    assert comment.status_code == 404, comment.text
    edit = await app_client.put(
        f"/articles/{slug}", headers=auth(reader), json={"article": {"body": "x"}}
    )
    assert edit.status_code == 404, edit.text

    own = await app_client.get(f"/articles/{slug}", headers=auth(author))
    assert own.status_code == 200, own.text
    assert own.json()["article"]["moderation"] == "pending"


async def test_pending_comment_shown_to_author_only(
    app_client: httpx.AsyncClient, moderation_url: str
) -> None:
    """A comment held on a 5xx is merged into its author's list only."""
    author = await register(app_client)
    commenter = await register(app_client)
    slug = (await post_article(app_client, author)).json()["article"]["slug"]
    published = (await post_comment(app_client, author, slug, "first")).json()
    assert await comment_ids(app_client, slug) == [published["comment"]["id"]]
    await set_faults(moderation_url, error_rate=1.0)

    response = await post_comment(app_client, commenter, slug, "second")

    assert response.status_code == 200, response.text
    held = response.json()["comment"]
    assert held["moderation"] == "pending"
    assert await comment_ids(app_client, slug) == [published["comment"]["id"]]
    assert await comment_ids(app_client, slug, author) == [published["comment"]["id"]]
    own = await app_client.get(f"/articles/{slug}/comments", headers=auth(commenter))
    assert [comment["id"] for comment in own.json()["comments"]] == [
        held["id"],
        published["comment"]["id"],
    ]
    assert own.json()["comments"][0]["moderation"] == "pending"


async def test_open_breaker_holds_without_calling(
    app_client: httpx.AsyncClient, moderation_url: str
) -> None:
    """With the breaker open, a write is held as pending and sends no check."""
    author = await register(app_client)
    await open_breaker(app_client, moderation_url, author)
    await set_faults(moderation_url, error_rate=0.0)
    before = await stats(moderation_url)

    response = await post_article(app_client, author, title="While open")

    assert response.status_code == 201, response.text
    assert response.json()["article"]["moderation"] == "pending"
    assert await stats(moderation_url) == before


async def test_worker_publishes_after_recovery(
    app: FastAPI, app_client: httpx.AsyncClient, moderation_url: str
) -> None:
    """Held posts are published once the service is back, caches included."""
    author = await register(app_client)
    slug = (await post_article(app_client, author)).json()["article"]["slug"]
    await set_faults(moderation_url, hang_rate=1.0)
    held_slug = (
        await post_article(app_client, author, title="Held", tags=["late"])
    ).json()["article"]["slug"]
    comment = (await post_comment(app_client, author, slug, "held")).json()["comment"]
    # Cache the views the worker must invalidate.
    assert await tag_names(app_client) == ["dragons"]
    assert await list_slugs(app_client, "/articles") == [slug]
    assert await comment_ids(app_client, slug) == []
    worker = runtime(app).worker

    assert await worker.run_once() == 0
    await set_faults(moderation_url, hang_rate=0.0)
    await asyncio.sleep(0.05)  # past the backoff of at most 0.02 s
    assert await worker.run_once() == 2

    assert await tag_names(app_client) == ["dragons", "late"]
    assert await list_slugs(app_client, "/articles") == [held_slug, slug]
    public = await app_client.get(f"/articles/{held_slug}")
    assert public.status_code == 200, public.text
    assert "moderation" not in public.json()["article"]
    assert await comment_ids(app_client, slug) == [comment["id"]]
    assert await runtime(app).worker.queue.depth() == 0


async def test_worker_marks_rejected_posts(
    app: FastAPI, app_client: httpx.AsyncClient, moderation_url: str
) -> None:
    """A held post that the re-check rejects stays hidden, marked for its author."""
    author = await register(app_client)
    await set_faults(moderation_url, error_rate=1.0)
    slug = (await post_article(app_client, author, body="a scam")).json()["article"][
        "slug"
    ]
    await set_faults(moderation_url, error_rate=0.0)

    assert await runtime(app).worker.run_once() == 1

    assert (await app_client.get(f"/articles/{slug}")).status_code == 404
    own = await app_client.get(f"/articles/{slug}", headers=auth(author))
    assert own.json()["article"]["moderation"] == "rejected"


async def test_pending_edit_hides_published_article(
    app: FastAPI, app_client: httpx.AsyncClient, moderation_url: str
) -> None:
    """An edit held as pending takes the article out of public view until approved."""
    author = await register(app_client)
    slug = (await post_article(app_client, author)).json()["article"]["slug"]
    assert (await app_client.get(f"/articles/{slug}")).status_code == 200
    await set_faults(moderation_url, error_rate=1.0)

    edit = await app_client.put(
        f"/articles/{slug}", headers=auth(author), json={"article": {"body": "new"}}
    )

    assert edit.status_code == 200, edit.text
    assert edit.json()["article"]["moderation"] == "pending"
    assert (await app_client.get(f"/articles/{slug}")).status_code == 404
    assert await list_slugs(app_client, "/articles") == []

    await set_faults(moderation_url, error_rate=0.0)
    assert await runtime(app).worker.run_once() == 1
    public = await app_client.get(f"/articles/{slug}")
    assert public.json()["article"]["body"] == "new"


async def test_approved_edit_clears_queued_check(
    app: FastAPI, app_client: httpx.AsyncClient, moderation_url: str
) -> None:
    """An approved edit of a held article publishes it and empties the queue."""
    author = await register(app_client)
    await set_faults(moderation_url, error_rate=1.0)
    slug = (await post_article(app_client, author)).json()["article"]["slug"]
    await set_faults(moderation_url, error_rate=0.0)

    edit = await app_client.put(
        f"/articles/{slug}", headers=auth(author), json={"article": {"body": "fixed"}}
    )

    assert edit.status_code == 200, edit.text
    assert "moderation" not in edit.json()["article"]
    assert (await app_client.get(f"/articles/{slug}")).status_code == 200
    assert await runtime(app).worker.queue.depth() == 0


class EventRecorder:
    def __init__(self) -> None:
        self.events: list[Event] = []

    async def __call__(self, event: Event) -> None:
        self.events.append(event)


async def test_racing_workers_publish_once(
    app: FastAPI, app_client: httpx.AsyncClient, moderation_url: str
) -> None:
    """Two workers draining one queue publish every post exactly once."""
    author = await register(app_client)
    await set_faults(moderation_url, error_rate=1.0)
    slug = (await post_article(app_client, author, title="Base")).json()["article"][
        "slug"
    ]
    for number in range(6):
        await post_article(app_client, author, title=f"Held {number}")
        await post_comment(app_client, author, slug, f"held {number}")
    await set_faults(moderation_url, error_rate=0.0, latency_ms=20)

    database = app.state.context.database
    recorders = [EventRecorder(), EventRecorder()]
    workers = []
    # Each worker has its own client, as two instances would: the app's own
    # breaker opened while the service failed above.
    dependencies = [build_moderation_dependency(moderation_url) for _ in recorders]
    for recorder, dependency in zip(recorders, dependencies, strict=True):
        bus = EventBus()
        bus.subscribe(recorder)
        workers.append(
            ModerationWorker(
                ModerationQueue(database),
                ModerationClient(dependency),
                bus,
                batch_size=3,
            )
        )

    async def drain(worker: ModerationWorker) -> None:
        for _ in range(20):
            await worker.run_once()

    try:
        await asyncio.gather(*(drain(worker) for worker in workers))
    finally:
        for dependency in dependencies:
            await dependency.aclose()

    published = [event for recorder in recorders for event in recorder.events]
    article_ids = [e.article_id for e in published if isinstance(e, ArticleChanged)]
    comment_ids_seen = [e.comment_id for e in published if isinstance(e, CommentAdded)]
    assert len(article_ids) == len(set(article_ids)) == 7
    assert len(comment_ids_seen) == len(set(comment_ids_seen)) == 6
    assert all(recorder.events for recorder in recorders), "both workers took posts"
    async with database.read() as connection:
        statuses = (
            await connection.execute(select(articles.c.moderation_status))
        ).all()
        comment_statuses = (
            await connection.execute(select(comments.c.moderation_status))
        ).all()
        queued = (await connection.execute(select(moderation_queue.c.id))).all()
    assert {status for (status,) in statuses} == {"approved"}
    assert {status for (status,) in comment_statuses} == {"approved"}
    assert queued == []


async def test_expired_claim_changes_nothing(
    app: FastAPI, app_client: httpx.AsyncClient, moderation_url: str
) -> None:
    """A worker whose lease ran out cannot publish what another worker took."""
    author = await register(app_client)
    await set_faults(moderation_url, error_rate=1.0)
    await post_article(app_client, author)
    queue = ModerationQueue(app.state.context.database, lease_seconds=1.0)
    now = utcnow()

    (slow,) = await queue.claim(10, now)
    (fast,) = await queue.claim(10, now + timedelta(seconds=2))

    assert fast.id == slow.id
    assert await queue.complete(slow, APPROVED) is None
    assert await queue.complete(fast, APPROVED) is not None
    assert await queue.complete(slow, APPROVED) is None
    assert await queue.depth() == 0


async def test_stopped_worker_releases_its_claim(
    app: FastAPI, app_client: httpx.AsyncClient, moderation_url: str
) -> None:
    """Posts a stopped worker claimed but did not check are due again at once."""
    author = await register(app_client)
    await set_faults(moderation_url, hang_rate=1.0)
    await post_article(app_client, author, title="First")
    await post_article(app_client, author, title="Second")
    worker = runtime(app).worker
    before = await stats(moderation_url)

    checking = asyncio.create_task(worker.run_once())
    # The service counts a hang when it starts, so the worker is mid-check.
    while await stats(moderation_url) == before:  # noqa: ASYNC110  # polls a service
        await asyncio.sleep(0.01)
    checking.cancel()
    with pytest.raises(asyncio.CancelledError):
        await checking

    reclaimed = await worker.queue.claim(10, utcnow())
    assert len(reclaimed) == 2


async def test_edit_voids_check_in_flight(
    app: FastAPI, app_client: httpx.AsyncClient, moderation_url: str
) -> None:
    """A check of text that an edit replaced publishes nothing."""
    author = await register(app_client)
    await set_faults(moderation_url, error_rate=1.0)
    slug = (await post_article(app_client, author)).json()["article"]["slug"]
    queue = ModerationQueue(app.state.context.database)
    (claimed,) = await queue.claim(10, utcnow())

    edit = await app_client.put(
        f"/articles/{slug}", headers=auth(author), json={"article": {"body": "v2"}}
    )
    assert edit.json()["article"]["moderation"] == "pending"

    assert await queue.complete(claimed, APPROVED) is None
    (requeued,) = await queue.claim(10, utcnow())
    assert requeued.revision == claimed.revision + 1
    assert (await app_client.get(f"/articles/{slug}")).status_code == 404


async def test_author_lists_unpublished_articles(
    app: FastAPI, app_client: httpx.AsyncClient, moderation_url: str
) -> None:
    """The author's own held and rejected articles, newest first, for them only."""
    author = await register(app_client)
    reader = await register(app_client)
    published = await post_article(app_client, author, title="Out")
    await set_faults(moderation_url, error_rate=1.0)
    rejected = await post_article(app_client, author, title="Scam", body="a scam")
    await set_faults(moderation_url, error_rate=0.0)
    assert await runtime(app).worker.run_once() == 1
    await set_faults(moderation_url, hang_rate=1.0)
    pending = await post_article(app_client, author, title="Held")

    own = await app_client.get("/user/articles/unpublished", headers=auth(author))
    others = await app_client.get("/user/articles/unpublished", headers=auth(reader))
    anonymous = await app_client.get("/user/articles/unpublished")

    assert own.status_code == 200, own.text
    listed = own.json()
    assert listed["articlesCount"] == 2
    assert [(item["slug"], item["moderation"]) for item in listed["articles"]] == [
        (pending.json()["article"]["slug"], "pending"),
        (rejected.json()["article"]["slug"], "rejected"),
    ]
    assert published.json()["article"]["slug"] not in str(listed)
    assert "public" not in own.headers.get("cache-control", "")
    assert others.json() == {"articles": [], "articlesCount": 0}
    assert anonymous.status_code == 401
    assert "public" not in anonymous.headers.get("cache-control", "")


async def test_deleting_held_posts_empties_the_queue(
    app: FastAPI, app_client: httpx.AsyncClient, moderation_url: str
) -> None:
    """No queue row outlives its post, so a reused id is never checked by it."""
    author = await register(app_client)
    published = (await post_article(app_client, author)).json()["article"]["slug"]
    await set_faults(moderation_url, error_rate=1.0)
    held_article = (await post_article(app_client, author, title="Held")).json()[
        "article"
    ]
    held_comment = (await post_comment(app_client, author, published, "held")).json()[
        "comment"
    ]
    await post_comment(app_client, author, held_article["slug"], "held on a held post")
    queue = runtime(app).worker.queue
    assert await queue.depth() == 3

    deleted_comment = await app_client.delete(
        f"/articles/{published}/comments/{held_comment['id']}", headers=auth(author)
    )
    deleted_article = await app_client.delete(
        f"/articles/{held_article['slug']}", headers=auth(author)
    )

    assert deleted_comment.status_code == 204, deleted_comment.text
    assert deleted_article.status_code == 204, deleted_article.text
    assert await queue.depth() == 0
