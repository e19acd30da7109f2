"""Small API helpers for platform tests."""

from __future__ import annotations

import secrets
from typing import Any

import httpx

PASSWORD = "correct horse battery"


async def register(
    client: httpx.AsyncClient, name: str | None = None
) -> dict[str, Any]:
    """Register a user with a unique name and return the `user` object."""
    name = name or f"user_{secrets.token_hex(4)}"
    response = await client.post(
        "/users",
        json={
            "user": {
                "username": name,
                "email": f"{name}@example.com",
                "password": PASSWORD,
            }
        },
    )
    assert response.status_code == 201, response.text
    user: dict[str, Any] = response.json()["user"]
    return user


def auth(user: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Token {user['token']}"}


async def create_article(
    client: httpx.AsyncClient,
    user: dict[str, Any],
    title: str = "How to train your dragon",
    tags: list[str] | None = None,
) -> dict[str, Any]:
    response = await client.post(
        "/articles",
        headers=auth(user),
        json={
            "article": {
                "title": title,
                "description": "Ever wonder how?",
                "body": "You have to believe",
                "tagList": tags if tags is not None else ["training", "dragons"],
            }
        },
    )
    assert response.status_code == 201, response.text
    article: dict[str, Any] = response.json()["article"]
    return article


def assert_error(response: httpx.Response, status_code: int, field: str) -> None:
    """Check the status and the `{"errors": {field: [message, ...]}}` body."""
    assert response.status_code == status_code, response.text
    body = response.json()
    assert list(body) == ["errors"], body
    assert field in body["errors"], body
    messages = body["errors"][field]
    assert isinstance(messages, list), body
    assert messages, body
    assert all(isinstance(message, str) and message for message in messages), body
