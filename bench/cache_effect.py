"""Database work and read speed with the application cache off and on.

Both apps are built by `create_app` on one seeded SQLite file and driven
in-process by the same request sequence: a mixed journey of reads (90 %)
and writes (10 %), with articles, authors and tags picked with Zipf-like
popularity. The script prints, side by side:

- SQL statements per request with the cache off and on;
- the cache hit ratio of the measured phase, after a warm-up phase;
- requests per second of a hot `GET /api/articles/{slug}`, anonymous, with
  the cache off and on (a hit is replayed by the response cache).

The ratio of a cached read to the server stack's ceiling needs a real server
and load generator; `bench/run.py` measures that.

Run: .venv/bin/python bench/cache_effect.py [--requests 3000]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

import asgi_driver
import httpx
from asgi_lifespan import LifespanManager
from prometheus_client import CollectorRegistry
from sqlalchemy import event, select

from livify.app import create_app
from livify.db import Database
from livify.observability import configure_logging
from livify.platform import migrate
from livify.platform.seed import seed_database
from livify.platform.tables import articles, users
from livify.platform.warming import hot_paths, warm
from livify.settings import Settings

SECRET = "bench-secret-key-" + "x" * 32
SEED_SCALE = 0.1
MEMBERS = 10
ZIPF_EXPONENT = 1.1
# The journey picks among the 500 most favorited articles.
JOURNEY_ARTICLES = 500
WARM_ARTICLES = JOURNEY_ARTICLES


def zipf_index(rng: random.Random, size: int) -> int:
    """Pick 0..size-1 with probability proportional to 1 / (rank + 1) ** s."""
    weights = [1 / (rank + 1) ** ZIPF_EXPONENT for rank in range(size)]
    return rng.choices(range(size), weights=weights)[0]


async def prepare(data_dir: Path) -> tuple[list[str], list[str], list[str]]:
    # Keep the seeder's progress lines out of the benchmark's output.
    configure_logging(level="warning")
    url = f"sqlite+aiosqlite:///{data_dir / 'livify.sqlite3'}"
    database = Database(url)
    await migrate.upgrade(database)
    await database.aclose()
    await seed_database(url, scale=SEED_SCALE)

    database = Database(url)
    async with database.read() as connection:
        slugs = list(
            (
                await connection.execute(
                    select(articles.c.slug).order_by(articles.c.favorites_count.desc())
                )
            ).scalars()
        )
        names = list((await connection.execute(select(users.c.username))).scalars())
    await database.aclose()
    return slugs, names, ["dragons", "python", "news"]


def journey(
    rng: random.Random, slugs: list[str], names: list[str], count: int
) -> list[tuple[str, str, int | None]]:
    """Return (method, path, member index or None) for `count` requests."""
    steps: list[tuple[str, str, int | None]] = []
    for _ in range(count):
        member = rng.randrange(MEMBERS) if rng.random() < 0.3 else None
        slug = slugs[zipf_index(rng, min(len(slugs), JOURNEY_ARTICLES))]
        roll = rng.random()
        if roll < 0.10 and member is not None:
            verb = rng.choice(["POST", "DELETE"])
            steps.append((verb, f"/api/articles/{slug}/favorite", member))
        elif roll < 0.35:
            steps.append(("GET", f"/api/articles/{slug}", member))
        elif roll < 0.55:
            offset = 20 * zipf_index(rng, 5)
            steps.append(("GET", f"/api/articles?limit=20&offset={offset}", member))
        elif roll < 0.70:
            steps.append(("GET", f"/api/articles/{slug}/comments", member))
        elif roll < 0.85:
            name = names[zipf_index(rng, min(len(names), 100))]
            steps.append(("GET", f"/api/profiles/{name}", member))
        else:
            steps.append(("GET", "/api/tags", member))
    return steps


async def run_journey(
    app: Any, steps: list[tuple[str, str, int | None]], tokens: list[str]
) -> int:
    """Send every step; return how many SQL statements the app ran."""
    statements = 0

    def count(*_args: Any) -> None:
        nonlocal statements
        statements += 1

    engines = app.state.context.database.engines()
    for engine in engines:
        event.listen(engine.sync_engine, "before_cursor_execute", count)

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://bench"
    ) as client:
        for method, path, member in steps:
            headers = (
                {"Authorization": f"Token {tokens[member]}"}
                if member is not None
                else {}
            )
            response = await client.request(method, path, headers=headers)
            if response.status_code >= 500:
                msg = f"{method} {path} returned {response.status_code}"
                raise RuntimeError(msg)

    for engine in engines:
        event.remove(engine.sync_engine, "before_cursor_execute", count)
    return statements


async def warm_app(app: Any, data_dir: Path) -> None:
    """Warm the caches as `livify warm` does, for every article the journey reads."""
    database = Database(f"sqlite+aiosqlite:///{data_dir / 'livify.sqlite3'}")
    try:
        paths = await hot_paths(database, top_articles=WARM_ARTICLES)
    finally:
        await database.aclose()

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://bench"
    ) as client:
        await warm(client, paths)


async def register_members(app: Any) -> list[str]:
    transport = httpx.ASGITransport(app=app)
    tokens = []
    async with httpx.AsyncClient(
        transport=transport, base_url="http://bench"
    ) as client:
        for index in range(MEMBERS):
            name = f"bench{index}"
            response = await client.post(
                "/api/users/login",
                json={
                    "user": {
                        "email": f"{name}@example.com",
                        "password": "bench-password",
                    }
                },
            )
            if response.status_code != 200:
                response = await client.post(
                    "/api/users",
                    json={
                        "user": {
                            "username": name,
                            "email": f"{name}@example.com",
                            "password": "bench-password",
                        }
                    },
                )
            tokens.append(response.json()["user"]["token"])
    return tokens


def namespace_counts(registry: CollectorRegistry) -> dict[str, tuple[float, float]]:
    """Return cumulative (hits, misses) per cache namespace."""
    counts: dict[str, list[float]] = {}
    for family in registry.collect():
        for sample in family.samples:
            namespace = sample.labels.get("namespace", "")
            if sample.name == "livify_cache_hits_total":
                counts.setdefault(namespace, [0.0, 0.0])[0] += sample.value
            elif sample.name == "livify_cache_misses_total":
                counts.setdefault(namespace, [0.0, 0.0])[1] += sample.value
    return {name: (hit, miss) for name, (hit, miss) in counts.items()}


def cache_counts(registry: CollectorRegistry) -> tuple[float, float]:
    """Return the total cache hits and misses recorded so far."""
    hits = misses = 0.0
    for family in registry.collect():
        for sample in family.samples:
            if sample.name == "livify_cache_hits_total":
                hits += sample.value
            elif sample.name == "livify_cache_misses_total":
                misses += sample.value
    return hits, misses


async def main(request_count: int, rounds: int) -> None:
    data_dir = Path(tempfile.mkdtemp(prefix="livify-cache-bench-"))
    slugs, names, _ = await prepare(data_dir)
    rng = random.Random(7)
    warmup = journey(rng, slugs, names, request_count // 2)
    measured = journey(rng, slugs, names, request_count)

    base = {
        "data_dir": data_dir,
        "secret_key": SECRET,
        "access_log_sample_ratio": 0.0,
        "ratelimit_enabled": False,
    }
    off = create_app(Settings(**base, cache_url=None))
    on = create_app(Settings(**base, cache_url="memory://"))
    async with LifespanManager(off), LifespanManager(on):
        tokens = await register_members(off)
        await run_journey(off, warmup, tokens)
        off_statements = await run_journey(off, measured, tokens)
        await run_journey(on, warmup, tokens)
        await warm_app(on, data_dir)
        hits_before, misses_before = cache_counts(on.state.metrics_registry)
        namespaces_before = namespace_counts(on.state.metrics_registry)
        on_statements = await run_journey(on, measured, tokens)
        hits_after, misses_after = cache_counts(on.state.metrics_registry)
        hits, misses = hits_after - hits_before, misses_after - misses_before
        ratio = hits / (hits + misses) if hits + misses else 0.0
        by_namespace = {
            name: (
                hit - namespaces_before.get(name, (0.0, 0.0))[0],
                miss - namespaces_before.get(name, (0.0, 0.0))[1],
            )
            for name, (hit, miss) in namespace_counts(on.state.metrics_registry).items()
        }

        hot = f"/api/articles/{slugs[0]}"
        cached: list[float] = []
        uncached: list[float] = []
        for _ in range(rounds):
            cached.append(await asgi_driver.requests_per_second(on, hot, 1000))
            uncached.append(await asgi_driver.requests_per_second(off, hot, 1000))

    off_per_request = off_statements / len(measured)
    on_per_request = on_statements / len(measured)
    cached_rps = statistics.median(cached)
    uncached_rps = statistics.median(uncached)
    print(
        f"requests={len(measured)} (after {len(warmup)} warm-up) cpus={os.cpu_count()}"
    )
    print(f"SQL statements per request, cache off: {off_per_request:7.2f}")
    print(f"SQL statements per request, cache on:  {on_per_request:7.2f}")
    saved = 1 - on_per_request / off_per_request
    print(f"statements saved:                      {saved:7.1%}")
    print(f"cache hit ratio, measured phase (all namespaces): {ratio:7.1%}")
    for namespace, (hit, miss) in sorted(by_namespace.items()):
        print(f"  {namespace:<16} hits {hit:6.0f}  misses {miss:6.0f}")
    print(f"GET one hot article, cache off: {uncached_rps:9.0f} req/s (median)")
    print(f"GET one hot article, cache on:  {cached_rps:9.0f} req/s (median)")
    print(f"cached / uncached:              {cached_rps / uncached_rps:9.2f}x")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=7)
    arguments = parser.parse_args()
    sys.stderr = open(os.devnull, "w")  # noqa: SIM115
    asyncio.run(main(arguments.requests, arguments.rounds))
