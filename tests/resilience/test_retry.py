"""Retries against a real faulty server: when, how long, and how many."""

from __future__ import annotations

import asyncio
import email.utils
import statistics
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from livify.resilience import (
    CircuitBreaker,
    Dependency,
    DependencyFailed,
    DependencyTimeout,
    RetryBudget,
    RetryPolicy,
    deadline,
    parse_retry_after,
)
from tests.resilience.faulty_server import Fault, FaultyServer, running


class RecordingSleep:
    """An async sleep that records each delay and returns at once."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)
        await asyncio.sleep(0)


@pytest.fixture
def server() -> Iterator[FaultyServer]:
    with running() as faulty:
        yield faulty


def make_dependency(
    server: FaultyServer,
    sleep: RecordingSleep,
    *,
    retry: RetryPolicy | None = None,
    retry_budget: RetryBudget | None = None,
) -> Dependency:
    return Dependency(
        "search",
        base_url=server.url,
        retry=retry or RetryPolicy(max_attempts=3),
        retry_budget=retry_budget,
        # These tests fail hundreds of calls and look at retries alone.
        breaker=CircuitBreaker(window_size=1000, minimum_calls=1000),
        sleep=sleep,
    )


@pytest.mark.parametrize("method", ["GET", "HEAD", "OPTIONS", "PUT", "DELETE"])
async def test_idempotent_methods_are_retried(
    server: FaultyServer, method: str
) -> None:
    """Idempotent methods get max_attempts attempts against a failing server."""
    server.set_default(Fault(status=503))
    sleep = RecordingSleep()

    async with make_dependency(server, sleep) as dep:
        with pytest.raises(DependencyFailed):
            await dep.request(method, "/items/1")

    assert server.request_count == 3
    assert len(sleep.delays) == 2


@pytest.mark.parametrize("method", ["POST", "PATCH"])
async def test_unsafe_method_sent_once(server: FaultyServer, method: str) -> None:
    """Without an idempotency key a POST or PATCH is never repeated."""
    server.set_default(Fault(status=503))
    sleep = RecordingSleep()

    async with make_dependency(server, sleep) as dep:
        with pytest.raises(DependencyFailed):
            await dep.request(method, "/items", json={"title": "x"})

    assert server.request_count == 1
    assert sleep.delays == []


async def test_idempotency_key_allows_post_retry(server: FaultyServer) -> None:
    """A POST with an idempotency key is retried with the same key."""
    server.script(Fault(status=500), Fault(status=502))
    sleep = RecordingSleep()

    async with make_dependency(server, sleep) as dep:
        response = await dep.request(
            "POST", "/moderate", json={"text": "hi"}, idempotency_key="post:1:v2"
        )

    assert response.status_code == 200
    keys = [request.headers["idempotency-key"] for request in server.requests]
    assert keys == ["post:1:v2"] * 3


async def test_client_error_is_not_retried(server: FaultyServer) -> None:
    """A 4xx other than 429 is a final response, so it is not retried."""
    server.set_default(Fault(status=422))

    async with make_dependency(server, RecordingSleep()) as dep:
        response = await dep.request("GET", "/items")

    assert response.status_code == 422
    assert server.request_count == 1


async def test_retry_after_seconds_sets_delay(server: FaultyServer) -> None:
    """A 503 with Retry-After: 2 waits 2 s, not the shorter backoff."""
    server.script(Fault(status=503, retry_after="2"))
    sleep = RecordingSleep()
    retry = RetryPolicy(wait_initial_seconds=0.01, wait_max_seconds=0.05)

    async with make_dependency(server, sleep, retry=retry) as dep:
        response = await dep.request("GET", "/items")

    assert response.status_code == 200
    assert sleep.delays == [2.0]


async def test_retry_after_date_sets_delay(server: FaultyServer) -> None:
    """A 429 with an HTTP-date Retry-After waits until about that date."""
    when = datetime.now(UTC) + timedelta(seconds=4)
    server.script(
        Fault(status=429, retry_after=email.utils.format_datetime(when, usegmt=True))
    )
    sleep = RecordingSleep()
    retry = RetryPolicy(wait_initial_seconds=0.01, wait_max_seconds=0.05)

    async with make_dependency(server, sleep, retry=retry) as dep:
        response = await dep.request("GET", "/items")

    assert response.status_code == 200
    assert len(sleep.delays) == 1
    # The date has one-second resolution.
    assert 2.5 <= sleep.delays[0] <= 4.0


async def test_long_retry_after_returns_response(server: FaultyServer) -> None:
    """A 429 asking for more than retry_after_max_seconds comes back at once."""
    server.set_default(Fault(status=429, retry_after="120"))
    sleep = RecordingSleep()

    async with make_dependency(server, sleep) as dep:
        response = await dep.request("GET", "/items")

    assert response.status_code == 429
    assert server.request_count == 1
    assert sleep.delays == []


async def test_retry_after_past_deadline_stops(server: FaultyServer) -> None:
    """No retry starts when Retry-After ends after the caller's deadline."""
    server.set_default(Fault(status=503, retry_after="2"))
    sleep = RecordingSleep()

    async with make_dependency(server, sleep) as dep:
        with deadline(1.0), pytest.raises(DependencyFailed):
            await dep.request("GET", "/items")

    assert server.request_count == 1
    assert sleep.delays == []


