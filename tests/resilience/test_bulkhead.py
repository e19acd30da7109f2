"""The bulkhead caps concurrent calls, alone and inside Dependency."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from livify.resilience import (
    Bulkhead,
    BulkheadFull,
    Dependency,
    DependencyUnavailable,
    deadline,
)
from tests.resilience.faulty_server import Fault, FaultyServer, running


@pytest.fixture
def server() -> Iterator[FaultyServer]:
    with running() as faulty:
        yield faulty


async def test_bulkhead_caps_concurrency_on_slow_server(server: FaultyServer) -> None:
    """Nine calls through three slots never put more than three on the server."""
    server.set_default(Fault(delay_seconds=0.1))
    bulkhead = Bulkhead(max_concurrent=3, max_wait_seconds=5.0)

    async with Dependency("search", base_url=server.url, bulkhead=bulkhead) as dep:
        responses = await asyncio.gather(
            *(dep.request("GET", f"/items/{index}") for index in range(9))
        )

    assert [response.status_code for response in responses] == [200] * 9
    assert server.max_in_flight == 3
    assert bulkhead.in_use == 0


async def test_full_bulkhead_rejects_after_wait(server: FaultyServer) -> None:
    """Calls that find no slot within max_wait_seconds raise BulkheadFull."""
    server.set_default(Fault(delay_seconds=0.5))
    bulkhead = Bulkhead(max_concurrent=2, max_wait_seconds=0.05)

    async with Dependency("search", base_url=server.url, bulkhead=bulkhead) as dep:
        results = await asyncio.gather(
            *(dep.request("GET", "/items") for _ in range(6)),
            return_exceptions=True,
        )

    rejected = [result for result in results if isinstance(result, BulkheadFull)]
    assert len(rejected) == 4
    assert all(isinstance(error, DependencyUnavailable) for error in rejected)
    assert rejected[0].dependency == "search"
    assert server.request_count == 2


async def test_zero_wait_fails_at_once() -> None:
    """With max_wait_seconds=0 a call that finds all slots taken fails at once."""
    bulkhead = Bulkhead(max_concurrent=1, max_wait_seconds=0.0, name="db")

    async with bulkhead.slot():
        with pytest.raises(BulkheadFull, match="all 1 slots"):
            async with bulkhead.slot():
                pass

    async with bulkhead.slot():
        assert bulkhead.in_use == 1


async def test_wait_bounded_by_deadline() -> None:
    """A short caller deadline cuts the wait for a slot."""
    bulkhead = Bulkhead(max_concurrent=1, max_wait_seconds=30.0)

    async with bulkhead.slot():
        started = asyncio.get_running_loop().time()
        with deadline(0.05), pytest.raises(BulkheadFull):
            async with bulkhead.slot():
                pass

    assert asyncio.get_running_loop().time() - started < 1.0


def test_bulkhead_rejects_invalid_options() -> None:
    """A non-positive slot count or negative wait raises ValueError."""
    with pytest.raises(ValueError, match="max_concurrent must be positive"):
        Bulkhead(max_concurrent=0)

    with pytest.raises(ValueError, match="max_wait_seconds must be zero or"):
        Bulkhead(max_wait_seconds=-1.0)
