"""Lists and shapes: order, counts, paging, filters, the feed, tags and nulls."""

from __future__ import annotations

import re
from typing import Any

import httpx

from tests.platform.helpers import PASSWORD, auth, create_article, register

TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


async def listing(
    client: httpx.AsyncClient,
    path: str = "/articles",
    user: dict[str, Any] | None = None,
    **params: Any,
) -> dict[str, Any]:
    response = await client.get(
        path, params=params, headers=auth(user) if user else None
    )
    assert response.status_code == 200, response.text
    page: dict[str, Any] = response.json()
    return page


def slugs_of(page: dict[str, Any]) -> list[str]:
    return [article["slug"] for article in page["articles"]]


async def create_many(
    client: httpx.AsyncClient, user: dict[str, Any], count: int, prefix: str
) -> list[str]:
    """Create articles one after another and return their slugs, oldest first."""
    slugs = []
    for index in range(count):
        article = await create_article(client, user, title=f"{prefix} {index}")
        slugs.append(article["slug"])

    return slugs


async def test_list_is_newest_first(client: httpx.AsyncClient) -> None:
    """Articles come newest first, and the count is the total, not the page."""
    user = await register(client)
    created = await create_many(client, user, 7, "Post")

    everything = await listing(client)
    first_page = await listing(client, limit=3)

    assert slugs_of(everything) == created[::-1]
    assert everything["articlesCount"] == 7
    stamps = [article["createdAt"] for article in everything["articles"]]
    assert stamps == sorted(stamps, reverse=True)
    assert len(first_page["articles"]) == 3
    assert first_page["articlesCount"] == 7


async def test_limit_and_offset_paging(client: httpx.AsyncClient) -> None:
    """Pages of `limit` from `offset` tile the list without gaps or repeats."""
    user = await register(client)
    created = await create_many(client, user, 7, "Page")
    newest_first = created[::-1]

    pages = [await listing(client, limit=3, offset=offset) for offset in (0, 3, 6)]
    at_end = await listing(client, limit=3, offset=7)
    past_end = await listing(client, limit=3, offset=50)
    default = await listing(client)

    assert [slugs_of(page) for page in pages] == [
        newest_first[0:3],
        newest_first[3:6],
        newest_first[6:7],
    ]
    assert [page["articlesCount"] for page in pages] == [7, 7, 7]
    assert at_end == {"articles": [], "articlesCount": 7}
    assert past_end == {"articles": [], "articlesCount": 7}
    assert slugs_of(default) == newest_first


async def test_default_page_size_is_twenty(client: httpx.AsyncClient) -> None:
    """Without `limit`, a page contains twenty articles."""
    user = await register(client)
    await create_many(client, user, 21, "Many")

    page = await listing(client)

    assert len(page["articles"]) == 20
    assert page["articlesCount"] == 21


async def test_filters_select_and_count(client: httpx.AsyncClient) -> None:
    """Tag, author and favorited filters return and count only matches."""
    alice = await register(client, "Alice")
    bob = await register(client)
    fan = await register(client)
    a1 = await create_article(client, alice, title="A1", tags=["dragons"])
    a2 = await create_article(client, alice, title="A2", tags=["cats"])
    b1 = await create_article(client, bob, title="B1", tags=["dragons", "cats"])
    await create_article(client, bob, title="B2", tags=[])
    for slug in (a1["slug"], b1["slug"]):
        favorited = await client.post(f"/articles/{slug}/favorite", headers=auth(fan))
        assert favorited.status_code == 200, favorited.text

    cases = {
        "tag": ({"tag": "dragons"}, [b1, a1]),
        "author": ({"author": "Alice"}, [a2, a1]),
        "author any case": ({"author": "aLiCe"}, [a2, a1]),
        "favorited": ({"favorited": fan["username"]}, [b1, a1]),
        "tag and author": ({"tag": "cats", "author": bob["username"]}, [b1]),
        "all three": (
            {"tag": "dragons", "author": "alice", "favorited": fan["username"]},
            [a1],
        ),
        "unknown tag": ({"tag": "unicorns"}, []),
        "unknown author": ({"author": "johnjacob"}, []),
        "unknown favoriter": ({"favorited": "johnjacob"}, []),
        "paged": ({"tag": "cats", "limit": 1, "offset": 1}, [a2]),
    }

    for name, (params, expected) in cases.items():
        page = await listing(client, **params)
        assert slugs_of(page) == [article["slug"] for article in expected], name
        total = len(expected) if name != "paged" else 2
        assert page["articlesCount"] == total, name


