"""Fixtures for platform tests: fast hashing and databases, and an exposed app.

The shared `client` fixture hides the application. Tests that count SQL
statements, issue tokens or write rows directly use `app` and `app_client`,
which serve the same migrated app on the same backends.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator, Iterator

import asyncpg  # type: ignore[import-untyped]  # asyncpg ships no type hints
import httpx
import pytest
from argon2 import PasswordHasher
from asgi_lifespan import LifespanManager
from fastapi import FastAPI

import livify.app
from livify.app import create_app
from livify.db import Database
from livify.platform import migrate
from livify.platform.security import PasswordHashing
from livify.settings import Settings, normalise_database_url
from tests.conftest import (
    POSTGRES_ADMIN_URL,
    create_postgres_database,
    drop_postgres_database,
)


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


async def _create_migrated_database() -> str:
    url = await create_postgres_database()
    database = Database(normalise_database_url(url))
    try:
        await migrate.upgrade(database)
    finally:
        await database.aclose()

    return url


@pytest.fixture(scope="session")
def _postgres_template() -> Iterator[str]:
    """Name of a PostgreSQL database migrated once per session, to clone per test."""
    # A session fixture cannot share the per-test event loops, so it runs its
    # own for setup and teardown.
    url = asyncio.run(_create_migrated_database())
    try:
        yield url.rpartition("/")[2]
    finally:
        asyncio.run(drop_postgres_database(url))


@pytest.fixture
async def postgres_url(_postgres_template: str) -> AsyncIterator[str]:
    """URL of a fresh, already migrated PostgreSQL database, dropped after the test.

    It replaces the shared fixture of the same name in this directory, because
    cloning a migrated template saves the migration run that each PostgreSQL
    test would otherwise pay when its app starts (about 0.3 s on a 2-core test
    machine).
    """
    name = f"livify_test_{secrets.token_hex(6)}"
    connection = await asyncpg.connect(POSTGRES_ADMIN_URL)
    try:
        await connection.execute(
            f'CREATE DATABASE "{name}" TEMPLATE "{_postgres_template}"'
        )
    finally:
        await connection.close()

    url = f"{POSTGRES_ADMIN_URL.rpartition('/')[0]}/{name}"
    try:
        yield url
    finally:
        await drop_postgres_database(url)


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
