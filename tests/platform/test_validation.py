"""422 responses: bodies, fields and parameters that break the input rules.

Every rejected request is checked for its status, for the error body naming
the field, and for writing nothing at all.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx
from fastapi import FastAPI

from livify.platform import limits
from tests.platform.helpers import (
    PASSWORD,
    assert_error,
    auth,
    create_article,
    register,
)
from tests.platform.inspection import count_rows


@dataclass(frozen=True)
class Case:
    """A rejected request body and the field its error must name."""

    name: str
    body: Any
    field: str


def over(limit: int) -> str:
    return "x" * (limit + 1)


def long_email() -> str:
    # Each part is within its own limit (64 for the local part, 63 per domain
    # label), but the whole address is longer than EMAIL_MAX_CHARS.
    domain = ".".join(["d" * 63] * 3) + ".com"
    return "l" * 64 + "@" + domain


def new_user(**fields: Any) -> dict[str, Any]:
    user = {"username": "newcomer", "email": "newcomer@example.com"}
    user["password"] = PASSWORD
    user.update(fields)
    return {"user": user}


def new_article(**fields: Any) -> dict[str, Any]:
    article: dict[str, Any] = {"title": "Title", "description": "About", "body": "Text"}
    article.update(fields)
    return {"article": article}


@contextmanager
def case_note(name: str) -> Iterator[None]:
    """Name the failing case in the assertion report."""
    try:
        yield
    except AssertionError as exc:
        exc.add_note(f"case: {name}")
        raise


async def check_rejected(
    client: httpx.AsyncClient,
    method: str,
    path: str,
    cases: list[Case],
    headers: dict[str, str] | None = None,
) -> None:
    for case in cases:
        response = await client.request(method, path, json=case.body, headers=headers)
        with case_note(case.name):
            assert_error(response, 422, case.field)


REGISTRATION_CASES = [
    Case("missing wrapper", new_user()["user"], "user"),
    Case("wrapper not object", {"user": "newcomer"}, "user"),
    Case("wrapper null", {"user": None}, "user"),
    Case(
        "missing username",
        {"user": {"email": "a@example.com", "password": PASSWORD}},
        "username",
    ),
    Case("missing email", {"user": {"username": "a", "password": PASSWORD}}, "email"),
    Case(
        "missing password",
        {"user": {"username": "a", "email": "a@example.com"}},
        "password",
    ),
    Case("username number", new_user(username=5), "username"),
    Case("username null", new_user(username=None), "username"),
    Case("email list", new_user(email=["a@example.com"]), "email"),
    Case("password number", new_user(password=12345678), "password"),
    Case("password bool", new_user(password=True), "password"),
    Case("username empty", new_user(username=""), "username"),
    Case("username blank", new_user(username="   "), "username"),
    Case("username space", new_user(username="new comer"), "username"),
    Case("username slash", new_user(username="new/comer"), "username"),
    Case(
        "username long", new_user(username=over(limits.USERNAME_MAX_CHARS)), "username"
    ),
    Case("email empty", new_user(email=""), "email"),
    Case("email invalid", new_user(email="not-an-email"), "email"),
    Case("email long", new_user(email=long_email()), "email"),
    Case("password empty", new_user(password=""), "password"),
    Case(
        "password short",
        new_user(password="x" * (limits.PASSWORD_MIN_CHARS - 1)),
        "password",
    ),
    Case(
        "password long", new_user(password=over(limits.PASSWORD_MAX_CHARS)), "password"
    ),
]

ARTICLE_CASES = [
    Case("missing wrapper", new_article()["article"], "article"),
    Case("wrapper list", {"article": [new_article()["article"]]}, "article"),
    Case("missing title", {"article": {"description": "d", "body": "b"}}, "title"),
    Case(
        "missing description", {"article": {"title": "t", "body": "b"}}, "description"
    ),
    Case("missing body", {"article": {"title": "t", "description": "d"}}, "body"),
    Case("title number", new_article(title=42), "title"),
    Case("title huge number", new_article(title=10**30), "title"),
    Case("title null", new_article(title=None), "title"),
    Case("body object", new_article(body={"text": "b"}), "body"),
    Case("tags string", new_article(tagList="a,b"), "tagList"),
    Case("tags null", new_article(tagList=None), "tagList"),
    Case("tag number", new_article(tagList=["ok", 1]), "tagList"),
    Case("title empty", new_article(title=""), "title"),
    Case("title blank", new_article(title=" \t\n "), "title"),
    Case("description blank", new_article(description="   "), "description"),
    Case("body empty", new_article(body=""), "body"),
    Case("body blank", new_article(body=" \n\t "), "body"),
    Case("tag empty", new_article(tagList=[""]), "tagList"),
    Case("tag blank", new_article(tagList=["ok", "   "]), "tagList"),
    Case("title long", new_article(title=over(limits.TITLE_MAX_CHARS)), "title"),
    Case(
        "description long",
        new_article(description=over(limits.DESCRIPTION_MAX_CHARS)),
        "description",
    ),
    Case("body long", new_article(body=over(limits.ARTICLE_BODY_MAX_CHARS)), "body"),
    Case("tag long", new_article(tagList=[over(limits.TAG_MAX_CHARS)]), "tagList"),
    Case(
        "too many tags",
        new_article(tagList=[f"t{i}" for i in range(limits.TAGS_PER_ARTICLE_MAX + 1)]),
        "tagList",
    ),
]

ARTICLE_UPDATE_CASES = [
    Case("missing wrapper", {"title": "New"}, "article"),
    Case("title null", {"article": {"title": None}}, "article"),
    Case("description null", {"article": {"description": None}}, "article"),
    Case("body null", {"article": {"body": None}}, "article"),
    Case("tags null", {"article": {"tagList": None}}, "article"),
    Case("title number", {"article": {"title": 1}}, "title"),
    Case("title blank", {"article": {"title": "  "}}, "title"),
    Case("description empty", {"article": {"description": ""}}, "description"),
    Case("body blank", {"article": {"body": "\n\n"}}, "body"),
    Case("title long", {"article": {"title": over(limits.TITLE_MAX_CHARS)}}, "title"),
    Case(
        "body long", {"article": {"body": over(limits.ARTICLE_BODY_MAX_CHARS)}}, "body"
    ),
    Case("tag blank", {"article": {"tagList": [" "]}}, "tagList"),
    Case(
        "too many tags",
        {
            "article": {
                "tagList": [f"t{i}" for i in range(limits.TAGS_PER_ARTICLE_MAX + 1)]
            }
        },
        "tagList",
    ),
]

USER_UPDATE_CASES = [
    Case("missing wrapper", {"bio": "hi"}, "user"),
    Case("no fields", {"user": {}}, "user"),
    Case("email null", {"user": {"email": None}}, "user"),
    Case("username null", {"user": {"username": None}}, "user"),
    Case("password null", {"user": {"password": None}}, "user"),
    Case("email invalid", {"user": {"email": "nope"}}, "email"),
    Case("username blank", {"user": {"username": "  "}}, "username"),
    Case(
        "username long",
        {"user": {"username": over(limits.USERNAME_MAX_CHARS)}},
        "username",
    ),
    Case("password short", {"user": {"password": "short"}}, "password"),
    Case("bio number", {"user": {"bio": 5}}, "bio"),
    Case("bio long", {"user": {"bio": over(limits.BIO_MAX_CHARS)}}, "bio"),
    Case("image long", {"user": {"image": over(limits.IMAGE_URL_MAX_CHARS)}}, "image"),
]

COMMENT_CASES = [
    Case("missing wrapper", {"body": "Hi"}, "comment"),
    Case("missing body", {"comment": {}}, "body"),
    Case("body null", {"comment": {"body": None}}, "body"),
    Case("body number", {"comment": {"body": 7}}, "body"),
    Case("body empty", {"comment": {"body": ""}}, "body"),
    Case("body blank", {"comment": {"body": " \t\n"}}, "body"),
    Case(
        "body long", {"comment": {"body": over(limits.COMMENT_BODY_MAX_CHARS)}}, "body"
    ),
]

LOGIN_CASES = [
    Case("missing wrapper", {"email": "a@example.com", "password": PASSWORD}, "user"),
    Case("missing email", {"user": {"password": PASSWORD}}, "email"),
    Case("missing password", {"user": {"email": "a@example.com"}}, "password"),
    Case("email number", {"user": {"email": 1, "password": PASSWORD}}, "email"),
    Case(
        "password null",
        {"user": {"email": "a@example.com", "password": None}},
        "password",
    ),
]

MALFORMED_BODIES = [
    b'{"user": ',
    b'{"user": {"username": "a",}}',
    b"\xff\xfe\x00",
    b"[1, 2]",
    b'"text"',
    b"42",
    b"null",
    b"",
]

PAGING_CASES = [
    ("limit", "0"),
    ("limit", "-1"),
    ("limit", str(limits.PAGE_SIZE_MAX + 1)),
    ("limit", "abc"),
    ("limit", ""),
    ("limit", "1.5"),
    ("limit", str(10**30)),
    ("offset", "-1"),
    ("offset", "abc"),
    ("offset", str(limits.OFFSET_MAX + 1)),
    ("offset", str(10**30)),
]


async def test_registration_rejects_bad_fields(
    app: FastAPI, app_client: httpx.AsyncClient
) -> None:
    """Registration returns 422 for each broken field and creates no account."""
    before = await count_rows(app)

    await check_rejected(app_client, "POST", "/users", REGISTRATION_CASES)

    assert await count_rows(app) == before
    login = await app_client.post(
        "/users/login",
        json={"user": {"email": "newcomer@example.com", "password": PASSWORD}},
    )
    assert login.status_code == 401, login.text


async def test_malformed_json_bodies_rejected(
    app: FastAPI, app_client: httpx.AsyncClient
) -> None:
    """A body that is not a JSON object returns 422 under `body` on every route."""
    user = await register(app_client)
    article = await create_article(app_client, user)
    before = await count_rows(app)
    routes = [
        ("POST", "/users"),
        ("POST", "/users/login"),
        ("PUT", "/user"),
        ("POST", "/articles"),
        ("PUT", f"/articles/{article['slug']}"),
        ("POST", f"/articles/{article['slug']}/comments"),
    ]

    for method, path in routes:
        for content in MALFORMED_BODIES:
            response = await app_client.request(
                method,
                path,
                content=content,
                headers={**auth(user), "Content-Type": "application/json"},
            )
            with case_note(f"{method} {path} {content!r}"):
                assert_error(response, 422, "body")

    assert await count_rows(app) == before


async def test_create_article_rejects_bad_fields(
    app: FastAPI, app_client: httpx.AsyncClient
) -> None:
    """Creating an article returns 422 for each broken field and stores nothing."""
    user = await register(app_client)
    before = await count_rows(app)

    await check_rejected(app_client, "POST", "/articles", ARTICLE_CASES, auth(user))

    assert await count_rows(app) == before
    listing = await app_client.get("/articles")
    assert listing.json() == {"articles": [], "articlesCount": 0}


async def test_update_article_rejects_bad_fields(
    app: FastAPI, app_client: httpx.AsyncClient
) -> None:
    """Editing an article returns 422 for each broken field and keeps it intact."""
    user = await register(app_client)
    article = await create_article(app_client, user)
    path = f"/articles/{article['slug']}"
    before = await count_rows(app)

    await check_rejected(app_client, "PUT", path, ARTICLE_UPDATE_CASES, auth(user))

    assert await count_rows(app) == before
    assert (await app_client.get(path, headers=auth(user))).json() == {
        "article": article
    }


async def test_update_user_rejects_bad_fields(
    app: FastAPI, app_client: httpx.AsyncClient
) -> None:
    """Editing the user returns 422 for each broken field and changes nothing."""
    user = await register(app_client)
    before = await count_rows(app)

    await check_rejected(app_client, "PUT", "/user", USER_UPDATE_CASES, auth(user))

    assert await count_rows(app) == before
    current = await app_client.get("/user", headers=auth(user))
    assert current.json() == {"user": user}
    login = await app_client.post(
        "/users/login", json={"user": {"email": user["email"], "password": PASSWORD}}
    )
    assert login.status_code == 200, login.text


async def test_comment_rejects_bad_fields(
    app: FastAPI, app_client: httpx.AsyncClient
) -> None:
    """Commenting returns 422 for each broken field and adds no comment."""
    user = await register(app_client)
    article = await create_article(app_client, user)
    path = f"/articles/{article['slug']}/comments"
    before = await count_rows(app)

    await check_rejected(app_client, "POST", path, COMMENT_CASES, auth(user))

    assert await count_rows(app) == before
    assert (await app_client.get(path)).json() == {"comments": []}


async def test_login_rejects_bad_fields(
    app: FastAPI, app_client: httpx.AsyncClient
) -> None:
    """Login returns 422, not 401, when the body itself is broken."""
    before = await count_rows(app)

    await check_rejected(app_client, "POST", "/users/login", LOGIN_CASES)

    assert await count_rows(app) == before


async def test_paging_parameters_rejected(
    app: FastAPI, app_client: httpx.AsyncClient
) -> None:
    """Bad `limit` and `offset` values return 422 on the list and the feed."""
    user = await register(app_client)
    before = await count_rows(app)

    for path in ("/articles", "/articles/feed"):
        for name, value in PAGING_CASES:
            response = await app_client.get(
                path, params={name: value}, headers=auth(user)
            )
            with case_note(f"{path}?{name}={value}"):
                assert_error(response, 422, name)

    assert await count_rows(app) == before


async def test_filter_parameters_too_long(app_client: httpx.AsyncClient) -> None:
    """Filter values longer than any tag or user name return 422."""
    cases = [
        ("tag", over(limits.TAG_MAX_CHARS)),
        ("author", over(limits.USERNAME_MAX_CHARS)),
        ("favorited", over(limits.USERNAME_MAX_CHARS)),
    ]

    for name, value in cases:
        response = await app_client.get("/articles", params={name: value})
        with case_note(name):
            assert_error(response, 422, name)


async def test_comment_id_must_be_positive(
    app: FastAPI, app_client: httpx.AsyncClient
) -> None:
    """A comment id that is not a positive 64-bit integer returns 422."""
    user = await register(app_client)
    article = await create_article(app_client, user)
    comment = await app_client.post(
        f"/articles/{article['slug']}/comments",
        headers=auth(user),
        json={"comment": {"body": "Stay"}},
    )
    assert comment.status_code == 200, comment.text
    before = await count_rows(app)

    for comment_id in ("abc", "0", "-1", str(2**63), str(10**30)):
        response = await app_client.delete(
            f"/articles/{article['slug']}/comments/{comment_id}", headers=auth(user)
        )
        with case_note(comment_id):
            assert_error(response, 422, "comment_id")

    assert await count_rows(app) == before


async def test_values_at_limits_accepted(app_client: httpx.AsyncClient) -> None:
    """Fields exactly at their limits are accepted and returned whole."""
    name = "n" * limits.USERNAME_MAX_CHARS
    registered = await app_client.post(
        "/users",
        json=new_user(
            username=name,
            email="limits@example.com",
            password="p" * limits.PASSWORD_MAX_CHARS,
        ),
    )
    assert registered.status_code == 201, registered.text
    user = registered.json()["user"]
    tags = [
        f"{i:02d}" + "t" * (limits.TAG_MAX_CHARS - 2)
        for i in range(limits.TAGS_PER_ARTICLE_MAX)
    ]
    body = new_article(
        title="T" * limits.TITLE_MAX_CHARS,
        description="D" * limits.DESCRIPTION_MAX_CHARS,
        body="B" * limits.ARTICLE_BODY_MAX_CHARS,
        tagList=tags,
    )

    created = await app_client.post("/articles", headers=auth(user), json=body)

    assert user["username"] == name
    assert created.status_code == 201, created.text
    article = created.json()["article"]
    assert article["title"] == body["article"]["title"]
    assert article["description"] == body["article"]["description"]
    assert article["body"] == body["article"]["body"]
    assert article["tagList"] == body["article"]["tagList"]


async def test_limits_count_nfc_characters(app_client: httpx.AsyncClient) -> None:
    """Lengths count characters after NFC, so decomposed accents fit the limit."""
    user = await register(app_client)
    decomposed = unicodedata.normalize("NFD", "é") * limits.TITLE_MAX_CHARS
    assert len(decomposed) == 2 * limits.TITLE_MAX_CHARS

    created = await app_client.post(
        "/articles", headers=auth(user), json=new_article(title=decomposed)
    )

    assert created.status_code == 201, created.text
    title = created.json()["article"]["title"]
    assert title == unicodedata.normalize("NFC", decomposed)
    assert len(title) == limits.TITLE_MAX_CHARS


async def test_text_fields_are_stripped(app_client: httpx.AsyncClient) -> None:
    """Titles, descriptions and tags lose surrounding spaces, but bodies keep theirs."""
    user = await register(app_client)
    body = new_article(
        title="  Padded title  ",
        description="\tPadded\n",
        body="  indented\n",
        tagList=["  spaced  "],
    )

    created = await app_client.post("/articles", headers=auth(user), json=body)

    assert created.status_code == 201, created.text
    article = created.json()["article"]
    assert article["title"] == "Padded title"
    assert article["description"] == "Padded"
    assert article["body"] == "  indented\n"
    assert article["tagList"] == ["spaced"]


async def test_deeply_nested_json_is_422(client: httpx.AsyncClient) -> None:
    """JSON nested past the parser's depth limit is invalid JSON, not a 400."""
    body = b"[" * 100_000 + b"]" * 100_000

    response = await client.post(
        "/users", content=body, headers={"Content-Type": "application/json"}
    )

    assert response.status_code == 422
    assert response.json() == {"errors": {"body": ["is not valid JSON"]}}
