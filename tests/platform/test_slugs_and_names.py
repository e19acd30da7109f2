"""Slugs for titles in any script, and Unicode names in URLs."""

from __future__ import annotations

import re
import unicodedata
from typing import Any
from urllib.parse import quote

import httpx

from livify.platform import limits
from livify.platform.slugs import SUFFIX_BYTES
from tests.platform.helpers import auth, create_article, register

SUFFIXED = re.compile(r"^(?P<base>.+)-[0-9a-f]{8}$")

# Title, then the slug it must get when no other article has that slug.
SCRIPT_TITLES = [
    ("你好 世界", "你好-世界"),
    ("こんにちは、世界！", "こんにちは-世界"),  # noqa: RUF001 (Japanese punctuation)
    ("한국어 제목", "한국어-제목"),
    ("مرحبا بالعالم", "مرحبا-بالعالم"),
    ("مَرْحَبًا بالعالم", "مَرْحَبًا-بالعالم"),
    ("שלום עולם", "שלום-עולם"),
    ("שָׁלוֹם עולם", "שָׁלוֹם-עולם"),
    ("हिन्दी भाषा", "हिन्दी-भाषा"),
    ("Привет, мир", "привет-мир"),
    ("Hello 世界 🎉 мир", "hello-世界-мир"),
    ("I ❤️ Python", "i-python"),
    (unicodedata.normalize("NFD", "Café au lait"), "café-au-lait"),
]


def encoded_path(slug: str) -> str:
    return "/articles/" + quote(slug, safe="")


async def test_titles_in_any_script(client: httpx.AsyncClient) -> None:
    """Letters and their marks survive in slugs, and symbols and emoji go."""
    user = await register(client)

    for title, expected in SCRIPT_TITLES:
        article = await create_article(client, user, title=title)
        assert article["slug"] == expected, title
        assert article["slug"] == unicodedata.normalize("NFC", article["slug"])


async def test_unicode_slug_by_encoded_url(client: httpx.AsyncClient) -> None:
    """A Unicode slug, percent-encoded in the URL, finds its article."""
    author = await register(client)
    reader = await register(client)

    for title, _ in SCRIPT_TITLES:
        article = await create_article(client, author, title=title)
        path = encoded_path(article["slug"])
        assert path.isascii(), path

        fetched = await client.get(path)
        favorited = await client.post(f"{path}/favorite", headers=auth(reader))
        commented = await client.post(
            f"{path}/comments",
            headers=auth(reader),
            json={"comment": {"body": "Read it"}},
        )
        comments = await client.get(f"{path}/comments")

        assert fetched.status_code == 200, (title, fetched.text)
        assert fetched.json()["article"]["title"] == unicodedata.normalize("NFC", title)
        assert favorited.json()["article"]["favoritesCount"] == 1, title
        assert commented.status_code == 200, (title, commented.text)
        assert len(comments.json()["comments"]) == 1, title


async def test_lowercase_percent_encoding_works(client: httpx.AsyncClient) -> None:
    """Percent-encoding in lower-case hex names the same slug."""
    user = await register(client)
    article = await create_article(client, user, title="你好 世界")

    response = await client.get(encoded_path(article["slug"]).lower())

    assert response.status_code == 200, response.text
    assert response.json()["article"]["slug"] == article["slug"]


async def test_emoji_only_titles(client: httpx.AsyncClient) -> None:
    """Titles without letters get the fallback slug, made unique by a suffix."""
    user = await register(client)
    titles = ["🎉🚀", "❤️", "🏳️\u200d🌈", "!!! ???"]

    slugs = [(await create_article(client, user, title=t))["slug"] for t in titles]

    assert slugs[0] == "article"
    assert len(set(slugs)) == len(titles), slugs
    for slug in slugs[1:]:
        match = SUFFIXED.match(slug)
        assert match is not None, slug
        assert match["base"] == "article", slug

    for title, slug in zip(titles, slugs, strict=True):
        fetched = await client.get(encoded_path(slug))
        assert fetched.json()["article"]["title"] == title


async def test_same_title_distinct_slugs(client: httpx.AsyncClient) -> None:
    """Articles with one title get distinct slugs that each find their own."""
    first_author = await register(client)
    second_author = await register(client)
    authors = [first_author, second_author, first_author, second_author]

    articles = []
    for index, author in enumerate(authors):
        response = await client.post(
            "/articles",
            headers=auth(author),
            json={
                "article": {
                    "title": "Same title",
                    "description": "d",
                    "body": f"Body number {index}",
                }
            },
        )
        assert response.status_code == 201, response.text
        articles.append(response.json()["article"])

    slugs = [article["slug"] for article in articles]
    assert slugs[0] == "same-title"
    assert len(set(slugs)) == len(slugs), slugs
    for slug in slugs[1:]:
        match = SUFFIXED.match(slug)
        assert match is not None, slug
        assert match["base"] == "same-title", slug

    for index, slug in enumerate(slugs):
        fetched = await client.get(f"/articles/{slug}")
        assert fetched.json()["article"]["body"] == f"Body number {index}"


