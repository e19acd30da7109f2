"""Concurrent writes on PostgreSQL: counters, idempotent toggles, unique names.

Requests run at once through the in-process client with `asyncio.gather`, so
their transactions interleave on the connection pool as they would under load.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from livify.platform.tables import articles, favorites, follows
from tests.platform.helpers import (
    PASSWORD,
    assert_error,
    auth,
    create_article,
    register,
)
from tests.platform.inspection import count_rows, user_id

pytestmark = pytest.mark.postgres


@pytest.fixture
def database_url(postgres_url: str) -> str:
    """Run every test here on PostgreSQL only, because SQLite has one writer."""
    return postgres_url


async def favorite_state(app: FastAPI, slug: str) -> tuple[int, int]:
    """Return the article's stored counter and its number of favorite rows."""
    async with app.state.context.database.read() as connection:
        counter = (
            await connection.execute(
                select(articles.c.favorites_count).where(articles.c.slug == slug)
            )
        ).scalar_one()
        rows = (
            await connection.execute(
                select(func.count())
                .select_from(favorites.join(articles))
                .where(articles.c.slug == slug)
            )
        ).scalar_one()

    return counter, rows


async def test_fifty_users_favorite_at_once(
    app: FastAPI, app_client: httpx.AsyncClient
) -> None:
    """Fifty simultaneous favorites count exactly fifty, matching the rows."""
    author = await register(app_client)
    article = await create_article(app_client, author)
    path = f"/articles/{article['slug']}/favorite"
    fans = await asyncio.gather(*(register(app_client) for _ in range(50)))

    responses = await asyncio.gather(
        *(app_client.post(path, headers=auth(fan)) for fan in fans)
    )

    assert [response.status_code for response in responses] == [200] * 50
    assert all(response.json()["article"]["favorited"] for response in responses)
    counts = sorted(r.json()["article"]["favoritesCount"] for r in responses)
    assert counts[-1] == 50
    fetched = await app_client.get(f"/articles/{article['slug']}")
    assert fetched.json()["article"]["favoritesCount"] == 50
    assert await favorite_state(app, article["slug"]) == (50, 50)


async def test_same_user_favorites_concurrently(
    app: FastAPI, app_client: httpx.AsyncClient
) -> None:
    """Twenty simultaneous favorites by one user count once, and so do unfavorites."""
    author = await register(app_client)
    fan = await register(app_client)
    article = await create_article(app_client, author)
    path = f"/articles/{article['slug']}/favorite"

    favorited = await asyncio.gather(
        *(app_client.post(path, headers=auth(fan)) for _ in range(20))
    )
    after_favorite = await favorite_state(app, article["slug"])
    unfavorited = await asyncio.gather(
        *(app_client.delete(path, headers=auth(fan)) for _ in range(20))
    )
    after_unfavorite = await favorite_state(app, article["slug"])

    assert [response.status_code for response in favorited] == [200] * 20
    assert {r.json()["article"]["favoritesCount"] for r in favorited} == {1}
    assert after_favorite == (1, 1)
    assert [response.status_code for response in unfavorited] == [200] * 20
    assert {r.json()["article"]["favoritesCount"] for r in unfavorited} == {0}
    assert after_unfavorite == (0, 0)


async def test_mixed_toggles_keep_counter_true(
    app: FastAPI, app_client: httpx.AsyncClient
) -> None:
    """Interleaved favorites and unfavorites leave the counter equal to the rows."""
    author = await register(app_client)
    article = await create_article(app_client, author)
    path = f"/articles/{article['slug']}/favorite"
    fans = await asyncio.gather(*(register(app_client) for _ in range(30)))
    await asyncio.gather(*(app_client.post(path, headers=auth(fan)) for fan in fans))

    # Every fan sends an unfavorite and a favorite at once. A third of them also
    # send an extra unfavorite, so the final state depends on arrival order.
    requests = []
    for index, fan in enumerate(fans):
        requests.append(app_client.delete(path, headers=auth(fan)))
        requests.append(app_client.post(path, headers=auth(fan)))
        if index % 3 == 1:
            requests.append(app_client.delete(path, headers=auth(fan)))
    responses = await asyncio.gather(*requests)

    assert {response.status_code for response in responses} == {200}
    counter, rows = await favorite_state(app, article["slug"])
    assert counter == rows
    fetched = await app_client.get(f"/articles/{article['slug']}")
    assert fetched.json()["article"]["favoritesCount"] == rows


async def test_concurrent_follow_counts_once(
    app: FastAPI, app_client: httpx.AsyncClient
) -> None:
    """Following the same user twice at once stores one follow."""
    author = await register(app_client)
    reader = await register(app_client)
    article = await create_article(app_client, author)
    path = f"/profiles/{author['username']}/follow"

    responses = await asyncio.gather(
        app_client.post(path, headers=auth(reader)),
        app_client.post(path, headers=auth(reader)),
    )

    assert [response.status_code for response in responses] == [200, 200]
    assert all(r.json()["profile"]["following"] for r in responses)
    async with app.state.context.database.read() as connection:
        stored = (
            await connection.execute(
                select(func.count())
                .select_from(follows)
                .where(
                    follows.c.follower_id == user_id(app, reader),
                    follows.c.followee_id == user_id(app, author),
                )
            )
        ).scalar_one()
    assert stored == 1
    feed = (await app_client.get("/articles/feed", headers=auth(reader))).json()
    assert [item["slug"] for item in feed["articles"]] == [article["slug"]]
    assert feed["articlesCount"] == 1


@pytest.mark.parametrize("shared", ["email", "username"])
async def test_simultaneous_duplicate_registrations(
    app: FastAPI, app_client: httpx.AsyncClient, shared: str
) -> None:
    """Of racing registrations sharing an email or name, one wins, the rest 422."""
    for round_number, racers in enumerate((2, 10, 10)):

        def body(index: int, round_number: int = round_number) -> dict[str, Any]:
            user = {
                "username": f"racer_{round_number}_{index}",
                "email": f"racer_{round_number}_{index}@example.com",
                "password": PASSWORD,
            }
            # Half the requests use lower case, so the race is on the canonical key.
            same = f"Same_{round_number}"
            if shared == "email":
                same += "@example.com"
            user[shared] = same.lower() if index % 2 else same
            return {"user": user}

        before = await count_rows(app)

        responses = await asyncio.gather(
            *(app_client.post("/users", json=body(index)) for index in range(racers))
        )

        statuses = sorted(response.status_code for response in responses)
        assert statuses == [201] + [422] * (racers - 1), (round_number, statuses)
        for response in responses:
            if response.status_code == 422:
                assert_error(response, 422, shared)
        after = await count_rows(app)
        assert after["users"] == before["users"] + 1, round_number
