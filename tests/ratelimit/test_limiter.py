"""The limiter's synchronous path gives the same verdicts and headers as `decide`."""

from __future__ import annotations

import pytest

from livify.ratelimit import (
    Decision,
    Limit,
    Policies,
    RateLimiter,
    Request,
    build_headers,
    default_limits,
)
from livify.ratelimit._headers import build_admitted_headers
from livify.ratelimit._redis import RedisStore
from tests.ratelimit.conftest import REDIS_URL, FakeClock

ALGORITHMS = ["fixed_window", "sliding_window", "gcra"]


class TwinClocks:
    """One fake clock per limiter, advanced together.

    Each limiter sleeps on its own clock, so a delay on one path does not
    move the other path's time.
    """

    def __init__(self) -> None:
        self.fast = FakeClock()
        self.slow = FakeClock()

    def advance(self, seconds: float) -> None:
        self.fast.advance(seconds)
        self.slow.advance(seconds)


def twin_limiters(policies: Policies) -> tuple[RateLimiter, RateLimiter, TwinClocks]:
    """Return two limiters on their own memory stores and clocks."""
    clocks = TwinClocks()
    fast = RateLimiter(policies, clock=clocks.fast, sleep=clocks.fast.sleep)
    slow = RateLimiter(policies, clock=clocks.slow, sleep=clocks.slow.sleep)
    return fast, slow, clocks


async def charge_both(
    fast: RateLimiter, slow: RateLimiter, request: Request
) -> tuple[list[tuple[bytes, bytes]], Decision]:
    """Charge `request` on both paths; return the fast headers and the decision."""
    decision = await slow.decide(request)
    charged = fast.charge_now(
        request.client_ip, request.method, request.path, request.user, request.tier
    )
    assert charged is not None
    if charged.is_allowed:
        return build_admitted_headers(charged), decision

    settled = await fast.settle(charged)
    assert settled == decision
    return build_headers(settled), decision


@pytest.mark.parametrize("algorithm", ALGORITHMS)
async def test_one_limit_matches_decide(algorithm: str) -> None:
    """With one limit, headers and verdicts match `decide` up to and past a block."""
    limit = Limit("api", 10, 60.0, key="ip", algorithm=algorithm)  # type: ignore[arg-type]
    fast, slow, clock = twin_limiters(Policies(limits=(limit,)))
    outcomes = []
    for step in range(30):
        clock.advance(0.4 if step % 4 else 3.1)
        headers, decision = await charge_both(fast, slow, Request("192.0.2.1"))
        outcomes.append(decision.outcome)

        assert headers == build_headers(decision), step

    assert {"allowed", "warned", "limited"} <= set(outcomes)


async def test_several_limits_match_decide() -> None:
    """A write meets two default limits; headers and verdicts match `decide`."""
    fast, slow, clock = twin_limiters(Policies())
    outcomes = []
    for step in range(120):
        clock.advance(0.1)
        request = Request("192.0.2.1", "POST", "/api/articles")
        headers, decision = await charge_both(fast, slow, request)
        outcomes.append(decision.outcome)

        assert len(decision.results) == 2, step
        assert headers == build_headers(decision), step

    assert {"allowed", "warned", "limited"} <= set(outcomes)


async def test_delayed_retry_matches_decide() -> None:
    """A rejection within `delay_max_seconds` waits and passes on both paths."""
    limit = Limit("api", 2, 10.0, key="ip", block_ratio=1.0, delay_max_seconds=30.0)
    fast, slow, clock = twin_limiters(Policies(limits=(limit,)))
    outcomes = []
    for _ in range(4):
        _, decision = await charge_both(fast, slow, Request("192.0.2.1"))
        outcomes.append(decision.outcome)

    assert outcomes == ["allowed", "warned", "delayed", "delayed"]
    assert clock.fast.slept == clock.slow.slept
    assert len(clock.fast.slept) == 2


async def test_exempt_shape_charges_nothing() -> None:
    """A request no limit applies to returns None and counts nowhere."""
    limit = Limit("writes", 1, 60.0, methods=("POST",))
    limiter = RateLimiter(Policies(limits=(limit,)), clock=FakeClock())

    assert limiter.charge_now("192.0.2.1", "GET", "/", None, "anonymous") is None
    assert len(limiter.store) == 0  # type: ignore[arg-type]


async def test_settle_rejects_admitted_result() -> None:
    """`settle` takes only rejected results; admitted ones are final already."""
    limiter = RateLimiter(Policies(limits=default_limits()), clock=FakeClock())
    charged = limiter.charge_now("192.0.2.1", "GET", "/", None, "anonymous")
    assert charged is not None

    with pytest.raises(ValueError, match="rejected"):
        await limiter.settle(charged)


async def test_charge_now_needs_memory_store() -> None:
    """A limiter on Redis is not synchronous and refuses `charge_now`."""
    limiter = RateLimiter(store=RedisStore(REDIS_URL))
    try:
        assert not limiter.is_synchronous
        with pytest.raises(RuntimeError, match="memory://"):
            limiter.charge_now("192.0.2.1", "GET", "/", None, "anonymous")
    finally:
        await limiter.aclose()