async def test_feed_shows_followed_authors(client: httpx.AsyncClient) -> None:
    """The feed lists only followed authors, newest first, with a total count."""
    reader = await register(client)
    followed = await register(client)
    ignored = await register(client)
    mine = await create_article(client, reader, title="My own")
    first = await create_article(client, followed, title="Followed 1")
    await create_article(client, ignored, title="Ignored")
    second = await create_article(client, followed, title="Followed 2")

    empty = await listing(client, "/articles/feed", reader)
    follow = await client.post(
        f"/profiles/{followed['username']}/follow", headers=auth(reader)
    )
    feed = await listing(client, "/articles/feed", reader)
    paged = await listing(client, "/articles/feed", reader, limit=1, offset=1)
    await client.delete(
        f"/profiles/{followed['username']}/follow", headers=auth(reader)
    )
    after_unfollow = await listing(client, "/articles/feed", reader)

    assert empty == {"articles": [], "articlesCount": 0}
    assert follow.json()["profile"]["following"] is True
    assert slugs_of(feed) == [second["slug"], first["slug"]]
    assert feed["articlesCount"] == 2
    assert mine["slug"] not in slugs_of(feed)
    assert all(article["author"]["following"] for article in feed["articles"])
    assert slugs_of(paged) == [first["slug"]]
    assert paged["articlesCount"] == 2
    assert after_unfollow == {"articles": [], "articlesCount": 0}


async def test_viewer_flags_in_lists(client: httpx.AsyncClient) -> None:
    """`favorited` and `following` reflect the viewer, and are false anonymously."""
    author = await register(client)
    viewer = await register(client)
    liked = await create_article(client, author, title="Liked")
    other = await create_article(client, author, title="Other")
    await client.post(f"/articles/{liked['slug']}/favorite", headers=auth(viewer))
    await client.post(f"/profiles/{author['username']}/follow", headers=auth(viewer))

    as_viewer = await listing(client, user=viewer)
    anonymous = await listing(client)

    flags = {
        article["slug"]: (article["favorited"], article["author"]["following"])
        for article in as_viewer["articles"]
    }
    assert flags == {liked["slug"]: (True, True), other["slug"]: (False, True)}
    assert all(
        not article["favorited"] and not article["author"]["following"]
        for article in anonymous["articles"]
    )
    counts = {a["slug"]: a["favoritesCount"] for a in anonymous["articles"]}
    assert counts == {liked["slug"]: 1, other["slug"]: 0}


async def test_favorite_counts_once(client: httpx.AsyncClient) -> None:
    """Favoriting twice counts once, and unfavoriting twice never goes below 0."""
    author = await register(client)
    fan = await register(client)
    article = await create_article(client, author)
    path = f"/articles/{article['slug']}/favorite"

    counts = []
    for method in ("POST", "POST", "DELETE", "DELETE"):
        response = await client.request(method, path, headers=auth(fan))
        assert response.status_code == 200, response.text
        counts.append(response.json()["article"]["favoritesCount"])

    assert counts == [1, 1, 0, 0]


async def test_list_items_have_no_body(client: httpx.AsyncClient) -> None:
    """List items leave out `body`, and a single article includes it."""
    user = await register(client)
    article = await create_article(client, user)

    page = await listing(client)
    feed_keys = set(page["articles"][0])

    assert "body" in article
    assert "body" not in feed_keys
    assert feed_keys == set(article) - {"body"}


async def test_tags_sorted_alphabetically(client: httpx.AsyncClient) -> None:
    """Tag lists are sorted by code point and only name tags still in use."""
    user = await register(client)
    first = await create_article(
        client, user, title="One", tags=["zebra", "Apple", "mango", "zebra", "ß"]
    )
    second = await create_article(client, user, title="Two", tags=["banana", "apple"])
    await create_article(client, user, title="Three", tags=["orphan"])

    deleted = await client.delete("/articles/three", headers=auth(user))
    tags = (await client.get("/tags")).json()["tags"]
    listed = await listing(client, tag="zebra")

    assert first["tagList"] == ["Apple", "mango", "zebra", "ß"]
    assert second["tagList"] == ["apple", "banana"]
    assert deleted.status_code == 204
    assert tags == ["Apple", "apple", "banana", "mango", "zebra", "ß"]
    assert listed["articles"][0]["tagList"] == first["tagList"]


