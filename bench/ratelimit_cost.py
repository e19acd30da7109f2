"""Measure the rate limiter's cost per decision and per request through the middleware.

Printed side by side, from interleaved rounds so that every case runs
under the same machine load:

- decision cost in microseconds for each algorithm on `memory://` and on
  Redis (one script call, one round trip per decision);
- the same decisions in the `limits` library (fixed window and sliding
  window counter; it has no token bucket), on its memory storage and on
  its redis-py storage, as a reference;
- requests per second of a trivial ASGI app with `RateLimitMiddleware`
  (memory store, default limits) and without it, and their ratio.

Run: .venv/bin/python bench/ratelimit_cost.py [--rounds 5 --decisions 2000]
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

from asgi_driver import get
from cache_layers import delete_prefix

from livify.ratelimit import (
    Limit,
    Policies,
    RateLimiter,
    RateLimitMiddleware,
    Request,
)
from livify.ratelimit._redis import RedisStore

ALGORITHMS = ("fixed_window", "sliding_window", "gcra")
LIMITS_STRATEGIES = {
    "fixed_window": "FixedWindowRateLimiter",
    "sliding_window": "SlidingWindowCounterRateLimiter",
}
# High enough that no decision is rejected during a round.
QUOTA = 10_000_000


async def trivial_app(scope: Any, receive: Any, send: Any) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"{}"})


async def time_calls(count: int, call: Callable[[int], Awaitable[Any]]) -> float:
    """Return the mean seconds per call over `count` sequential calls."""
    started = time.perf_counter()
    for index in range(count):
        await call(index)
    return (time.perf_counter() - started) / count


def make_limiter(algorithm: str, store: Any, prefix: str) -> RateLimiter:
    limit = Limit("bench", QUOTA, 60.0, key="ip", algorithm=algorithm)  # type: ignore[arg-type]
    return RateLimiter(Policies(limits=(limit,)), store=store, key_prefix=prefix)


def make_limits_cases(
    redis_url: str, prefix: str
) -> dict[str, Callable[[int], Awaitable[Any]]]:
    """Build the `limits` library's decisions, or none when it is not installed."""
    try:
        from limits import RateLimitItemPerMinute, aio
        from limits.aio import strategies
    except ImportError:
        return {}

    item = RateLimitItemPerMinute(QUOTA)
    cases: dict[str, Callable[[int], Awaitable[Any]]] = {}
    storages = {
        "memory": aio.storage.MemoryStorage(),
        "redis": aio.storage.RedisStorage(
            f"async+{redis_url}", implementation="redispy", key_prefix=prefix
        ),
    }
    for algorithm, strategy_name in LIMITS_STRATEGIES.items():
        for store_name, storage in storages.items():
            strategy = getattr(strategies, strategy_name)(storage)

            async def hit(_: int, strategy: Any = strategy) -> Any:
                return await strategy.hit(item, "bench", "192.0.2.1")

            cases[f"limits {algorithm} {store_name}"] = hit
    return cases


async def run(rounds: int, decisions: int, requests: int, redis_url: str) -> None:
    prefix = f"livify-bench:{secrets.token_hex(4)}:"
    limiters = {}
    for algorithm in ALGORITHMS:
        limiters[f"{algorithm} memory"] = make_limiter(algorithm, "memory://", prefix)
        limiters[f"{algorithm} redis"] = make_limiter(
            algorithm, RedisStore(redis_url, timeout_seconds=1.0), prefix
        )

    cases: dict[str, Callable[[int], Awaitable[Any]]] = {}
    request = Request("192.0.2.1")
    for name, limiter in limiters.items():

        async def decide(_: int, limiter: RateLimiter = limiter) -> Any:
            return await limiter.decide(request)

        cases[name] = decide
    cases.update(make_limits_cases(redis_url, prefix))

    middleware = RateLimitMiddleware(
        trivial_app,
        limiter=RateLimiter(Policies(limits=(Limit("default", QUOTA, 60.0),))),
    )
    results: dict[str, list[float]] = {name: [] for name in cases}
    throughput: dict[str, list[float]] = {"off": [], "on": []}
    try:
        for _ in range(rounds):
            for name, call in cases.items():
                results[name].append(await time_calls(decisions, call))
            for label, app in (("off", trivial_app), ("on", middleware)):
                seconds = await time_calls(
                    requests, lambda _, app=app: get(app, "/api/tags")
                )
                throughput[label].append(1.0 / seconds)
    finally:
        for limiter in limiters.values():
            await limiter.aclose()
        await delete_prefix(redis_url, prefix)

    print_results(results, throughput, rounds)


def print_results(
    results: dict[str, list[float]], throughput: dict[str, list[float]], rounds: int
) -> None:
    print(f"decision cost, median of {rounds} rounds (microseconds per decision)")
    print(f"{'case':<40} {'µs':>8} {'vs livify same store':>22}")
    for name, samples in results.items():
        micros = statistics.median(samples) * 1e6
        ratio = ""
        if name.startswith("limits "):
            own = results.get(name.removeprefix("limits "))
            if own:
                ratio = f"{micros / (statistics.median(own) * 1e6):.2f}x"
        print(f"{name:<40} {micros:>8.1f} {ratio:>22}")

    off = statistics.median(throughput["off"])
    on = statistics.median(throughput["on"])
    print()
    print("trivial ASGI app, in-process driver, requests per second (median)")
    print(f"middleware off: {off:,.0f}  on (memory): {on:,.0f}  on/off: {on / off:.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds")
    parser.add_argument(
        "--decisions", type=int, default=2000, help="decisions per case and round"
    )
    parser.add_argument(
        "--requests", type=int, default=5000, help="requests per app and round"
    )
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    options = parser.parse_args()
    asyncio.run(
        run(options.rounds, options.decisions, options.requests, options.redis_url)
    )


if __name__ == "__main__":
    main()
