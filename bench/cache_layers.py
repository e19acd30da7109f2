"""Cost of one read from L1, from Redis (L2) and from the database, side by side.

The value is an article of about 1 KB, read from a SQLite table of 10,000
articles by its slug through `livify.db.Database` (SQLAlchemy and
aiosqlite), close to what a cache miss costs the platform on its embedded
store. Each round times every path back to back, so load from other
processes affects all of them alike. The result is the median over the
rounds.

- l1 hit: `get_or_load` on a key that is in L1 (memory://).
- l2 hit: `get_or_load` after L1 was cleared, so Redis serves the entry.
- redis GET alone: redis-py fetching 1 KB, the floor under an L2 hit.
- invalidate tag: `invalidate_tags` on a tag that 1,000 entries carry.
- database: the loader alone, one SELECT.
- miss, memory:// and redis://: a key never read before, so L1 and L2 miss,
  the loader runs and the entry is stored.

Run: .venv/bin/python bench/cache_layers.py [--rounds 7 --reads 2000]
(needs Redis on 127.0.0.1:6379, as `scripts/ensure-redis.sh` starts it)
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import secrets
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import redis.asyncio as redis_asyncio
import sqlalchemy as sa

from livify.cache import Cache, LayeredCache
from livify.db import Database

ARTICLE_COUNT = 10_000
BODY_CHARS = 800
TAGGED_ENTRIES = 1_000


async def create_database(directory: Path) -> Database:
    database = Database(f"sqlite+aiosqlite:///{directory / 'bench.sqlite3'}")
    async with database.write() as connection:
        await connection.exec_driver_sql(
            "CREATE TABLE article (id INTEGER PRIMARY KEY, slug TEXT UNIQUE, "
            "title TEXT, description TEXT, body TEXT, author TEXT, "
            "created_at TEXT, updated_at TEXT)"
        )
        await connection.execute(
            sa.text(
                "INSERT INTO article (slug, title, description, body, author, "
                "created_at, updated_at) VALUES (:slug, :title, :description, "
                ":body, :author, :created_at, :updated_at)"
            ),
            [
                {
                    "slug": f"article-{index}",
                    "title": f"Article number {index}",
                    "description": "A description of the article",
                    "body": "lorem ipsum " * (BODY_CHARS // 12),
                    "author": f"author-{index % 500}",
                    "created_at": "2026-01-01T00:00:00.000Z",
                    "updated_at": "2026-01-02T00:00:00.000Z",
                }
                for index in range(ARTICLE_COUNT)
            ],
        )
    return database


def article_loader(database: Database, slug: str) -> Callable[[], Awaitable[Any]]:
    query = sa.text("SELECT * FROM article WHERE slug = :slug")

    async def load() -> dict[str, Any]:
        async with database.read() as connection:
            row = (await connection.execute(query, {"slug": slug})).mappings().one()
        return dict(row)

    return load


async def tag_entries(cache: Cache) -> None:
    """Store TAGGED_ENTRIES entries that all carry the tag `author:1`."""
    for index in range(TAGGED_ENTRIES):

        async def load(index: int = index) -> dict[str, int]:
            return {"id": index}

        await cache.get_or_load(f"by-author-{index}", load, tags=["author:1"])


async def time_reads(count: int, read: Callable[[int], Awaitable[Any]]) -> float:
    """Return the mean seconds per call of `read(i)` over `count` calls."""
    started = time.perf_counter()
    for index in range(count):
        await read(index)
    return (time.perf_counter() - started) / count


async def run_round(
    reads: int,
    database: Database,
    memory_cache: Cache,
    redis_layers: LayeredCache,
    redis_cache: Cache,
    fresh_keys: itertools.count[int],
    raw_redis: Any,
    prefix: str,
) -> dict[str, float]:
    hot = article_loader(database, "article-42")
    await memory_cache.get_or_load("article-42", hot)
    await redis_cache.get_or_load("article-42", hot)

    async def l1_hit(_: int) -> Any:
        return await memory_cache.get_or_load("article-42", hot)

    async def l2_hit(_: int) -> Any:
        redis_layers.l1.clear()
        return await redis_cache.get_or_load("article-42", hot)

    async def database_read(index: int) -> Any:
        return await article_loader(database, f"article-{index % ARTICLE_COUNT}")()

    async def memory_miss(_: int) -> Any:
        key = next(fresh_keys)
        slug = f"article-{key % ARTICLE_COUNT}"
        return await memory_cache.get_or_load(
            f"miss-{key}", article_loader(database, slug)
        )

    async def redis_miss(_: int) -> Any:
        key = next(fresh_keys)
        slug = f"article-{key % ARTICLE_COUNT}"
        return await redis_cache.get_or_load(
            f"miss-{key}", article_loader(database, slug)
        )

    async def redis_get(_: int) -> Any:
        return await raw_redis.get(f"{prefix}raw")

    async def invalidate_tag(_: int) -> Any:
        # TAGGED_ENTRIES entries carry the tag, and the cost is one script
        # call whatever that number.
        await redis_layers.invalidate_tags(["author:1"])

    paths = {
        "l1 hit": l1_hit,
        "l2 hit": l2_hit,
        "redis GET alone": redis_get,
        "invalidate tag": invalidate_tag,
        "database": database_read,
        "miss, memory://": memory_miss,
        "miss, redis://": redis_miss,
    }
    return {name: await time_reads(reads, read) for name, read in paths.items()}


async def main(rounds: int, reads: int, redis_url: str) -> None:
    directory = Path(tempfile.mkdtemp(prefix="livify-bench-cache-"))
    database = await create_database(directory)
    prefix = f"livify-bench:{secrets.token_hex(4)}:"
    memory_layers = LayeredCache("memory://", l1_max_entries=1_000_000)
    redis_layers = LayeredCache(redis_url, key_prefix=prefix)
    memory_cache = memory_layers.namespace("article", ttl_seconds=3600)
    redis_cache = redis_layers.namespace("article", ttl_seconds=3600)
    fresh_keys = itertools.count()
    raw_redis = redis_asyncio.Redis.from_url(redis_url)
    results: dict[str, list[float]] = {}
    try:
        await tag_entries(redis_cache)
        await raw_redis.set(f"{prefix}raw", b"x" * 1000)
        arguments = (database, memory_cache, redis_layers, redis_cache, fresh_keys)
        await run_round(reads // 4, *arguments, raw_redis, prefix)
        for _ in range(rounds):
            timings = await run_round(reads, *arguments, raw_redis, prefix)
            for name, seconds in timings.items():
                results.setdefault(name, []).append(seconds)
    finally:
        await memory_layers.aclose()
        await redis_layers.aclose()
        await raw_redis.aclose()
        await delete_prefix(redis_url, prefix)
        await database.aclose()

    print_results(results, rounds, reads)


def print_results(results: dict[str, list[float]], rounds: int, reads: int) -> None:
    medians = {name: statistics.median(values) for name, values in results.items()}
    database = medians["database"]
    print(f"rounds={rounds} reads/path/round={reads} cpus={os.cpu_count()}")
    print(f"{'path':<18}{'us/read':>10}{'reads/s':>12}{'vs database':>14}")
    for name, seconds in medians.items():
        print(
            f"{name:<18}{seconds * 1e6:>10.1f}{1 / seconds:>12.0f}"
            f"{database / seconds:>13.1f}x"
        )
    print(f"l2 hit / l1 hit: {medians['l2 hit'] / medians['l1 hit']:.1f}x slower")


async def delete_prefix(redis_url: str, prefix: str) -> None:
    client = redis_asyncio.Redis.from_url(redis_url)
    try:
        keys = [key async for key in client.scan_iter(match=f"{prefix}*", count=1000)]
        if keys:
            await client.delete(*keys)
    finally:
        await client.aclose()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--reads", type=int, default=2000)
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    arguments = parser.parse_args()
    asyncio.run(main(arguments.rounds, arguments.reads, arguments.redis_url))
