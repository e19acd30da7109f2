"""Load shedding and deadlines in front of the API, with test-only slow routes."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from sqlalchemy import func, insert, select

from livify.app import create_app
from livify.db import Database
from livify.platform.tables import tags
from livify.settings import Settings

DEADLINE_SECONDS = 0.3


class SlowRoutes:
    """Test-only routes: a write that never finishes, a quick one, a gated read."""

    def __init__(self, app: FastAPI) -> None:
        self.database: Database = app.state.context.database
        self.tag = f"slow-{secrets.token_hex(4)}"
        self.gate = asyncio.Event()
        self.read_started = asyncio.Event()
        self.write_cancelled = asyncio.Event()
        app.router.add_api_route("/test/slow-write", self.write, methods=["POST"])
        app.router.add_api_route("/test/slow-read", self.read, methods=["GET"])
        app.router.add_api_route("/test/quick-write", self.quick, methods=["POST"])

    async def write(self) -> dict[str, Any]:
        try:
            async with self.database.write() as connection:
                await connection.execute(insert(tags).values(name=self.tag))
                await asyncio.sleep(60)
        except asyncio.CancelledError:
            self.write_cancelled.set()
            raise
        return {}

    async def quick(self) -> dict[str, Any]:
        async with self.database.write() as connection:
            await connection.execute(insert(tags).values(name=self.tag))
        return {}

    async def read(self) -> dict[str, Any]:
        self.read_started.set()
        await self.gate.wait()
        return {}

    async def count_tag_rows(self) -> int:
        async with self.database.read() as connection:
            query = select(func.count()).where(tags.c.name == self.tag)
            return int((await connection.execute(query)).scalar_one())


@pytest.fixture
async def protected(
    settings: Settings,
) -> AsyncIterator[tuple[httpx.AsyncClient, SlowRoutes]]:
    """The app with a short deadline and a limit of one request at a time."""
    settings = settings.model_copy(
        update={
            "request_read_timeout_seconds": 5.0,
            "request_write_timeout_seconds": DEADLINE_SECONDS,
            "shedding_enabled": True,
            "shedding_initial_limit": 1,
            "shedding_min_limit": 1,
            "shedding_max_limit": 1,
            "shedding_queue_size": 0,
            "shedding_retry_after_seconds": 3,
        }
    )
    app = create_app(settings)
    routes = SlowRoutes(app)
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://testserver"
        ) as http:
            yield http, routes


async def test_deadline_answers_504_and_rolls_back(
    protected: tuple[httpx.AsyncClient, SlowRoutes],
) -> None:
    """A write past its deadline gets 504, its row is gone, its connection free."""
    client, routes = protected

    response = await client.post("/test/slow-write")

    assert response.status_code == 504
    assert response.headers["cache-control"] == "no-store"
    assert response.json() == {
        "errors": {"request": [f"did not finish within {DEADLINE_SECONDS:g} seconds"]}
    }
    assert routes.write_cancelled.is_set()
    assert await routes.count_tag_rows() == 0
    for pool, stats in routes.database.pool_stats().items():
        assert stats["checked_out"] == 0, pool


async def test_write_works_after_deadline(
    protected: tuple[httpx.AsyncClient, SlowRoutes],
) -> None:
    """After a cancelled write, the next write gets the connection and succeeds."""
    client, routes = protected
    await client.post("/test/slow-write")

    response = await client.post("/test/quick-write")

    assert response.status_code == 200, response.text
    assert await routes.count_tag_rows() == 1


async def test_busy_server_sheds_in_error_format(
    protected: tuple[httpx.AsyncClient, SlowRoutes],
) -> None:
    """With the one slot busy, a request gets 503, Retry-After and an API error."""
    client, routes = protected
    slow = asyncio.create_task(client.get("/test/slow-read"))
    await routes.read_started.wait()

    shed = await client.get("/api/tags")
    health = await client.get("/livez")
    routes.gate.set()
    admitted = await slow

    assert admitted.status_code == 200
    assert shed.status_code == 503
    assert shed.headers["retry-after"] == "3"
    assert shed.headers["cache-control"] == "no-store"
    assert shed.json() == {
        "errors": {"server": ["is overloaded, retry after 3 seconds"]}
    }
    assert health.status_code == 200


async def test_busy_server_still_answers_cache_hits(
    protected: tuple[httpx.AsyncClient, SlowRoutes],
) -> None:
    """A response-cache hit uses no slot, so shedding never refuses it."""
    client, routes = protected
    cached = await client.get("/api/tags")
    slow = asyncio.create_task(client.get("/test/slow-read"))
    await routes.read_started.wait()

    hit = await client.get("/api/tags")
    shed = await client.get("/api/tags?fresh=1")
    routes.gate.set()
    await slow

    assert cached.status_code == 200
    assert hit.status_code == 200
    assert hit.json() == cached.json()
    assert shed.status_code == 503
