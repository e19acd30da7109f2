"""Fixtures shared by every test: stores, settings, the app and its client.

Each backend-dependent test runs on the embedded SQLite file and on a
throwaway PostgreSQL database. The PostgreSQL server comes from
`LIVIFY_TEST_POSTGRES_URL` (default: the local server on 127.0.0.1:5432);
`.ci/run` starts one when none is running.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import httpx
import pytest
from asgi_lifespan import LifespanManager

from livify.app import create_app
from livify.settings import Settings

POSTGRES_ADMIN_URL = os.environ.get(
    "LIVIFY_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


async def create_postgres_database() -> str:
    """Create an empty database with a random name and return its URL."""
    name = f"livify_test_{secrets.token_hex(6)}"
    connection = await asyncpg.connect(POSTGRES_ADMIN_URL)
    try:
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()

    base, _, _ = POSTGRES_ADMIN_URL.rpartition("/")
    return f"{base}/{name}"


async def drop_postgres_database(url: str) -> None:
    name = url.rpartition("/")[2]
    connection = await asyncpg.connect(POSTGRES_ADMIN_URL)
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await connection.close()


@pytest.fixture
async def postgres_url() -> AsyncIterator[str]:
    """URL of a fresh PostgreSQL database, dropped after the test."""
    url = await create_postgres_database()
    try:
        yield url
    finally:
        await drop_postgres_database(url)


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def database_url(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    if backend == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'livify.sqlite3'}"

    url: str = request.getfixturevalue("postgres_url")
    return url


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        data_dir=tmp_path / "data",
        database_url=database_url,
        secret_key="test-secret-key-" + "x" * 32,
        # Tests send far more requests from one address than the default
        # limits allow; the rate-limit tests turn limiting back on.
        ratelimit_enabled=False,
        # Concurrency tests fire bursts of writes that load shedding would
        # partly refuse; tests/resilience and tests/live test shedding.
        shedding_enabled=False,
    )


@pytest.fixture
async def client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client wired to a freshly migrated app, in-process."""
    app = create_app(settings)
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://testserver/api"
        ) as http:
            yield http


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Keep the developer's LIVIFY_* variables out of tests."""
    for name in list(os.environ):
        if name.startswith("LIVIFY_") and name != "LIVIFY_TEST_POSTGRES_URL":
            monkeypatch.delenv(name)
    yield
