"""The application cache: fewer statements, fresh after writes, no leaks."""

from __future__ import annotations

import httpx
from asgi_lifespan import LifespanManager
from fastapi import FastAPI

from livify.app import create_app
from livify.settings import Settings
from tests.platform.helpers import auth, create_article, register
from tests.platform.inspection import StatementRecorder


async def queries_for(
    app: FastAPI, client: httpx.AsyncClient, path: str, *, method: str = "GET"
) -> int:
    with StatementRecorder(app) as recorder:
        response = await client.request(method, path)
    assert response.status_code == 200, response.text
    return len(recorder.queries())


async def test_warm_reads_skip_database(
    app: FastAPI, app_client: httpx.AsyncClient
) -> None:
    """Repeated public reads are served from the cache, lists and counts too."""
    author = await register(app_client)
    article = await create_article(app_client, author)
    paths = {
        f"/articles/{article['slug']}": 0,
        f"/articles/{article['slug']}/comments": 0,
        f"/profiles/{author['username']}": 0,
        "/tags": 0,
        "/articles": 0,
    }
    for path in paths:
        await queries_for(app, app_client, path)

    for path, expected in paths.items():
        assert await queries_for(app, app_client, path) == expected, path


async def test_edit_visible_on_next_read(app_client: httpx.AsyncClient) -> None:
    """After an edit, the article, its list page and its slug are current."""
    author = await register(app_client)
    article = await create_article(app_client, author)
    await app_client.get(f"/articles/{article['slug']}")
    await app_client.get("/articles")

    edited = await app_client.put(
        f"/articles/{article['slug']}",
        headers=auth(author),
        json={"article": {"title": "A new title", "body": "Edited body"}},
    )
    new_slug = edited.json()["article"]["slug"]
    old = await app_client.get(f"/articles/{article['slug']}")
    fresh = await app_client.get(f"/articles/{new_slug}")
    listing = await app_client.get("/articles")

    assert old.status_code == 404
    assert fresh.json()["article"]["body"] == "Edited body"
    assert listing.json()["articles"][0]["title"] == "A new title"


async def test_favorite_visible_on_next_read(app_client: httpx.AsyncClient) -> None:
    """A favorite updates the count everywhere and the flag for its author only."""
    author = await register(app_client)
    reader = await register(app_client)
    other = await register(app_client)
    article = await create_article(app_client, author)
    path = f"/articles/{article['slug']}"
    for user in (reader, other):
        await app_client.get(path, headers=auth(user))
    await app_client.get("/articles", params={"favorited": reader["username"]})

    await app_client.post(f"{path}/favorite", headers=auth(reader))
    as_reader = (await app_client.get(path, headers=auth(reader))).json()["article"]
    as_other = (await app_client.get(path, headers=auth(other))).json()["article"]
    anonymous = (await app_client.get(path)).json()["article"]
    favorited = await app_client.get(
        "/articles", params={"favorited": reader["username"]}
    )

    assert as_reader["favorited"] is True
    assert as_other["favorited"] is False
    assert anonymous["favorited"] is False
    assert anonymous["favoritesCount"] == 1
    assert favorited.json()["articlesCount"] == 1
    assert favorited.json()["articles"][0]["favoritesCount"] == 1


async def test_cached_page_counts_follow_favorites(
    app_client: httpx.AsyncClient,
) -> None:
    """A page cached before favorites shows each new count on the next read."""
    author = await register(app_client)
    readers = [await register(app_client) for _ in range(2)]
    article = await create_article(app_client, author)
    path = f"/articles/{article['slug']}"

    def count_on_page(page: httpx.Response) -> int:
        (listed,) = [a for a in page.json()["articles"] if a["slug"] == article["slug"]]
        return int(listed["favoritesCount"])

    counts = [count_on_page(await app_client.get("/articles"))]
    for reader in readers:
        await app_client.post(f"{path}/favorite", headers=auth(reader))
        counts.append(count_on_page(await app_client.get("/articles")))
    await app_client.delete(f"{path}/favorite", headers=auth(readers[0]))
    counts.append(count_on_page(await app_client.get("/articles")))

    assert counts == [0, 1, 2, 1]


