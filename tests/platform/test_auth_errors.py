"""401 responses: missing, malformed, forged, expired and orphaned tokens."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import httpx
import jwt
import pytest
from fastapi import FastAPI

from livify.platform.security import TOKEN_ALGORITHM, TokenService
from livify.settings import Settings
from tests.platform.helpers import (
    PASSWORD,
    assert_error,
    auth,
    create_article,
    register,
)
from tests.platform.inspection import count_rows, delete_user, user_id


@dataclass(frozen=True)
class World:
    """An article by `author` with one comment by `reader`."""

    author: dict[str, Any]
    reader: dict[str, Any]
    slug: str
    comment_id: int


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str
    body: dict[str, Any] | None = None

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


NEW_ARTICLE = {"article": {"title": "Ghost", "description": "d", "body": "b"}}

# Every route that requires a token, with a body that would otherwise succeed.
REQUIRED = [
    Endpoint("GET", "/user"),
    Endpoint("PUT", "/user", {"user": {"bio": "changed"}}),
    Endpoint("GET", "/articles/feed"),
    Endpoint("POST", "/articles", NEW_ARTICLE),
    Endpoint("PUT", "/articles/{slug}", {"article": {"body": "changed"}}),
    Endpoint("DELETE", "/articles/{slug}"),
    Endpoint("POST", "/articles/{slug}/favorite"),
    Endpoint("DELETE", "/articles/{slug}/favorite"),
    Endpoint("POST", "/articles/{slug}/comments", {"comment": {"body": "hi"}}),
    Endpoint("DELETE", "/articles/{slug}/comments/{comment_id}"),
    Endpoint("POST", "/profiles/{username}/follow"),
    Endpoint("DELETE", "/profiles/{username}/follow"),
]
# Routes where a token is optional, but a bad one is still rejected.
OPTIONAL = [
    Endpoint("GET", "/articles"),
    Endpoint("GET", "/articles/{slug}"),
    Endpoint("GET", "/articles/{slug}/comments"),
    Endpoint("GET", "/profiles/{username}"),
]


@pytest.fixture
async def world(app_client: httpx.AsyncClient) -> World:
    author = await register(app_client)
    reader = await register(app_client)
    article = await create_article(app_client, author)
    comment = await app_client.post(
        f"/articles/{article['slug']}/comments",
        headers=auth(reader),
        json={"comment": {"body": "First"}},
    )
    assert comment.status_code == 200, comment.text
    return World(author, reader, article["slug"], comment.json()["comment"]["id"])


async def send(
    client: httpx.AsyncClient,
    world: World,
    endpoint: Endpoint,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    path = endpoint.path.format(
        slug=world.slug,
        comment_id=world.comment_id,
        username=world.author["username"],
    )
    return await client.request(
        endpoint.method, path, json=endpoint.body, headers=headers
    )


async def snapshot(app: FastAPI, client: httpx.AsyncClient, world: World) -> Any:
    """Capture what the API shows and how many rows each table holds."""
    views = {
        "article": f"/articles/{world.slug}",
        "articles": "/articles",
        "comments": f"/articles/{world.slug}/comments",
        "tags": "/tags",
    }
    shown = {name: (await client.get(path)).json() for name, path in views.items()}
    shown["reader"] = (await client.get("/user", headers=auth(world.reader))).json()
    shown["rows"] = await count_rows(app)
    return shown


def bad_headers(settings: Settings, user_id: int) -> dict[str, dict[str, str]]:
    """Return Authorization headers that must all be rejected, by case name."""
    assert settings.secret_key is not None
    secret = settings.secret_key.get_secret_value()
    tokens = TokenService(secret, ttl_seconds=settings.token_ttl_seconds)
    expired = tokens.issue(user_id, now=time.time() - settings.token_ttl_seconds - 60)
    foreign = TokenService("another-secret-" + "y" * 32, ttl_seconds=60)
    now = int(time.time())
    without_expiry = jwt.encode(
        {"sub": str(user_id), "iat": now}, secret, algorithm=TOKEN_ALGORITHM
    )
    named_subject = jwt.encode(
        {"sub": "admin", "iat": now, "exp": now + 60},
        secret,
        algorithm=TOKEN_ALGORITHM,
    )
    valid = tokens.issue(user_id)
    return {
        "garbage": {"Authorization": "Token not-a-jwt"},
        "expired": {"Authorization": f"Token {expired}"},
        "foreign_secret": {"Authorization": f"Token {foreign.issue(user_id)}"},
        "tampered": {"Authorization": f"Token {valid[:-4]}AAAA"},
        "without_expiry": {"Authorization": f"Token {without_expiry}"},
        "named_subject": {"Authorization": f"Token {named_subject}"},
        "basic_scheme": {"Authorization": f"Basic {valid}"},
        "no_scheme": {"Authorization": valid},
        "scheme_only": {"Authorization": "Token"},
        "empty": {"Authorization": ""},
    }


async def check_rejected(
    app: FastAPI,
    client: httpx.AsyncClient,
    world: World,
    endpoints: list[Endpoint],
    headers: dict[str, str] | None,
) -> None:
    """Send each request, check each got 401, then check nothing changed."""
    before = await snapshot(app, client, world)

    for endpoint in endpoints:
        response = await send(client, world, endpoint, headers)
        assert response.status_code == 401, (str(endpoint), response.text)
        assert_error(response, 401, "token")
        assert response.headers["www-authenticate"] == "Token", str(endpoint)

    assert await snapshot(app, client, world) == before, [str(e) for e in endpoints]


async def test_missing_token_is_rejected(
    app: FastAPI, app_client: httpx.AsyncClient, world: World
) -> None:
    """Every protected route returns 401 without a token and changes nothing."""
    for endpoint in REQUIRED:
        await check_rejected(app, app_client, world, [endpoint], None)


async def test_bad_tokens_are_rejected(
    app: FastAPI, app_client: httpx.AsyncClient, settings: Settings, world: World
) -> None:
    """Forged, expired and malformed tokens get 401 and change nothing."""
    cases = bad_headers(settings, user_id(app, world.reader))

    for case, headers in cases.items():
        try:
            await check_rejected(app, app_client, world, REQUIRED, headers)
        except AssertionError as exc:
            exc.add_note(f"token case: {case}")
            raise


async def test_optional_auth_rejects_bad_tokens(
    app: FastAPI, app_client: httpx.AsyncClient, settings: Settings, world: World
) -> None:
    """Routes where a token is optional still reject a bad one."""
    cases = bad_headers(settings, user_id(app, world.reader))
    del cases["empty"]  # An empty header is no header, which these routes allow.

    for case, headers in cases.items():
        try:
            await check_rejected(app, app_client, world, OPTIONAL, headers)
        except AssertionError as exc:
            exc.add_note(f"token case: {case}")
            raise


async def test_deleted_user_token_rejected(
    app: FastAPI, app_client: httpx.AsyncClient, world: World
) -> None:
    """A valid token whose user was deleted gets 401, never 500, on every route."""
    ghost = await register(app_client)
    await delete_user(app, ghost)

    for endpoint in REQUIRED:
        await check_rejected(app, app_client, world, [endpoint], auth(ghost))


async def test_bearer_scheme_is_accepted(app_client: httpx.AsyncClient) -> None:
    """`Bearer` works as well as `Token`, as the reference server allows."""
    user = await register(app_client)

    response = await app_client.get(
        "/user", headers={"Authorization": f"Bearer {user['token']}"}
    )

    assert response.status_code == 200, response.text
    assert response.json()["user"]["username"] == user["username"]


async def test_login_with_bad_credentials(
    app: FastAPI, app_client: httpx.AsyncClient
) -> None:
    """A wrong password or unknown email gets 401, no token and no write."""
    user = await register(app_client)
    before = await count_rows(app)
    attempts = {
        "wrong password": (user["email"], "wrong password"),
        "unknown email": ("nobody@example.com", PASSWORD),
        "password case": (user["email"], PASSWORD.upper()),
    }

    for case, (email, password) in attempts.items():
        response = await app_client.post(
            "/users/login", json={"user": {"email": email, "password": password}}
        )
        assert response.status_code == 401, (case, response.text)
        assert_error(response, 401, "credentials")
        assert "token" not in response.text, case

    assert await count_rows(app) == before


async def test_login_ignores_email_case(app_client: httpx.AsyncClient) -> None:
    """Login finds the account whatever the case of the email."""
    user = await register(app_client)

    response = await app_client.post(
        "/users/login",
        json={"user": {"email": user["email"].upper(), "password": PASSWORD}},
    )

    assert response.status_code == 200, response.text
    assert response.json()["user"]["username"] == user["username"]