async def test_backoff_never_sleeps_past_deadline(server: FaultyServer) -> None:
    """With real sleeps, retries stop before the deadline instead of after."""
    server.set_default(Fault(status=503))
    retry = RetryPolicy(max_attempts=50, wait_initial_seconds=0.1, wait_max_seconds=0.1)

    async with Dependency(
        "search", base_url=server.url, retry=retry, retry_budget=None
    ) as dep:
        started = time.monotonic()
        with deadline(0.4), pytest.raises((DependencyFailed, DependencyTimeout)):
            await dep.request("GET", "/items")

    assert time.monotonic() - started < 0.4 + 0.3
    assert 2 <= server.request_count < 50


async def test_budget_caps_retries_in_outage(server: FaultyServer) -> None:
    """With a 10% budget, 50 failing calls cause at most 5 retries."""
    server.set_default(Fault(status=503))
    budget = RetryBudget(ratio=0.1, min_retries_per_second=0.0)

    async with make_dependency(server, RecordingSleep(), retry_budget=budget) as dep:
        for _ in range(50):
            with pytest.raises(DependencyFailed):
                await dep.request("GET", "/items")

    assert 50 < server.request_count <= 55


async def test_no_budget_retries_every_call(server: FaultyServer) -> None:
    """Without a budget every failing call uses all its attempts."""
    server.set_default(Fault(status=503))

    async with make_dependency(server, RecordingSleep()) as dep:
        for _ in range(10):
            with pytest.raises(DependencyFailed):
                await dep.request("GET", "/items")

    assert server.request_count == 30


async def test_jitter_spreads_backoff_delays(server: FaultyServer) -> None:
    """Full jitter draws delays across [0, window], growing per attempt."""
    server.set_default(Fault(status=503))
    sleep = RecordingSleep()
    retry = RetryPolicy(wait_initial_seconds=1.0, wait_max_seconds=10.0)

    async with make_dependency(server, sleep, retry=retry) as dep:
        for _ in range(100):
            with pytest.raises(DependencyFailed):
                await dep.request("GET", "/items")

    first = sleep.delays[0::2]
    second = sleep.delays[1::2]
    assert len(first) == len(second) == 100
    assert all(0.0 <= delay <= 1.0 for delay in first)
    assert all(0.0 <= delay <= 2.0 for delay in second)
    # A uniform draw on [0, 1] has a standard deviation near 0.29, so
    # 0.15 fails only if the delays bunch together.
    assert statistics.stdev(first) > 0.15
    assert max(second) > 1.0
    assert len({round(delay, 2) for delay in first}) > 30


async def test_jitter_spreads_real_attempt_times(server: FaultyServer) -> None:
    """Clients failing together send their retries at different times."""
    server.script(*[Fault(status=503)] * 20)
    retry = RetryPolicy(max_attempts=2, wait_initial_seconds=0.3)
    async with Dependency(
        "search", base_url=server.url, retry=retry, retry_budget=None
    ) as dep:
        await asyncio.gather(*(dep.request("GET", "/items") for _ in range(20)))

    retries = sorted(request.received_at for request in server.requests[20:])
    assert len(retries) == 20
    assert retries[-1] - retries[0] > 0.1


@pytest.mark.parametrize(
    ("value", "expected"),
    [("7", 7.0), (" 0 ", 0.0), ("soon", None), ("-3", None), ("1.5", None)],
)
def test_parse_retry_after_seconds(value: str, expected: float | None) -> None:
    """Retry-After seconds are a non-negative integer; anything else is None."""
    assert parse_retry_after(value, now=datetime.now(UTC)) == expected


def test_parse_retry_after_http_date() -> None:
    """An HTTP date gives the seconds until it, and 0.0 once it has passed."""
    now = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)

    assert parse_retry_after("Sun, 01 Mar 2026 12:00:30 GMT", now=now) == 30.0
    assert parse_retry_after("Sun, 01 Mar 2026 11:00:00 GMT", now=now) == 0.0


def test_policy_rejects_invalid_values() -> None:
    """Zero attempts and a shrinking backoff raise ValueError."""
    with pytest.raises(ValueError, match="max_attempts must be positive"):
        RetryPolicy(max_attempts=0)

    with pytest.raises(ValueError, match="wait_exp_base must be 1 or more"):
        RetryPolicy(wait_exp_base=0.5)