async def test_follow_visible_on_next_read(app_client: httpx.AsyncClient) -> None:
    """Following shows in the follower's profile view, flags and feed at once."""
    author = await register(app_client)
    reader = await register(app_client)
    article = await create_article(app_client, author)
    profile_path = f"/profiles/{author['username']}"
    await app_client.get(profile_path, headers=auth(reader))
    await app_client.get("/articles/feed", headers=auth(reader))

    await app_client.post(f"{profile_path}/follow", headers=auth(reader))
    profile = await app_client.get(profile_path, headers=auth(reader))
    feed = await app_client.get("/articles/feed", headers=auth(reader))
    view = await app_client.get(f"/articles/{article['slug']}", headers=auth(reader))

    assert profile.json()["profile"]["following"] is True
    assert feed.json()["articlesCount"] == 1
    assert view.json()["article"]["author"]["following"] is True


async def test_comment_and_bio_visible(app_client: httpx.AsyncClient) -> None:
    """New comments and a changed author bio show on the next read."""
    author = await register(app_client)
    article = await create_article(app_client, author)
    comments_path = f"/articles/{article['slug']}/comments"
    await app_client.get(comments_path)
    await app_client.get(f"/articles/{article['slug']}")

    await app_client.post(
        comments_path, headers=auth(author), json={"comment": {"body": "First"}}
    )
    await app_client.put("/user", headers=auth(author), json={"user": {"bio": "New"}})
    listed = await app_client.get(comments_path)
    view = await app_client.get(f"/articles/{article['slug']}")

    assert [comment["body"] for comment in listed.json()["comments"]] == ["First"]
    assert listed.json()["comments"][0]["author"]["bio"] == "New"
    assert view.json()["article"]["author"]["bio"] == "New"


async def test_cache_headers_split_public_and_private(
    app_client: httpx.AsyncClient,
) -> None:
    """Anonymous reads are public with surrogate keys; signed-in reads are private."""
    author = await register(app_client)
    article = await create_article(app_client, author)
    path = f"/articles/{article['slug']}"

    anonymous = await app_client.get(path)
    signed_in = await app_client.get(path, headers=auth(author))
    not_modified = await app_client.get(
        path, headers={"If-None-Match": anonymous.headers["etag"]}
    )

    assert anonymous.headers["cache-control"].startswith("public, ")
    assert "article:" in anonymous.headers["surrogate-key"]
    assert signed_in.headers["cache-control"] == "private, no-cache"
    assert not_modified.status_code == 304


async def test_cors_origin_never_replayed(settings: Settings) -> None:
    """A cached response answers each allowed origin with its own CORS header."""
    origins = ["http://a.example", "http://b.example"]
    app = create_app(settings.model_copy(update={"cors_origins": origins}))
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://t"
        ) as client:
            answers = [
                await client.get("/api/tags", headers={"Origin": origin})
                for origin in [*origins, *origins]
            ]

    allowed = [answer.headers["access-control-allow-origin"] for answer in answers]
    assert allowed == [*origins, *origins]


async def test_each_content_coding_has_its_own_etag(
    app_client: httpx.AsyncClient,
) -> None:
    """Gzip and identity bodies get different strong ETags and one Vary each."""
    author = await register(app_client)
    for number in range(6):
        await create_article(app_client, author, title=f"Long list entry {number}")
    gzip = {"Accept-Encoding": "gzip"}
    identity = {"Accept-Encoding": "identity"}

    zipped = await app_client.get("/articles", headers=gzip)
    plain = await app_client.get("/articles", headers=identity)
    plain_with_zipped_tag = await app_client.get(
        "/articles", headers={**identity, "If-None-Match": zipped.headers["etag"]}
    )
    zipped_again = await app_client.get(
        "/articles", headers={**gzip, "If-None-Match": zipped.headers["etag"]}
    )

    assert zipped.headers["content-encoding"] == "gzip"
    assert "content-encoding" not in plain.headers
    assert zipped.headers["etag"] != plain.headers["etag"]
    assert plain_with_zipped_tag.status_code == 200
    assert zipped_again.status_code == 304
    for response in (zipped, plain):
        fields = [field.strip() for field in response.headers["vary"].split(",")]
        assert sorted(fields) == ["Accept-Encoding", "Authorization"]


async def test_head_gets_the_get_headers(
    app: FastAPI, app_client: httpx.AsyncClient
) -> None:
    """HEAD is served like GET, from the service cache, without a body."""
    author = await register(app_client)
    article = await create_article(app_client, author)
    path = f"/articles/{article['slug']}"
    get = await app_client.get(path)

    head = await app_client.head(path)
    statements = await queries_for(app, app_client, path, method="HEAD")

    assert head.status_code == 200
    assert head.content == b""
    for name in ("etag", "content-length", "cache-control", "surrogate-key"):
        assert head.headers[name] == get.headers[name], name
    assert statements == 0
    assert (await app_client.head("/articles/no-such-article")).status_code == 404
