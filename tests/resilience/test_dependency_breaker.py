"""The breaker inside Dependency against a real faulty server."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from livify.resilience import (
    CircuitBreaker,
    CircuitOpen,
    CircuitState,
    Dependency,
    DependencyFailed,
    RetryPolicy,
)
from tests.resilience.fakes import FakeClock
from tests.resilience.faulty_server import Fault, FaultyServer, running


@pytest.fixture
def server() -> Iterator[FaultyServer]:
    with running() as faulty:
        yield faulty


def make_dependency(server: FaultyServer, breaker: CircuitBreaker) -> Dependency:
    return Dependency(
        "moderation",
        base_url=server.url,
        retry=RetryPolicy(max_attempts=1),
        breaker=breaker,
    )


async def call_many(dep: Dependency, count: int) -> list[object]:
    """Send `count` GETs one after another; return responses or errors."""
    results: list[object] = []
    for index in range(count):
        try:
            results.append(await dep.request("GET", f"/check/{index}"))
        except (DependencyFailed, CircuitOpen) as error:
            results.append(error)

    return results


async def open_breaker(server: FaultyServer, dep: Dependency) -> None:
    server.set_default(Fault(status=500))
    await call_many(dep, dep.breaker.window_size)
    assert dep.breaker.state is CircuitState.OPEN


async def test_breaker_opens_at_failure_threshold(server: FaultyServer) -> None:
    """Four failures in ten keep it closed; the fifth opens it."""
    breaker = CircuitBreaker(window_size=10, minimum_calls=10, clock=FakeClock())
    server.script(*[Fault(status=200)] * 6, *[Fault(status=500)] * 4)

    async with make_dependency(server, breaker) as dep:
        await call_many(dep, 10)
        assert breaker.state is CircuitState.CLOSED

        server.script(Fault(status=503))
        await call_many(dep, 1)
        assert breaker.state is CircuitState.OPEN


async def test_breaker_opens_on_slow_calls(server: FaultyServer) -> None:
    """Successful but slow responses open the breaker at the slow-call rate."""
    breaker = CircuitBreaker(
        window_size=4,
        minimum_calls=4,
        slow_call_seconds=0.1,
        slow_call_rate_threshold=0.75,
    )
    server.script(Fault(), *[Fault(delay_seconds=0.15)] * 3)

    async with make_dependency(server, breaker) as dep:
        results = await call_many(dep, 4)

    assert all(getattr(result, "status_code", None) == 200 for result in results)
    assert breaker.state is CircuitState.OPEN


async def test_open_breaker_sends_nothing(server: FaultyServer) -> None:
    """While open, calls fail fast and no request reaches the server."""
    breaker = CircuitBreaker(window_size=5, minimum_calls=5, clock=FakeClock())

    async with make_dependency(server, breaker) as dep:
        await open_breaker(server, dep)
        received = server.request_count
        results = await call_many(dep, 20)

    assert all(isinstance(result, CircuitOpen) for result in results)
    assert server.request_count == received


async def test_half_open_lets_exact_probes_through(server: FaultyServer) -> None:
    """Of ten concurrent calls in half-open, exactly the probes are sent."""
    clock = FakeClock()
    breaker = CircuitBreaker(
        window_size=5,
        minimum_calls=5,
        open_seconds=30.0,
        half_open_probes=3,
        clock=clock,
    )

    async with make_dependency(server, breaker) as dep:
        await open_breaker(server, dep)
        received = server.request_count
        clock.advance(30.0)
        server.set_default(Fault(delay_seconds=0.2))
        results = await asyncio.gather(
            *(dep.request("GET", "/probe") for _ in range(10)),
            return_exceptions=True,
        )

        rejected = [result for result in results if isinstance(result, CircuitOpen)]
        assert len(rejected) == 7
        assert server.request_count - received == 3
        assert server.max_in_flight == 3
        assert breaker.state is CircuitState.CLOSED

        response = await dep.request("GET", "/after")
        assert response.status_code == 200


async def test_failed_probe_reopens_breaker(server: FaultyServer) -> None:
    """A probe that gets a 5xx opens the breaker again at once."""
    clock = FakeClock()
    breaker = CircuitBreaker(
        window_size=5, minimum_calls=5, open_seconds=30.0, clock=clock
    )

    async with make_dependency(server, breaker) as dep:
        await open_breaker(server, dep)
        clock.advance(30.0)
        results = await call_many(dep, 3)

    assert isinstance(results[0], DependencyFailed)
    assert all(isinstance(result, CircuitOpen) for result in results[1:])
    assert breaker.state is CircuitState.OPEN


async def test_too_many_requests_counts_as_failure(server: FaultyServer) -> None:
    """A 429 is returned to the caller and still counts against the breaker."""
    breaker = CircuitBreaker(window_size=3, minimum_calls=3, clock=FakeClock())
    server.set_default(Fault(status=429))

    async with make_dependency(server, breaker) as dep:
        results = await call_many(dep, 4)

    statuses = [getattr(result, "status_code", None) for result in results[:3]]
    assert statuses == [429, 429, 429]
    assert isinstance(results[3], CircuitOpen)