async def test_title_change_changes_slug(client: httpx.AsyncClient) -> None:
    """A new title moves the article, its comments and favorites to a new slug."""
    author = await register(client)
    reader = await register(client)
    article = await create_article(client, author, title="Old name")
    old = article["slug"]
    await client.post(f"/articles/{old}/favorite", headers=auth(reader))
    await client.post(
        f"/articles/{old}/comments",
        headers=auth(reader),
        json={"comment": {"body": "Still here"}},
    )

    updated = await client.put(
        f"/articles/{old}",
        headers=auth(author),
        json={"article": {"title": "新しい 名前"}},
    )

    assert updated.status_code == 200, updated.text
    new = updated.json()["article"]["slug"]
    assert new == "新しい-名前"
    assert (await client.get(f"/articles/{old}")).status_code == 404
    fetched = (await client.get(encoded_path(new))).json()["article"]
    assert fetched["title"] == "新しい 名前"
    assert fetched["favoritesCount"] == 1
    comments = (await client.get(f"{encoded_path(new)}/comments")).json()
    assert [comment["body"] for comment in comments["comments"]] == ["Still here"]


async def test_title_change_to_taken_title(client: httpx.AsyncClient) -> None:
    """Renaming to another article's title gives a new unique slug."""
    user = await register(client)
    first = await create_article(client, user, title="Taken")
    second = await create_article(client, user, title="Other")

    updated = await client.put(
        f"/articles/{second['slug']}",
        headers=auth(user),
        json={"article": {"title": "Taken"}},
    )

    assert updated.status_code == 200, updated.text
    slug = updated.json()["article"]["slug"]
    match = SUFFIXED.match(slug)
    assert match is not None, slug
    assert match["base"] == "taken"
    unchanged = (await client.get(f"/articles/{first['slug']}")).json()["article"]
    assert unchanged == {**first, "favorited": False}


async def test_same_slug_base_keeps_slug(client: httpx.AsyncClient) -> None:
    """A title edit that keeps the slug's words keeps the slug, suffix and all."""
    user = await register(client)
    await create_article(client, user, title="Twins")
    twin = await create_article(client, user, title="Twins")

    updated = await client.put(
        f"/articles/{twin['slug']}",
        headers=auth(user),
        json={"article": {"title": "TWINS!"}},
    )

    assert updated.status_code == 200, updated.text
    assert updated.json()["article"]["slug"] == twin["slug"]
    assert updated.json()["article"]["title"] == "TWINS!"


async def test_long_title_slug_is_bounded(client: httpx.AsyncClient) -> None:
    """A title at the length limit gives a slug no longer than the slug limit."""
    user = await register(client)
    words = ("word " * limits.TITLE_MAX_CHARS)[: limits.TITLE_MAX_CHARS]

    first = await create_article(client, user, title=words)
    second = await create_article(client, user, title=words)

    assert len(first["slug"]) <= limits.SLUG_BASE_MAX_CHARS
    assert first["slug"].endswith("word")
    suffix_chars = len("-") + 2 * SUFFIX_BYTES
    assert len(second["slug"]) <= limits.SLUG_BASE_MAX_CHARS + suffix_chars
    assert (await client.get(f"/articles/{second['slug']}")).status_code == 200


async def test_unicode_username_in_urls(client: httpx.AsyncClient) -> None:
    """A Unicode user name resolves in any case or composition, encoded or not."""
    name = "Zoë_Łukasz"
    user: dict[str, Any] = await register(client, name)
    follower = await register(client)
    await create_article(client, user, title="By Zoë")
    variants = [
        name,
        name.lower(),
        name.upper(),
        unicodedata.normalize("NFD", name),
    ]

    for variant in variants:
        encoded = quote(variant, safe="")
        profile = await client.get(f"/profiles/{encoded}")
        by_author = await client.get("/articles", params={"author": variant})
        assert profile.json()["profile"]["username"] == name, variant
        assert by_author.json()["articlesCount"] == 1, variant

    followed = await client.post(
        f"/profiles/{quote(name.upper(), safe='')}/follow", headers=auth(follower)
    )
    assert followed.json()["profile"] == {
        "username": name,
        "bio": None,
        "image": None,
        "following": True,
    }


async def test_title_feed_gets_reserved_slug(client: httpx.AsyncClient) -> None:
    """A title whose slug would be `feed` can still be read back by its slug."""
    author = await register(client)
    article = await create_article(client, author, title="Feed")

    response = await client.get(f"/articles/{article['slug']}")

    assert article["slug"] == "article-feed"
    assert response.status_code == 200
    assert response.json()["article"]["title"] == "Feed"
