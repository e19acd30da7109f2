"""Fixtures that run a real `livify serve` process on each store."""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import BACKENDS, create_postgres_database, drop_postgres_database
from tests.live.server import LiveServer, start_live_server

REPO_ROOT = Path(__file__).resolve().parents[2]


def is_ci() -> bool:
    """Return True under CI, where a missing tool fails a test instead of skipping."""
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def require_tool(path: str | None, name: str, hint: str) -> str:
    """Return `path`, or fail the test under CI and skip it elsewhere."""
    if path is not None:
        return path

    msg = f"{name} not found; {hint}"
    if is_ci():
        pytest.fail(msg)
    pytest.skip(msg)


def find_executable(name: str, *candidates: Path) -> str | None:
    """Return the first existing candidate, else `name` looked up on PATH."""
    for candidate in candidates:
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)

    return shutil.which(name)


@pytest.fixture(params=BACKENDS)
def live_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def live_database_url(live_backend: str) -> Iterator[str | None]:
    """None for the embedded SQLite file, else a throwaway PostgreSQL database."""
    if live_backend == "sqlite":
        yield None
        return

    url = asyncio.run(create_postgres_database())
    try:
        yield url
    finally:
        asyncio.run(drop_postgres_database(url))


@pytest.fixture
def live_server(live_database_url: str | None, tmp_path: Path) -> Iterator[LiveServer]:
    """A `livify serve` process on a free loopback port, stopped by SIGTERM."""
    server = start_live_server(tmp_path / "data", live_database_url)
    try:
        yield server
    finally:
        server.stop()
