"""Fixtures for the cache tests: an injected clock and both backends.

Each backend-dependent test runs on `memory://` (L1 alone) and on the Redis
server at 127.0.0.1:6379 that `scripts/ensure-redis.sh` starts. Every test
uses its own random key prefix and deletes its keys afterwards.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
import redis.asyncio as redis_asyncio

from livify.cache import LayeredCache
from tests.cache.helpers import FakeClock
from tests.cache.redis_server import RedisServer

REDIS_URL = "redis://127.0.0.1:6379/0"
CACHE_BACKENDS = ["memory", "redis"]


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(params=CACHE_BACKENDS)
def cache_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def cache_url(cache_backend: str) -> str:
    return "memory://" if cache_backend == "memory" else REDIS_URL


@pytest.fixture
async def key_prefix() -> AsyncIterator[str]:
    """A random Redis key prefix whose keys are deleted after the test."""
    prefix = f"livify-test:{secrets.token_hex(6)}:"
    yield prefix

    client = redis_asyncio.Redis.from_url(REDIS_URL)
    try:
        keys = [key async for key in client.scan_iter(match=f"{prefix}*", count=500)]
        if keys:
            await client.delete(*keys)
    finally:
        await client.aclose()


MakeLayers = Callable[..., Any]


@asynccontextmanager
async def layers_factory(
    url: str, key_prefix: str, clock: FakeClock
) -> AsyncIterator[MakeLayers]:
    created: list[LayeredCache] = []

    async def make(*, start: bool = True, **options: Any) -> LayeredCache:
        options.setdefault("key_prefix", key_prefix)
        options.setdefault("clock", clock)
        options.setdefault("random", lambda: 0.5)
        layers = LayeredCache(url, **options)
        created.append(layers)
        if start:
            await layers.start()
        return layers

    try:
        yield make
    finally:
        for layers in created:
            await layers.aclose()


@pytest.fixture
async def make_layers(
    cache_url: str, key_prefix: str, clock: FakeClock
) -> AsyncIterator[MakeLayers]:
    """Build started LayeredCache objects on the test's backend and prefix.

    Several of them share Redis like the processes of one deployment.
    Keyword arguments override the defaults, `start=False` leaves the
    listener off, and all are closed at the end.
    """
    async with layers_factory(cache_url, key_prefix, clock) as make:
        yield make


@pytest.fixture
async def make_redis_layers(
    key_prefix: str, clock: FakeClock
) -> AsyncIterator[MakeLayers]:
    """Like `make_layers`, always on Redis, for behaviour that needs L2."""
    async with layers_factory(REDIS_URL, key_prefix, clock) as make:
        yield make


@pytest.fixture
async def layers(make_layers: MakeLayers) -> LayeredCache:
    layers: LayeredCache = await make_layers()
    return layers


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[RedisServer]:
    """A started redis-server of this test's own, stopped at the end."""
    server = RedisServer(tmp_path)
    server.start()
    try:
        yield server
    finally:
        server.stop()
