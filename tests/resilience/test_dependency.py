"""Dependency against a real faulty server: statuses, timeouts, cancellation."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import AsyncIterator, Iterator

import pytest

from livify.resilience import (
    Dependency,
    DependencyFailed,
    DependencyTimeout,
    DependencyUnavailable,
    RetryPolicy,
    Timeouts,
    deadline,
)
from tests.resilience.faulty_server import Fault, FaultyServer, running

NO_RETRY = RetryPolicy(max_attempts=1)


@pytest.fixture
def server() -> Iterator[FaultyServer]:
    with running() as faulty:
        yield faulty


@pytest.fixture
async def dependency(server: FaultyServer) -> AsyncIterator[Dependency]:
    async with Dependency(
        "search",
        base_url=server.url,
        timeouts=Timeouts(read_seconds=0.3),
        retry=NO_RETRY,
    ) as dep:
        yield dep


async def test_success_and_client_error_returned(
    server: FaultyServer, dependency: Dependency
) -> None:
    """2xx and 4xx responses come back to the caller as they are."""
    server.script(Fault(status=201), Fault(status=404))

    created = await dependency.request("POST", "/items", json={"name": "a"})
    missing = await dependency.request("GET", "/items/9")

    assert created.status_code == 201
    assert created.json() == {"ok": True}
    assert missing.status_code == 404


async def test_server_error_raises_dependency_failed(
    server: FaultyServer, dependency: Dependency
) -> None:
    """A 5xx response becomes DependencyFailed carrying its status."""
    server.set_default(Fault(status=502))

    with pytest.raises(DependencyFailed) as caught:
        await dependency.request("GET", "/items")

    assert caught.value.status_code == 502
    assert caught.value.dependency == "search"
    assert "GET /items" in str(caught.value)


async def test_connection_refused_raises_failed() -> None:
    """A port with no listener gives DependencyFailed without a status."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]

    async with Dependency("down", base_url=f"http://127.0.0.1:{port}") as dep:
        with pytest.raises(DependencyFailed) as caught:
            await dep.request("GET", "/")

    assert caught.value.status_code is None
    assert isinstance(caught.value, DependencyUnavailable)


async def test_read_timeout_fires_on_hang(
    server: FaultyServer, dependency: Dependency
) -> None:
    """A server that never responds causes DependencyTimeout after read_seconds."""
    server.set_default(Fault(hang=True))

    started = time.monotonic()
    with pytest.raises(DependencyTimeout, match="timed out: ReadTimeout"):
        await dependency.request("GET", "/slow")

    elapsed = time.monotonic() - started
    assert 0.25 <= elapsed < 1.5


async def test_deadline_ends_call_before_timeout(server: FaultyServer) -> None:
    """The caller's deadline ends an attempt long before the read timeout."""
    server.set_default(Fault(hang=True))

    async with Dependency("search", base_url=server.url) as dep:
        started = time.monotonic()
        with deadline(0.3), pytest.raises(DependencyTimeout, match="deadline"):
            await dep.request("GET", "/slow")

    elapsed = time.monotonic() - started
    assert 0.25 <= elapsed < 1.5
    assert server.request_count == 1


async def test_passed_deadline_sends_nothing(
    server: FaultyServer, dependency: Dependency
) -> None:
    """With no time left the call fails at once without a request."""
    with deadline(0.0), pytest.raises(DependencyTimeout):
        await dependency.request("GET", "/items")

    assert server.request_count == 0


async def test_pool_timeout_when_connections_taken(server: FaultyServer) -> None:
    """A call waiting longer than pool_seconds for a connection times out."""
    server.set_default(Fault(hang=True))
    timeouts = Timeouts(read_seconds=5.0, pool_seconds=0.2)
    async with Dependency(
        "search",
        base_url=server.url,
        timeouts=timeouts,
        retry=NO_RETRY,
        max_connections=1,
    ) as dep:
        holder = asyncio.create_task(dep.request("GET", "/hold"))
        assert await server.wait_until(lambda s: s.in_flight == 1)

        started = time.monotonic()
        with pytest.raises(DependencyTimeout, match="PoolTimeout"):
            await dep.request("GET", "/waits")

        assert time.monotonic() - started < 1.5
        holder.cancel()
        with pytest.raises(asyncio.CancelledError):
            await holder


async def test_cancelled_calls_release_connections(
    server: FaultyServer, dependency: Dependency
) -> None:
    """Cancelling callers closes their connections; the pool still works."""
    server.set_default(Fault(hang=True))
    tasks = [
        asyncio.create_task(dependency.request("GET", f"/hang/{index}"))
        for index in range(5)
    ]
    assert await server.wait_until(lambda s: s.open_connections == 5)

    for task in tasks:
        task.cancel()

    results = await asyncio.gather(*tasks, return_exceptions=True)
    assert all(isinstance(result, asyncio.CancelledError) for result in results)
    assert await server.wait_until(lambda s: s.open_connections == 0)

    server.set_default(Fault())
    response = await dependency.request("GET", "/after")
    assert response.status_code == 200
    assert dependency.bulkhead.in_use == 0


async def test_idempotency_key_sent_as_header(
    server: FaultyServer, dependency: Dependency
) -> None:
    """The idempotency key travels in the Idempotency-Key header."""
    await dependency.request("POST", "/items", idempotency_key="item:7:v1")

    assert server.requests[0].headers["idempotency-key"] == "item:7:v1"


async def test_closed_dependency_raises_runtime_error(server: FaultyServer) -> None:
    """A request after aclose() is a RuntimeError, not a network error."""
    dep = Dependency("search", base_url=server.url)
    await dep.aclose()

    with pytest.raises(RuntimeError, match="is closed"):
        await dep.request("GET", "/")

    assert dep.is_closed


def test_dependency_needs_name() -> None:
    """An empty name raises ValueError."""
    with pytest.raises(ValueError, match="non-empty name"):
        Dependency("", base_url="http://127.0.0.1:1")
