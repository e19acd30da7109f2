"""Text containing U+0000 gets 422 on every store, never a server error."""

from __future__ import annotations

import httpx
import pytest

from tests.platform.helpers import auth, create_article, register

NUL_MESSAGE = "must not contain the NUL character (U+0000)"


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/profiles/a%00b", "username"),
        ("/articles/a%00b", "slug"),
        ("/articles/a%00b/comments", "slug"),
        ("/articles?tag=a%00", "tag"),
        ("/articles?author=a%00", "author"),
        ("/articles?favorited=a%00", "favorited"),
    ],
)
async def test_nul_in_path_or_query(
    client: httpx.AsyncClient, path: str, field: str
) -> None:
    """A NUL in a path or query value is rejected with the value's name."""
    response = await client.get(path)

    assert response.status_code == 422, response.text
    assert response.json() == {"errors": {field: [NUL_MESSAGE]}}


async def test_nul_in_article_fields(client: httpx.AsyncClient) -> None:
    """Each text field of a new article that contains NUL is named."""
    user = await register(client)
    response = await client.post(
        "/articles",
        headers=auth(user),
        json={
            "article": {
                "title": "a\x00",
                "description": "b\x00",
                "body": "c\x00",
                "tagList": ["d\x00"],
            }
        },
    )

    assert response.status_code == 422, response.text
    errors = response.json()["errors"]
    assert errors["title"] == [NUL_MESSAGE]
    assert errors["description"] == [NUL_MESSAGE]
    assert errors["body"] == [NUL_MESSAGE]
    assert errors["tagList"] == [NUL_MESSAGE]


async def test_nul_in_comment_and_profile(client: httpx.AsyncClient) -> None:
    """Comment bodies, bios and image URLs reject NUL too."""
    user = await register(client)
    article = await create_article(client, user)

    comment = await client.post(
        f"/articles/{article['slug']}/comments",
        headers=auth(user),
        json={"comment": {"body": "x\x00"}},
    )
    assert comment.status_code == 422, comment.text
    assert comment.json()["errors"]["body"] == [NUL_MESSAGE]

    update = await client.put(
        "/user",
        headers=auth(user),
        json={"user": {"bio": "x\x00", "image": "http://example.com/\x00"}},
    )
    assert update.status_code == 422, update.text
    assert update.json()["errors"]["bio"] == [NUL_MESSAGE]
    assert update.json()["errors"]["image"] == [NUL_MESSAGE]
