"""422 for taken user names and emails, whatever their case or composition."""

from __future__ import annotations

import unicodedata
from typing import Any

import httpx
from fastapi import FastAPI

from tests.platform.helpers import PASSWORD, assert_error, auth, register
from tests.platform.inspection import count_rows


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def nfd(text: str) -> str:
    return unicodedata.normalize("NFD", text)


async def post_user(
    client: httpx.AsyncClient, username: str, email: str
) -> httpx.Response:
    return await client.post(
        "/users",
        json={"user": {"username": username, "email": email, "password": PASSWORD}},
    )


async def can_log_in(client: httpx.AsyncClient, email: str, password: str) -> bool:
    response = await client.post(
        "/users/login", json={"user": {"email": email, "password": password}}
    )
    return response.status_code == 200


# (case, taken username, new username): pairs that must count as one name.
SAME_USERNAMES = [
    ("exact", "alice", "alice"),
    ("lower", "Alice", "alice"),
    ("upper", "alice", "ALICE"),
    ("nfd", nfc("José"), nfd("José")),
    ("nfc lower", nfd("José"), nfc("josé")),
    ("casefold", "Straße", "strasse"),
]
# (case, taken local part, new local part) of emails at one domain.
SAME_EMAILS = [
    ("exact", "ann", "ann"),
    ("upper", "ann", "ANN"),
    ("lower", "Ann", "ann"),
    ("nfd", nfc("josé"), nfd("josé")),
    ("nfc upper", nfd("josé"), nfc("JOSÉ")),
]


async def test_taken_username_rejected(
    app: FastAPI, app_client: httpx.AsyncClient
) -> None:
    """A user name equal up to case or composition returns 422 and no account."""
    for index, (case, taken, candidate) in enumerate(SAME_USERNAMES):
        # The index keeps each case apart from the names of the others.
        first = await post_user(app_client, f"{taken}_{index}", f"a{index}@example.com")
        assert first.status_code == 201, (case, first.text)
        before = await count_rows(app)

        response = await post_user(
            app_client, f"{candidate}_{index}", f"b{index}@example.com"
        )

        assert response.status_code == 422, (case, response.text)
        assert_error(response, 422, "username")
        assert await count_rows(app) == before, case
        assert not await can_log_in(app_client, f"b{index}@example.com", PASSWORD)


async def test_taken_email_rejected(
    app: FastAPI, app_client: httpx.AsyncClient
) -> None:
    """An email equal up to case or composition returns 422 and no account."""
    for index, (case, taken, candidate) in enumerate(SAME_EMAILS):
        first = await post_user(app_client, f"a{index}", f"{taken}{index}@example.com")
        assert first.status_code == 201, (case, first.text)
        before = await count_rows(app)

        response = await post_user(
            app_client, f"b{index}", f"{candidate}{index}@EXAMPLE.com"
        )

        assert response.status_code == 422, (case, response.text)
        assert_error(response, 422, "email")
        assert await count_rows(app) == before, case
        profile = await app_client.get(f"/profiles/b{index}")
        assert profile.status_code == 404, (case, profile.text)


async def test_email_login_ignores_composition(
    app_client: httpx.AsyncClient,
) -> None:
    """An account registered with a composed accent logs in with a decomposed one."""
    email = nfc("renée@example.com")
    registered = await post_user(app_client, "renee", email)
    assert registered.status_code == 201, registered.text

    assert await can_log_in(app_client, nfd(email), PASSWORD)


async def test_update_to_taken_username(
    app: FastAPI, app_client: httpx.AsyncClient
) -> None:
    """Renaming to another user's name in other case returns 422 and keeps both."""
    owner = await register(app_client, "Owner")
    other = await register(app_client)
    before = await count_rows(app)

    response = await app_client.put(
        "/user", headers=auth(other), json={"user": {"username": "OWNER"}}
    )

    assert_error(response, 422, "username")
    assert await count_rows(app) == before
    current = await app_client.get("/user", headers=auth(other))
    assert current.json()["user"]["username"] == other["username"]
    profile = await app_client.get("/profiles/owner")
    assert profile.json()["profile"]["username"] == owner["username"]


async def test_update_to_taken_email(
    app: FastAPI, app_client: httpx.AsyncClient
) -> None:
    """Changing to another user's email in other case returns 422."""
    owner = await register(app_client)
    other = await register(app_client)

    response = await app_client.put(
        "/user", headers=auth(other), json={"user": {"email": owner["email"].upper()}}
    )

    assert_error(response, 422, "email")
    current = await app_client.get("/user", headers=auth(other))
    assert current.json()["user"]["email"] == other["email"]
    assert await can_log_in(app_client, other["email"], PASSWORD)


async def test_own_name_case_change_allowed(app_client: httpx.AsyncClient) -> None:
    """A user may change the case of their own name and email."""
    user: dict[str, Any] = await register(app_client, "quiet_reader")

    response = await app_client.put(
        "/user",
        headers=auth(user),
        json={"user": {"username": "Quiet_Reader", "email": user["email"].upper()}},
    )

    assert response.status_code == 200, response.text
    assert response.json()["user"]["username"] == "Quiet_Reader"
    profile = await app_client.get("/profiles/quiet_reader")
    assert profile.json()["profile"]["username"] == "Quiet_Reader"


async def test_full_width_name_is_taken(client: httpx.AsyncClient) -> None:
    """A name in full-width letters collides with its ordinary spelling."""
    await register(client, "alice")
    full_width = "".join(chr(ord(letter) - ord("a") + 0xFF41) for letter in "alice")

    response = await client.post(
        "/users",
        json={
            "user": {
                "username": full_width,
                "email": "other@example.com",
                "password": PASSWORD,
            }
        },
    )

    assert response.status_code == 422
    assert response.json() == {"errors": {"username": ["has already been taken"]}}
