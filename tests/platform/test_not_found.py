"""404 responses: unknown articles, users and comments, with no side effects."""

from __future__ import annotations

from typing import Any

import httpx

from tests.platform.helpers import assert_error, auth, create_article, register


async def add_comment(
    client: httpx.AsyncClient, user: dict[str, Any], slug: str
) -> dict[str, Any]:
    response = await client.post(
        f"/articles/{slug}/comments",
        headers=auth(user),
        json={"comment": {"body": "A comment"}},
    )
    assert response.status_code == 200, response.text
    comment: dict[str, Any] = response.json()["comment"]
    return comment


async def visible_state(
    client: httpx.AsyncClient, user: dict[str, Any], slugs: list[str]
) -> Any:
    """Return what the user sees of the listed articles, lists and tags."""
    state: dict[str, Any] = {
        "articles": (await client.get("/articles", headers=auth(user))).json(),
        "feed": (await client.get("/articles/feed", headers=auth(user))).json(),
        "tags": (await client.get("/tags")).json(),
    }
    for slug in slugs:
        state[slug] = (await client.get(f"/articles/{slug}", headers=auth(user))).json()
        comments = await client.get(f"/articles/{slug}/comments")
        state[f"{slug}/comments"] = comments.json()

    return state


async def test_unknown_slug_on_every_route(client: httpx.AsyncClient) -> None:
    """Each article route returns 404 for a slug that names no article."""
    user = await register(client)
    existing = await create_article(client, user)
    before = await visible_state(client, user, [existing["slug"]])
    requests = [
        ("GET", "", None),
        ("PUT", "", {"article": {"body": "changed"}}),
        ("DELETE", "", None),
        ("POST", "/favorite", None),
        ("DELETE", "/favorite", None),
        ("GET", "/comments", None),
        ("POST", "/comments", {"comment": {"body": "hello"}}),
        ("DELETE", "/comments/1", None),
    ]

    for slug in ("no-such-article", "不存在的文章", existing["slug"] + "-2"):
        for method, suffix, body in requests:
            response = await client.request(
                method, f"/articles/{slug}{suffix}", headers=auth(user), json=body
            )
            assert response.status_code == 404, (method, slug, suffix, response.text)
            assert_error(response, 404, "article")

    assert await visible_state(client, user, [existing["slug"]]) == before


async def test_unknown_user_profile_routes(client: httpx.AsyncClient) -> None:
    """Profile, follow and unfollow return 404 for a user that does not exist."""
    user = await register(client)
    before = await visible_state(client, user, [])

    for method, suffix in (("GET", ""), ("POST", "/follow"), ("DELETE", "/follow")):
        for username in ("nobody", "ghost_ユーザー"):
            response = await client.request(
                method, f"/profiles/{username}{suffix}", headers=auth(user)
            )
            assert response.status_code == 404, (method, username, response.text)
            assert_error(response, 404, "profile")

    assert await visible_state(client, user, []) == before


async def test_unknown_comment_id_not_found(client: httpx.AsyncClient) -> None:
    """Deleting a comment id that never existed returns 404 and keeps the rest."""
    user = await register(client)
    article = await create_article(client, user)
    comment = await add_comment(client, user, article["slug"])
    before = await visible_state(client, user, [article["slug"]])

    response = await client.delete(
        f"/articles/{article['slug']}/comments/{comment['id'] + 1000}",
        headers=auth(user),
    )

    assert_error(response, 404, "comment")
    assert await visible_state(client, user, [article["slug"]]) == before


async def test_comment_on_other_article(client: httpx.AsyncClient) -> None:
    """A comment id is not found under an article it does not belong to."""
    user = await register(client)
    first = await create_article(client, user, title="First article")
    second = await create_article(client, user, title="Second article")
    comment = await add_comment(client, user, first["slug"])
    slugs = [first["slug"], second["slug"]]
    before = await visible_state(client, user, slugs)

    response = await client.delete(
        f"/articles/{second['slug']}/comments/{comment['id']}", headers=auth(user)
    )

    assert_error(response, 404, "comment")
    assert await visible_state(client, user, slugs) == before


async def test_deleted_comment_not_found(client: httpx.AsyncClient) -> None:
    """Deleting the same comment twice returns 204, then 404."""
    user = await register(client)
    article = await create_article(client, user)
    comment = await add_comment(client, user, article["slug"])
    path = f"/articles/{article['slug']}/comments/{comment['id']}"

    first = await client.delete(path, headers=auth(user))
    second = await client.delete(path, headers=auth(user))

    assert first.status_code == 204
    assert_error(second, 404, "comment")
    remaining = await client.get(f"/articles/{article['slug']}/comments")
    assert remaining.json() == {"comments": []}


async def test_deleted_article_not_found(client: httpx.AsyncClient) -> None:
    """After deletion, the article and its comments are gone."""
    user = await register(client)
    article = await create_article(client, user)
    comment = await add_comment(client, user, article["slug"])
    slug = article["slug"]

    deleted = await client.delete(f"/articles/{slug}", headers=auth(user))

    assert deleted.status_code == 204
    assert deleted.content == b""
    assert_error(await client.get(f"/articles/{slug}"), 404, "article")
    assert_error(await client.get(f"/articles/{slug}/comments"), 404, "article")
    assert_error(
        await client.delete(
            f"/articles/{slug}/comments/{comment['id']}", headers=auth(user)
        ),
        404,
        "article",
    )
    assert (await client.get("/articles")).json()["articlesCount"] == 0
    assert (await client.get("/tags")).json() == {"tags": []}


async def test_urls_too_long_to_cache_get_404(client: httpx.AsyncClient) -> None:
    """Paths and queries longer than a cache key pass the caches and get 404."""
    user = await register(client)
    article = await create_article(client, user)
    long_name = "a" * 1100
    missing = {
        f"/articles/{long_name}": "article",
        f"/articles/{long_name}/comments": "article",
        f"/profiles/{long_name}": "profile",
    }
    for headers in (None, auth(user)):
        for path, field in missing.items():
            assert_error(await client.get(path, headers=headers), 404, field)

    for path in ("/tags", f"/articles/{article['slug']}"):
        response = await client.get(path, params={"x": long_name})
        assert response.status_code == 200, (path, response.text)
