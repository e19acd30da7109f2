"""Rate limits on the API: headers, 429 responses, login attempts, reloads."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI

from livify.app import create_app
from livify.settings import Settings
from tests.platform.helpers import PASSWORD, register

LIMITS_FILE = """
[[limits]]
name = "anonymous"
rate = "5/minute"
key = "ip"
# A fixed window reopens within one window, which bounds Retry-After by 60 s;
# a sliding window may need part of the next window as well.
algorithm = "fixed_window"
block_ratio = 1.0

[[limits]]
name = "login-account"
rate = "3/minute"
key = "account"
block_ratio = 1.0
"""


@pytest.fixture
def limits_file(tmp_path: Path) -> Path:
    path = tmp_path / "limits.toml"
    path.write_text(LIMITS_FILE)
    return path


@pytest.fixture
async def limited_app(settings: Settings, limits_file: Path) -> AsyncIterator[FastAPI]:
    app = create_app(
        settings.model_copy(
            update={"ratelimit_enabled": True, "ratelimit_config": limits_file}
        )
    )
    async with LifespanManager(app):
        yield app


@pytest.fixture
async def client(limited_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=limited_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
        yield http


async def test_limit_gives_429_in_api_format(client: httpx.AsyncClient) -> None:
    """Past the limit a caller gets 429 with Retry-After and the error body."""
    answers = [await client.get("/api/tags") for _ in range(6)]

    assert [answer.status_code for answer in answers] == [200] * 5 + [429]
    blocked = answers[-1]
    assert set(blocked.json()) == {"errors"}
    assert 1 <= int(blocked.headers["retry-after"]) <= 60
    assert "ratelimit" in blocked.headers
    assert answers[0].headers["x-ratelimit-limit"] == "5"


async def test_probes_never_limited(client: httpx.AsyncClient) -> None:
    """Health probes and metrics stay reachable past every limit."""
    for _ in range(6):
        await client.get("/api/tags")

    assert (await client.get("/livez")).status_code == 200
    assert (await client.get("/readyz")).status_code == 200
    assert (await client.get("/metrics")).status_code == 200


async def register_unlimited(settings: Settings) -> dict[str, Any]:
    """Register a user through an app without rate limits; return the user."""
    unlimited = create_app(settings)
    async with LifespanManager(unlimited):
        transport = httpx.ASGITransport(app=unlimited)
        async with httpx.AsyncClient(transport=transport, base_url="http://t/api") as c:
            user: dict[str, Any] = await register(c)
    return user


async def test_login_fields_show_account_limit(
    limited_app: FastAPI, settings: Settings
) -> None:
    """A rejected login's fields include the per-account limit and its usage."""
    user = await register_unlimited(settings)

    transport = httpx.ASGITransport(app=limited_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t/api") as c:
        body = {"user": {"email": user["email"], "password": "wrong password"}}
        rejected = [await c.post("/users/login", json=body) for _ in range(3)]

    assert [response.status_code for response in rejected] == [401, 401, 401]
    for response in rejected:
        assert len(response.headers.get_list("ratelimit-policy")) == 1
        assert '"login-account";q=3;w=60' in response.headers["ratelimit-policy"]
        assert len(response.headers.get_list("x-ratelimit-remaining")) == 1
    assert '"login-account";r=0;' in rejected[-1].headers["ratelimit"]
    assert rejected[-1].headers["x-ratelimit-limit"] == "3"
    assert rejected[-1].headers["x-ratelimit-remaining"] == "0"


async def test_login_attempts_limited_per_account(
    limited_app: FastAPI, settings: Settings
) -> None:
    """The fourth login attempt for one account gets 429, even if correct.

    The 429 carries each rate limit field of the middleware's 429 once,
    describing `login-account` alone.
    """
    user = await register_unlimited(settings)

    transport = httpx.ASGITransport(app=limited_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t/api") as c:
        body = {"user": {"email": user["email"], "password": "wrong password"}}
        wrong = [
            (await c.post("/users/login", json=body)).status_code for _ in range(3)
        ]
        body["user"]["password"] = PASSWORD
        fourth = await c.post("/users/login", json=body)

    assert wrong == [401, 401, 401]
    assert fourth.status_code == 429
    seconds = int(fourth.headers["retry-after"])
    # A sliding window may need part of the next window too: under two.
    assert 1 <= seconds <= 120
    assert fourth.json() == {
        "errors": {
            "rate_limit": [
                "too many login attempts for this account; "
                f"retry after {seconds} seconds"
            ]
        }
    }
    for name in (
        "ratelimit-policy",
        "ratelimit",
        "x-ratelimit-limit",
        "x-ratelimit-remaining",
        "x-ratelimit-reset",
        "retry-after",
    ):
        assert len(fourth.headers.get_list(name)) == 1, name
    assert fourth.headers["ratelimit-policy"] == '"login-account";q=3;w=60'
    assert fourth.headers["ratelimit"] == f'"login-account";r=0;t={seconds}'
    assert fourth.headers["x-ratelimit-limit"] == "3"
    assert fourth.headers["x-ratelimit-remaining"] == "0"
    assert fourth.headers["x-ratelimit-reset"] == str(seconds)


async def test_reload_changes_limit(
    limited_app: FastAPI, client: httpx.AsyncClient, limits_file: Path
) -> None:
    """A new limit in the file takes effect on reload, without a restart."""
    new_limits = LIMITS_FILE.replace('"5/minute"', '"50/minute"', 1)
    await asyncio.to_thread(limits_file.write_text, new_limits)
    limited_app.state.context.limiter.reload()

    statuses = {(await client.get("/api/tags")).status_code for _ in range(10)}

    assert statuses == {200}
