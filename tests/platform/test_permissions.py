"""403 responses: only an author may change or delete what they wrote."""

from __future__ import annotations

from typing import Any

import httpx

from tests.platform.helpers import assert_error, auth, create_article, register

CHANGES = [
    {"title": "Taken over"},
    {"description": "Rewritten"},
    {"body": "Rewritten"},
    {"tagList": ["vandalism"]},
    {"title": "Taken over", "body": "Rewritten", "tagList": []},
]


async def add_comment(
    client: httpx.AsyncClient, user: dict[str, Any], slug: str, body: str
) -> dict[str, Any]:
    response = await client.post(
        f"/articles/{slug}/comments",
        headers=auth(user),
        json={"comment": {"body": body}},
    )
    assert response.status_code == 200, response.text
    comment: dict[str, Any] = response.json()["comment"]
    return comment


async def article_state(client: httpx.AsyncClient, slug: str) -> Any:
    """Return everything a reader can see about the article."""
    return {
        "article": (await client.get(f"/articles/{slug}")).json(),
        "comments": (await client.get(f"/articles/{slug}/comments")).json(),
        "articles": (await client.get("/articles")).json(),
        "tags": (await client.get("/tags")).json(),
    }


async def test_update_others_article_forbidden(client: httpx.AsyncClient) -> None:
    """Editing someone else's article returns 403 and leaves it as it was."""
    author = await register(client)
    intruder = await register(client)
    article = await create_article(client, author)
    before = await article_state(client, article["slug"])

    for changes in CHANGES:
        response = await client.put(
            f"/articles/{article['slug']}",
            headers=auth(intruder),
            json={"article": changes},
        )
        assert response.status_code == 403, (changes, response.text)
        assert_error(response, 403, "article")

    assert await article_state(client, article["slug"]) == before


async def test_delete_others_article_forbidden(client: httpx.AsyncClient) -> None:
    """Deleting someone else's article returns 403 and keeps it and its comments."""
    author = await register(client)
    intruder = await register(client)
    article = await create_article(client, author)
    await add_comment(client, author, article["slug"], "Author's note")
    before = await article_state(client, article["slug"])

    response = await client.delete(
        f"/articles/{article['slug']}", headers=auth(intruder)
    )

    assert_error(response, 403, "article")
    assert await article_state(client, article["slug"]) == before


async def test_delete_others_comment_forbidden(client: httpx.AsyncClient) -> None:
    """A third user cannot delete a comment and the comment stays listed."""
    author = await register(client)
    commenter = await register(client)
    intruder = await register(client)
    article = await create_article(client, author)
    comment = await add_comment(client, commenter, article["slug"], "Mine")
    before = await article_state(client, article["slug"])

    response = await client.delete(
        f"/articles/{article['slug']}/comments/{comment['id']}",
        headers=auth(intruder),
    )

    assert_error(response, 403, "comment")
    assert await article_state(client, article["slug"]) == before


async def test_article_author_cannot_delete_comment(
    client: httpx.AsyncClient,
) -> None:
    """Owning the article gives no right to delete a reader's comment."""
    author = await register(client)
    commenter = await register(client)
    article = await create_article(client, author)
    comment = await add_comment(client, commenter, article["slug"], "Reader's view")
    before = await article_state(client, article["slug"])

    response = await client.delete(
        f"/articles/{article['slug']}/comments/{comment['id']}",
        headers=auth(author),
    )

    assert_error(response, 403, "comment")
    assert await article_state(client, article["slug"]) == before


async def test_owners_succeed_after_refusals(client: httpx.AsyncClient) -> None:
    """After refused attempts, the comment and article authors can still act."""
    author = await register(client)
    commenter = await register(client)
    article = await create_article(client, author)
    slug = article["slug"]
    comment = await add_comment(client, commenter, slug, "Keep me for now")
    forbidden = [
        await client.put(
            f"/articles/{slug}",
            headers=auth(commenter),
            json={"article": {"body": "x"}},
        ),
        await client.delete(f"/articles/{slug}", headers=auth(commenter)),
        await client.delete(
            f"/articles/{slug}/comments/{comment['id']}", headers=auth(author)
        ),
    ]

    comment_deleted = await client.delete(
        f"/articles/{slug}/comments/{comment['id']}", headers=auth(commenter)
    )
    edited = await client.put(
        f"/articles/{slug}", headers=auth(author), json={"article": {"body": "New"}}
    )
    article_deleted = await client.delete(f"/articles/{slug}", headers=auth(author))

    assert [response.status_code for response in forbidden] == [403, 403, 403]
    assert comment_deleted.status_code == 204
    assert edited.status_code == 200, edited.text
    assert edited.json()["article"]["body"] == "New"
    assert article_deleted.status_code == 204
    assert (await client.get(f"/articles/{slug}")).status_code == 404
