"""Measure the rate limiter's CPU cost per request and per decision.

Printed side by side, from interleaved rounds so that every case runs
under the same machine load:

- CPU time per request of a bare ASGI app, alone and behind
  `RateLimitMiddleware` with each algorithm on `memory://` and on Redis,
  with the ratio to the bare app; the memory store also with the
  Prometheus hooks the application wires; and the application's default
  policy set (`default_limits()`, which an anonymous GET meets through one
  limit) on memory, without and with those hooks;
- CPU time per decision of `RateLimiter.decide` for each algorithm on each
  store, and the same decisions in the `limits` library (fixed window and
  sliding window counter; it has no token bucket) on its memory and
  redis-py storages, as a reference.

Times are `time.thread_time()`: CPU time of this thread only, which other
processes on a shared machine disturb less than wall-clock time does. For
Redis that leaves out the wait for the server's reply, so a Redis row is
the client's own work, not the latency of a round trip. Every limit is
high enough that no request is rejected: the single-limit rows use a
quota of 10,000,000 a minute, and the default-policy rows multiply every
default limit by 100,000 through `Policies(multiplier=...)`, which keeps
their names, keys, algorithms and tiers.

Run: .venv/bin/python bench/ratelimit_cost.py [--rounds 5 --requests 5000]
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _bare_app import app as bare_app
from asgi_driver import get
from cache_layers import delete_prefix
from prometheus_client import CollectorRegistry

from livify.ratelimit import (
    ClientIP,
    Limit,
    Policies,
    RateLimiter,
    RateLimitMetrics,
    RateLimitMiddleware,
    Request,
)
from livify.ratelimit._redis import RedisStore

ALGORITHMS = ("fixed_window", "sliding_window", "gcra")
LIMITS_STRATEGIES = {
    "fixed_window": "FixedWindowRateLimiter",
    "sliding_window": "SlidingWindowCounterRateLimiter",
}
# High enough that no request is rejected during a run.
QUOTA = 10_000_000
DEFAULT_POLICY_MULTIPLIER = 100_000.0
WARMUP_CALLS = 200

Call = Callable[[], Awaitable[Any]]


async def cpu_seconds_per_call(count: int, call: Call) -> float:
    """Return the mean CPU seconds of this thread per call over `count` calls."""
    for _ in range(WARMUP_CALLS):
        await call()

    started = time.thread_time()
    for _ in range(count):
        await call()
    return (time.thread_time() - started) / count


def make_limiter(
    algorithm: str, store: Any, prefix: str, registry: CollectorRegistry | None = None
) -> RateLimiter:
    limit = Limit("bench", QUOTA, 60.0, algorithm=algorithm)  # type: ignore[arg-type]
    hooks = RateLimitMetrics(registry) if registry is not None else None
    return RateLimiter(
        Policies(limits=(limit,)), store=store, key_prefix=prefix, hooks=hooks
    )


def make_default_policy_limiter(
    prefix: str, registry: CollectorRegistry | None = None
) -> RateLimiter:
    """Build the application's default limits on memory, raised so none rejects."""
    hooks = RateLimitMetrics(registry) if registry is not None else None
    return RateLimiter(
        Policies(multiplier=DEFAULT_POLICY_MULTIPLIER),
        store="memory://",
        key_prefix=prefix,
        hooks=hooks,
    )


def make_middleware(limiter: RateLimiter) -> RateLimitMiddleware:
    return RateLimitMiddleware(
        bare_app,
        limiter=limiter,
        client_ip=ClientIP(trusted_proxies=[]),
        identify=lambda scope: None,
    )


def make_limits_cases(redis_url: str, prefix: str) -> dict[str, Call]:
    """Build the `limits` library's decisions, or none when it is not installed."""
    try:
        from limits import RateLimitItemPerMinute, aio
        from limits.aio import strategies
    except ImportError:
        return {}

    item = RateLimitItemPerMinute(QUOTA)
    cases: dict[str, Call] = {}
    storages = {
        "memory": aio.storage.MemoryStorage(),
        "redis": aio.storage.RedisStorage(
            f"async+{redis_url}", implementation="redispy", key_prefix=prefix
        ),
    }
    for algorithm, strategy_name in LIMITS_STRATEGIES.items():
        for store_name, storage in storages.items():
            strategy = getattr(strategies, strategy_name)(storage)

            async def hit(strategy: Any = strategy) -> Any:
                return await strategy.hit(item, "bench", "192.0.2.1")

            cases[f"limits {algorithm} {store_name}"] = hit
    return cases


