"""ResilienceMetrics records what calls to a real faulty server did."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from prometheus_client import CollectorRegistry

from livify.resilience import (
    Bulkhead,
    BulkheadFull,
    CircuitBreaker,
    CircuitOpen,
    Dependency,
    DependencyFailed,
    ResilienceMetrics,
    RetryBudget,
    RetryPolicy,
)
from tests.resilience.faulty_server import Fault, FaultyServer, running


async def no_sleep(seconds: float) -> None:
    await asyncio.sleep(0)


@pytest.fixture
def server() -> Iterator[FaultyServer]:
    with running() as faulty:
        yield faulty


def sample(registry: CollectorRegistry, name: str, **labels: str) -> float:
    value = registry.get_sample_value(name, {"dependency": "search", **labels})
    return 0.0 if value is None else value


async def test_metrics_count_outcomes_and_retries(server: FaultyServer) -> None:
    """Calls by outcome, retries, budget rejections and durations are recorded."""
    registry = CollectorRegistry()
    server.script(Fault(status=200), Fault(status=404))
    server.set_default(Fault(status=503))

    async with Dependency(
        "search",
        base_url=server.url,
        retry=RetryPolicy(max_attempts=2),
        retry_budget=RetryBudget(ratio=0.0, min_retries_per_second=0.1),
        hooks=ResilienceMetrics(registry),
        sleep=no_sleep,
    ) as dep:
        await dep.request("GET", "/ok")
        await dep.request("GET", "/missing")
        for _ in range(2):
            with pytest.raises(DependencyFailed):
                await dep.request("GET", "/down")

    calls = "livify_dependency_calls_total"
    assert sample(registry, calls, outcome="success") == 1
    assert sample(registry, calls, outcome="client_error") == 1
    assert sample(registry, calls, outcome="failed") == 2
    assert sample(registry, "livify_dependency_retries_total") == 1
    assert sample(registry, "livify_dependency_retries_rejected_total") == 1
    assert sample(registry, "livify_dependency_call_duration_seconds_count") == 4
    assert sample(registry, "livify_dependency_breaker_state") == 0


async def test_metrics_track_breaker_and_bulkhead(server: FaultyServer) -> None:
    """Breaker state, transitions and bulkhead rejections are recorded."""
    registry = CollectorRegistry()
    server.set_default(Fault(status=500, delay_seconds=0.2))

    async with Dependency(
        "search",
        base_url=server.url,
        retry=RetryPolicy(max_attempts=1),
        breaker=CircuitBreaker(window_size=2, minimum_calls=2),
        bulkhead=Bulkhead(max_concurrent=2, max_wait_seconds=0.0),
        hooks=ResilienceMetrics(registry),
    ) as dep:
        results = await asyncio.gather(
            *(dep.request("GET", "/down") for _ in range(3)), return_exceptions=True
        )
        assert sum(isinstance(result, BulkheadFull) for result in results) == 1
        with pytest.raises(CircuitOpen):
            await dep.request("GET", "/down")

    calls = "livify_dependency_calls_total"
    assert sample(registry, calls, outcome="bulkhead_full") == 1
    assert sample(registry, calls, outcome="failed") == 2
    assert sample(registry, calls, outcome="circuit_open") == 1
    assert sample(registry, "livify_dependency_bulkhead_rejections_total") == 1
    assert sample(registry, "livify_dependency_breaker_state") == 2
    transitions = "livify_dependency_breaker_transitions_total"
    assert sample(registry, transitions, state="open") == 1
