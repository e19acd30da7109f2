"""Fixtures for platform tests: cheap password hashing and an exposed app.

The shared `client` fixture hides the application. Tests that count SQL
statements, issue tokens or write rows directly use `app` and `app_client`,
which serve the same migrated app on the same backends.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from argon2 import PasswordHasher
from asgi_lifespan import LifespanManager
from fastapi import FastAPI

import livify.app
from livify.app import create_app
from livify.platform.security import PasswordHashing
from livify.settings import Settings


def _cheap_password_hashing() -> PasswordHashing:
    # The lowest cost argon2-cffi accepts (memory_cost is in KiB). A hash with
    # the default cost took about 0.15 s on a 2-core test machine, and the
    # concurrency tests register fifty users.
    return PasswordHashing(PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))


@pytest.fixture(autouse=True)
def _fast_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Build apps with a cheap argon2 hasher, so registering stays fast.

    `test_security.py` checks the hasher with its default cost.
    """
    monkeypatch.setattr(livify.app, "PasswordHashing", _cheap_password_hashing)


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[FastAPI]:
    """The application built from `settings`, with its lifespan running."""
    application = create_app(settings)
    async with LifespanManager(application):
        yield application


@pytest.fixture
async def app_client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """An in-process HTTP client for `app`, rooted at `/api`."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://testserver/api"
    ) as http:
        yield http
