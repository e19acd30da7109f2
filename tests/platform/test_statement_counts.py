"""List endpoints send the same number of SQL statements at any page size.

A statement per article or per author (an N+1 pattern) shows up here as a
count that grows from page size 1 to 100.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from livify.platform.tables import (
    article_tags,
    articles,
    comments,
    favorites,
    tags,
)
from livify.settings import Settings
from tests.platform.helpers import auth, register
from tests.platform.inspection import StatementRecorder, user_id

PAGE_SIZES = (1, 10, 100)
ARTICLES = 120
BY_FIRST_AUTHOR = 110
FAVORITED = 110
COLOURS = ("blue", "green", "red")
# A cap on the queries one page needs: count, page, tags, favorites, follows
# and the caller's row, with room for two more. The equality check across page
# sizes is what catches a query per row.
MAX_QUERIES_PER_PAGE = 8


async def seed(app: FastAPI, client: httpx.AsyncClient) -> dict[str, Any]:
    """Create a viewer following two authors, 120 articles and comment threads."""
    viewer = await register(client)
    prolific = await register(client)
    occasional = await register(client)
    for author in (prolific, occasional):
        response = await client.post(
            f"/profiles/{author['username']}/follow", headers=auth(viewer)
        )
        assert response.status_code == 200, response.text

    ids = {
        "viewer": user_id(app, viewer),
        "prolific": user_id(app, prolific),
        "occasional": user_id(app, occasional),
    }
    start = datetime(2026, 1, 1, tzinfo=UTC)
    async with app.state.context.database.write() as connection:
        await connection.execute(
            articles.insert(),
            [
                {
                    "slug": f"seeded-{index}",
                    "title": f"Seeded {index}",
                    "description": "d",
                    "body": "b",
                    "author_id": ids[
                        "prolific" if index < BY_FIRST_AUTHOR else "occasional"
                    ],
                    "favorites_count": 1 if index < FAVORITED else 0,
                    "created_at": start + timedelta(minutes=index),
                    "updated_at": start + timedelta(minutes=index),
                }
                for index in range(ARTICLES)
            ],
        )
        article_ids = {
            slug: article_id
            for article_id, slug in await connection.execute(
                select(articles.c.id, articles.c.slug)
            )
        }
        await connection.execute(
            tags.insert(), [{"name": name} for name in ("common", *COLOURS)]
        )
        tag_ids = {
            name: tag_id
            for tag_id, name in await connection.execute(select(tags.c.id, tags.c.name))
        }
        await connection.execute(
            article_tags.insert(),
            [
                {"article_id": article_ids[f"seeded-{index}"], "tag_id": tag_ids[name]}
                for index in range(ARTICLES)
                for name in ("common", COLOURS[index % len(COLOURS)])
            ],
        )
        await connection.execute(
            favorites.insert(),
            [
                {
                    "user_id": ids["viewer"],
                    "article_id": article_ids[f"seeded-{index}"],
                    "created_at": start,
                }
                for index in range(FAVORITED)
            ],
        )
        commenters = list(ids.values())
        await connection.execute(
            comments.insert(),
            [
                {
                    "article_id": article_ids[f"seeded-{size}"],
                    "author_id": commenters[number % len(commenters)],
                    "body": f"Comment {number}",
                    "created_at": start + timedelta(seconds=number),
                    "updated_at": start + timedelta(seconds=number),
                }
                for size in PAGE_SIZES
                for number in range(size)
            ],
        )

    return {"viewer": viewer, "prolific": prolific}


async def count_statements(
    app: FastAPI,
    client: httpx.AsyncClient,
    path: str,
    params: dict[str, Any],
    headers: dict[str, str] | None,
) -> tuple[int, int, dict[str, Any]]:
    """Return the statement count, the count without BEGIN and COMMIT, and the body."""
    with StatementRecorder(app) as recorder:
        response = await client.get(path, params=params, headers=headers)

    assert response.status_code == 200, response.text
    return len(recorder.statements), len(recorder.queries()), response.json()


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """Turn the application cache off, so each request shows its own SQL."""
    return settings.model_copy(update={"cache_url": None})


@pytest.fixture
async def seeded(app: FastAPI, app_client: httpx.AsyncClient) -> dict[str, Any]:
    return await seed(app, app_client)


async def test_article_lists_constant_statements(
    app: FastAPI, app_client: httpx.AsyncClient, seeded: dict[str, Any]
) -> None:
    """Lists, filters and the feed cost the same statements for 1, 10 or 100."""
    viewer = auth(seeded["viewer"])
    variants: dict[str, tuple[str, dict[str, Any], dict[str, str] | None]] = {
        "all, anonymous": ("/articles", {}, None),
        "all, signed in": ("/articles", {}, viewer),
        "by tag, anonymous": ("/articles", {"tag": "common"}, None),
        "by tag, signed in": ("/articles", {"tag": "common"}, viewer),
        "by author": ("/articles", {"author": seeded["prolific"]["username"]}, viewer),
        "by favoriter": (
            "/articles",
            {"favorited": seeded["viewer"]["username"]},
            viewer,
        ),
        "feed": ("/articles/feed", {}, viewer),
    }

    for name, (path, params, headers) in variants.items():
        totals = []
        for size in PAGE_SIZES:
            total, queries, page = await count_statements(
                app, app_client, path, {**params, "limit": size}, headers
            )
            assert len(page["articles"]) == size, (name, size)
            assert queries <= MAX_QUERIES_PER_PAGE, (name, size, queries)
            totals.append(total)

        assert len(set(totals)) == 1, (name, dict(zip(PAGE_SIZES, totals, strict=True)))


async def test_comment_list_constant_statements(
    app: FastAPI, app_client: httpx.AsyncClient, seeded: dict[str, Any]
) -> None:
    """Listing 1, 10 or 100 comments costs the same statements."""
    for headers in (None, auth(seeded["viewer"])):
        totals = []
        for size in PAGE_SIZES:
            total, queries, page = await count_statements(
                app, app_client, f"/articles/seeded-{size}/comments", {}, headers
            )
            assert len(page["comments"]) == size, size
            assert queries <= MAX_QUERIES_PER_PAGE, (size, queries)
            totals.append(total)

        assert len(set(totals)) == 1, (
            headers,
            dict(zip(PAGE_SIZES, totals, strict=True)),
        )