async def run(rounds: int, requests: int, decisions: int, redis_url: str) -> None:
    prefix = f"livify-bench:{secrets.token_hex(4)}:"
    limiters: dict[str, RateLimiter] = {}
    for algorithm in ALGORITHMS:
        limiters[f"{algorithm} memory"] = make_limiter(algorithm, "memory://", prefix)
        limiters[f"{algorithm} redis"] = make_limiter(
            algorithm, RedisStore(redis_url, timeout_seconds=1.0), prefix
        )
    with_metrics = make_limiter(
        "sliding_window", "memory://", prefix, CollectorRegistry()
    )
    default_policies = make_default_policy_limiter(prefix)
    default_with_metrics = make_default_policy_limiter(prefix, CollectorRegistry())
    extra_limiters = [with_metrics, default_policies, default_with_metrics]

    apps: dict[str, Any] = {"bare app": bare_app}
    for name, limiter in limiters.items():
        apps[f"middleware {name}"] = make_middleware(limiter)
    apps["middleware sliding_window memory + metrics"] = make_middleware(with_metrics)
    apps["middleware default policies memory"] = make_middleware(default_policies)
    apps["middleware default policies memory + metrics"] = make_middleware(
        default_with_metrics
    )
    request_cases: dict[str, Call] = {
        name: (lambda app=app: get(app, "/api/tags")) for name, app in apps.items()
    }

    request = Request("192.0.2.1")
    decision_cases: dict[str, Call] = {
        name: (lambda limiter=limiter: limiter.decide(request))
        for name, limiter in limiters.items()
    }
    decision_cases.update(make_limits_cases(redis_url, prefix))

    request_samples: dict[str, list[float]] = {name: [] for name in request_cases}
    decision_samples: dict[str, list[float]] = {name: [] for name in decision_cases}
    try:
        for _ in range(rounds):
            for name, call in request_cases.items():
                request_samples[name].append(await cpu_seconds_per_call(requests, call))
            for name, call in decision_cases.items():
                decision_samples[name].append(
                    await cpu_seconds_per_call(decisions, call)
                )
    finally:
        for limiter in [*limiters.values(), *extra_limiters]:
            await limiter.aclose()
        await delete_prefix(redis_url, prefix)

    print_requests(request_samples, rounds)
    print()
    print_decisions(decision_samples, rounds)


def print_requests(samples: dict[str, list[float]], rounds: int) -> None:
    bare = statistics.median(samples["bare app"]) * 1e6
    print(f"CPU time per request, in-process ASGI driver, median of {rounds} rounds")
    print(f"{'case':<46} {'µs':>7} {'over bare':>10} {'x bare':>7}")
    for name, values in samples.items():
        micros = statistics.median(values) * 1e6
        print(f"{name:<46} {micros:>7.2f} {micros - bare:>10.2f} {micros / bare:>7.2f}")


def print_decisions(samples: dict[str, list[float]], rounds: int) -> None:
    print(f"CPU time per decision, median of {rounds} rounds")
    print(f"{'case':<46} {'µs':>7} {'x livify':>10}")
    for name, values in samples.items():
        micros = statistics.median(values) * 1e6
        ratio = ""
        own = samples.get(name.removeprefix("limits "))
        if name.startswith("limits ") and own:
            ratio = f"{micros / (statistics.median(own) * 1e6):.2f}"
        print(f"{name:<46} {micros:>7.2f} {ratio:>10}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds")
    parser.add_argument(
        "--requests", type=int, default=5000, help="requests per app and round"
    )
    parser.add_argument(
        "--decisions", type=int, default=2000, help="decisions per case and round"
    )
    parser.add_argument(
        "--redis-url",
        default="redis://127.0.0.1:6379/0",
        help="Redis for the shared-store rows; keys use a random prefix "
        "and are deleted at the end",
    )
    options = parser.parse_args()
    asyncio.run(
        run(options.rounds, options.requests, options.decisions, options.redis_url)
    )


if __name__ == "__main__":
    main()
