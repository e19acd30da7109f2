"""The main flows of the API on every store."""

from __future__ import annotations

import httpx

from tests.platform.helpers import auth, create_article, register


async def test_article_flow_round_trip(client: httpx.AsyncClient) -> None:
    """An article can be created, listed, favorited, commented and deleted."""
    author = await register(client)
    reader = await register(client)
    article = await create_article(client, author)

    assert article["slug"] == "how-to-train-your-dragon"
    assert article["tagList"] == ["dragons", "training"]

    favorite = await client.post(
        f"/articles/{article['slug']}/favorite", headers=auth(reader)
    )
    assert favorite.json()["article"]["favoritesCount"] == 1
    assert favorite.json()["article"]["favorited"] is True

    listing = await client.get("/articles", params={"tag": "dragons"})
    assert listing.json()["articlesCount"] == 1
    assert "body" not in listing.json()["articles"][0]

    comment = await client.post(
        f"/articles/{article['slug']}/comments",
        headers=auth(reader),
        json={"comment": {"body": "Nice"}},
    )
    assert comment.status_code == 200

    deleted = await client.delete(f"/articles/{article['slug']}", headers=auth(author))
    assert deleted.status_code == 204
    assert (await client.get(f"/articles/{article['slug']}")).status_code == 404
