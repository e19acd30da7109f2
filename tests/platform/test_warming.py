"""Cache warming: the hot reads are cached before the first caller asks."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI

from livify.app import create_app
from livify.settings import Settings
from tests.platform.helpers import auth, create_article, register
from tests.platform.inspection import StatementRecorder


async def prepare_store(settings: Settings) -> str:
    """Write an article and favorite it, in an app that then stops."""
    app = create_app(settings)
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://t/api"
        ) as client:
            author = await register(client)
            fan = await register(client)
            article = await create_article(client, author)
            await client.post(
                f"/articles/{article['slug']}/favorite", headers=auth(fan)
            )
    slug: str = article["slug"]
    return slug


@pytest.fixture
async def warmed(settings: Settings) -> AsyncIterator[tuple[FastAPI, str]]:
    slug = await prepare_store(settings)
    app = create_app(settings.model_copy(update={"warm_on_start": 10}))
    async with LifespanManager(app):
        yield app, slug


async def test_warm_on_start_fills_cache(warmed: tuple[FastAPI, str]) -> None:
    """After warm-on-start, the hottest article and the tags need no SQL."""
    app, slug = warmed
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://t/api"
    ) as client:
        with StatementRecorder(app) as recorder:
            article = await client.get(f"/articles/{slug}")
            tags = await client.get("/tags")

    assert article.status_code == 200
    assert tags.status_code == 200
    assert recorder.queries() == []