async def test_tags_replaced_on_update(client: httpx.AsyncClient) -> None:
    """Sending `tagList` on update replaces the tags, and omitting it keeps them."""
    user = await register(client)
    article = await create_article(client, user, tags=["old", "kept"])
    path = f"/articles/{article['slug']}"

    body_only = await client.put(
        path, headers=auth(user), json={"article": {"body": "New body"}}
    )
    retagged = await client.put(
        path, headers=auth(user), json={"article": {"tagList": ["new", "kept"]}}
    )
    untagged = await client.put(
        path, headers=auth(user), json={"article": {"tagList": []}}
    )

    assert body_only.json()["article"]["tagList"] == ["kept", "old"]
    assert retagged.json()["article"]["tagList"] == ["kept", "new"]
    assert untagged.json()["article"]["tagList"] == []
    assert (await client.get("/tags")).json() == {"tags": []}


async def test_null_keys_are_present(client: httpx.AsyncClient) -> None:
    """`bio` and `image` are present as null in users, profiles and authors."""
    author = await register(client)
    reader = await register(client)
    article = await create_article(client, author)
    comment = await client.post(
        f"/articles/{article['slug']}/comments",
        headers=auth(author),
        json={"comment": {"body": "Note"}},
    )
    login = await client.post(
        "/users/login",
        json={"user": {"email": author["email"], "password": PASSWORD}},
    )
    cleared = await client.put(
        "/user", headers=auth(reader), json={"user": {"bio": "", "image": ""}}
    )

    shapes = {
        "register": author,
        "login": login.json()["user"],
        "current": (await client.get("/user", headers=auth(author))).json()["user"],
        "cleared": cleared.json()["user"],
        "profile": (await client.get(f"/profiles/{author['username']}")).json()[
            "profile"
        ],
        "article author": article["author"],
        "list author": (await listing(client))["articles"][0]["author"],
        "comment author": comment.json()["comment"]["author"],
    }
    for name, shape in shapes.items():
        assert "bio" in shape, name
        assert shape["bio"] is None, name
        assert "image" in shape, name
        assert shape["image"] is None, name


async def test_timestamps_have_milliseconds(client: httpx.AsyncClient) -> None:
    """Timestamps are UTC with milliseconds and `Z`, and edits move `updatedAt`."""
    user = await register(client)
    article = await create_article(client, user)
    comment = await client.post(
        f"/articles/{article['slug']}/comments",
        headers=auth(user),
        json={"comment": {"body": "Dated"}},
    )
    updated = await client.put(
        f"/articles/{article['slug']}",
        headers=auth(user),
        json={"article": {"body": "Later"}},
    )
    listed = (await listing(client))["articles"][0]

    stamped = {
        "article": article,
        "comment": comment.json()["comment"],
        "updated": updated.json()["article"],
        "listed": listed,
    }
    for name, item in stamped.items():
        assert TIMESTAMP.match(item["createdAt"]), (name, item["createdAt"])
        assert TIMESTAMP.match(item["updatedAt"]), (name, item["updatedAt"])

    assert article["createdAt"] == article["updatedAt"]
    assert updated.json()["article"]["createdAt"] == article["createdAt"]
    assert updated.json()["article"]["updatedAt"] > article["updatedAt"]


async def test_comments_newest_first(client: httpx.AsyncClient) -> None:
    """Comments are listed newest first, each with an integer id."""
    user = await register(client)
    article = await create_article(client, user)
    path = f"/articles/{article['slug']}/comments"
    for body in ("first", "second", "third"):
        response = await client.post(
            path, headers=auth(user), json={"comment": {"body": body}}
        )
        assert response.status_code == 200, response.text

    comments = (await client.get(path)).json()["comments"]

    assert [comment["body"] for comment in comments] == ["third", "second", "first"]
    assert all(isinstance(comment["id"], int) for comment in comments)
