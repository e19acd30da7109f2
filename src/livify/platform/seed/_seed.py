"""Fill a database with the demo dataset, in one transaction."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import structlog
from sqlalchemy import Column, exists, func, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from livify.db import Database, normalise_database_url
from livify.platform import limits
from livify.platform.security import PasswordHashing
from livify.platform.seed._dataset import DemoDataset, SeedSizes
from livify.platform.seed._postgres import (
    analyze,
    defer_indexes_and_foreign_keys,
    restore_indexes_and_foreign_keys,
)
from livify.platform.seed._sink import (
    DEFAULT_BATCH_ROWS,
    TABLE_COLUMNS,
    PostgresCopySink,
    RowSink,
    SqliteSink,
)
from livify.platform.seed._text import tag_vocabulary
from livify.platform.sql import insert_ignoring_conflicts
from livify.platform.tables import articles, tags, users, utcnow

logger = structlog.get_logger(__name__)

# Public on purpose: every seeded account shares it, and `livify seed` prints
# it next to a login email. Pass another with `demo_password`.
DEMO_PASSWORD = "demo-password"
RUN_TAG_ATTEMPTS = 100
PROGRESS_STEPS = 10
TAG_LOOKUP_CHUNK = 500
SEEDED_TABLES = tuple(TABLE_COLUMNS)


@dataclass(frozen=True, slots=True)
class SeedReport:
    """Rows that one `seed_database` call inserted, per table, and its duration.

    `tags` counts new tag names only, because names that already exist are
    reused. `login_email` is a seeded account that has content, and
    `run_tag` is the suffix of this run's names and slugs (empty when the
    database had no users).
    """

    users: int = 0
    follows: int = 0
    tags: int = 0
    articles: int = 0
    article_tags: int = 0
    favorites: int = 0
    comments: int = 0
    elapsed_seconds: float = 0.0
    is_skipped: bool = False
    existing_users: int = 0
    run_tag: str = ""
    login_email: str | None = None

    def row_counts(self) -> dict[str, int]:
        return {
            "users": self.users,
            "follows": self.follows,
            "tags": self.tags,
            "articles": self.articles,
            "article_tags": self.article_tags,
            "favorites": self.favorites,
            "comments": self.comments,
        }


async def seed_database(
    database_url: str,
    *,
    scale: float = 1.0,
    if_empty: bool = False,
    random_seed: int = 1,
    demo_password: str = DEMO_PASSWORD,
    now: datetime | None = None,
    batch_rows: int = DEFAULT_BATCH_ROWS,
) -> SeedReport:
    """Insert a demo community into a migrated database and report the rows.

    At scale 1 that is 1,000 users, about 20,000 follows, 300 tags, 10,000
    articles, about 100,000 favorites and about 50,000 comments, spread over
    the year before `now` (default: the current time). `scale` multiplies
    every count, except that the tag vocabulary grows with its square root.
    The same `random_seed` and `now` give the same rows.

    All seeded users share `demo_password`, hashed once. Everything is
    inserted in one transaction that blocks other writers until it commits:
    on PostgreSQL by locking `users` and `articles`, on SQLite by holding the
    write lock. On a PostgreSQL database without users, the seed also drops
    and rebuilds indexes and foreign keys, so readers of the seeded tables
    wait too. Rows go in batches of `batch_rows` (COPY on PostgreSQL,
    executemany on SQLite), so memory does not grow with the scale.

    If the database already has users, `if_empty=True` inserts nothing and
    returns a report with `is_skipped` set. Otherwise the run appends a run
    tag such as `-r2` to its usernames, emails and slugs. It picks the first
    of `r2`, `r3`, ... that no existing username, email or slug ends with.

    Raises ValueError for a scale that is not positive and finite, a naive
    `now`, a password outside the API's length limits or `batch_rows` < 1.
    """
    sizes = SeedSizes.from_scale(scale)
    _check_password(demo_password)
    if batch_rows < 1:
        msg = f"batch_rows must be at least 1, got {batch_rows!r}"
        raise ValueError(msg)

    now = now or utcnow()
    if now.tzinfo is None:
        msg = f"now must be timezone-aware, got {now!r}"
        raise ValueError(msg)

    started = time.perf_counter()
    database = Database(normalise_database_url(database_url))
    logger.info(
        "seed.started",
        database=database.describe(),
        scale=scale,
        random_seed=random_seed,
        **dataclasses.asdict(sizes),
    )
    try:
        async with database.write() as connection:
            report = await _seed_in_transaction(
                connection,
                sizes,
                if_empty=if_empty,
                random_seed=random_seed,
                demo_password=demo_password,
                now=now,
                batch_rows=batch_rows,
            )
    finally:
        await database.aclose()

    report = dataclasses.replace(report, elapsed_seconds=time.perf_counter() - started)
    _log_outcome(report)
    return report


def _check_password(password: str) -> None:
    if not limits.PASSWORD_MIN_CHARS <= len(password) <= limits.PASSWORD_MAX_CHARS:
        msg = (
            f"demo password has {len(password)} characters; the API accepts "
            f"{limits.PASSWORD_MIN_CHARS} to {limits.PASSWORD_MAX_CHARS}"
        )
        raise ValueError(msg)


async def _seed_in_transaction(
    connection: AsyncConnection,
    sizes: SeedSizes,
    *,
    if_empty: bool,
    random_seed: int,
    demo_password: str,
    now: datetime,
    batch_rows: int,
) -> SeedReport:
    # This also starts the transaction on the driver connection, which the
    # COPY below borrows.
    await _lock_for_explicit_ids(connection)
    existing_users = await _count(connection, users.c.id)
    if existing_users and if_empty:
        return SeedReport(is_skipped=True, existing_users=existing_users)

    run_tag = await _pick_run_tag(connection) if existing_users else ""
    tag_count_before = await _count(connection, tags.c.id)
    tag_ids = await _insert_tags(connection, tag_vocabulary(sizes.tags))
    tag_count_after = await _count(connection, tags.c.id)
    password_hash = await asyncio.to_thread(PasswordHashing().hash, demo_password)

    sink = await _open_sink(connection)
    dataset = DemoDataset(
        sizes,
        random_seed=random_seed,
        now_seconds=now.timestamp(),
        password_hash=password_hash,
        run_tag=run_tag,
        first_user_id=await _next_id(connection, users.c.id),
        first_article_id=await _next_id(connection, articles.c.id),
        tag_ids=tag_ids,
        encode_timestamp=sink.encode_timestamp,
    )
    await _load(connection, sink, dataset, batch_rows, is_fresh=not existing_users)

    inserted = sink.inserted
    return SeedReport(
        users=inserted["users"],
        follows=inserted["follows"],
        tags=tag_count_after - tag_count_before,
        articles=inserted["articles"],
        article_tags=inserted["article_tags"],
        favorites=inserted["favorites"],
        comments=inserted["comments"],
        existing_users=existing_users,
        run_tag=run_tag,
        login_email=dataset.login_email,
    )


async def _lock_for_explicit_ids(connection: AsyncConnection) -> None:
    """Keep other writers out of the tables whose ids the seed assigns itself.

    On SQLite the write transaction began with BEGIN IMMEDIATE, so it already
    has the database's only write lock.
    """
    if connection.dialect.name == "postgresql":
        await connection.exec_driver_sql(
            "LOCK TABLE users, articles IN SHARE ROW EXCLUSIVE MODE"
        )


async def _count(connection: AsyncConnection, column: Column[int]) -> int:
    result = await connection.execute(select(func.count(column)))
    return int(result.scalar_one())


async def _next_id(connection: AsyncConnection, column: Column[int]) -> int:
    result = await connection.execute(select(func.coalesce(func.max(column), 0)))
    return int(result.scalar_one()) + 1


async def _pick_run_tag(connection: AsyncConnection) -> str:
    """Return the first of `r2`, `r3`, ... that no name, email or slug ends with."""
    for number in range(2, 2 + RUN_TAG_ATTEMPTS):
        run_tag = f"r{number}"
        suffix = f"%-{run_tag}"
        is_taken = or_(
            exists().where(
                or_(
                    users.c.username_key.like(suffix),
                    users.c.email_key.like(f"{suffix}@%"),
                )
            ),
            exists().where(articles.c.slug.like(suffix)),
        )
        if not (await connection.execute(select(is_taken))).scalar_one():
            return run_tag

    msg = (
        f"no free run tag among r2 to r{1 + RUN_TAG_ATTEMPTS}; "
        f"seed an empty database instead"
    )
    raise RuntimeError(msg)


async def _insert_tags(connection: AsyncConnection, names: Sequence[str]) -> list[int]:
    """Add the tag names that are missing and return every name's id, in order."""
    await connection.execute(
        insert_ignoring_conflicts(connection, tags), [{"name": name} for name in names]
    )
    ids_by_name: dict[str, int] = {}
    for start in range(0, len(names), TAG_LOOKUP_CHUNK):
        chunk = names[start : start + TAG_LOOKUP_CHUNK]
        result = await connection.execute(
            select(tags.c.name, tags.c.id).where(tags.c.name.in_(chunk))
        )
        ids_by_name.update({name: tag_id for name, tag_id in result})

    return [ids_by_name[name] for name in names]


async def _open_sink(connection: AsyncConnection) -> RowSink:
    dialect = connection.dialect.name
    if dialect == "postgresql":
        raw_connection = await connection.get_raw_connection()
        return PostgresCopySink(raw_connection.driver_connection)

    if dialect == "sqlite":
        return SqliteSink(connection)

    msg = f"unsupported database dialect {dialect!r}; use PostgreSQL or SQLite"
    raise RuntimeError(msg)


async def _write_rows(sink: RowSink, dataset: DemoDataset, batch_rows: int) -> None:
    """Insert the dataset's batches, making the next one while this one is stored.

    Generating rows is pure Python and storing them is mostly the database's
    work, so overlapping the two keeps two cores busy instead of one.
    """
    batches = dataset.batches(batch_rows)
    total = dataset.sizes.articles
    logged_step = 0
    upcoming = asyncio.create_task(asyncio.to_thread(next, batches, None))
    try:
        while (batch := await upcoming) is not None:
            upcoming = asyncio.create_task(asyncio.to_thread(next, batches, None))
            await sink.write(batch)

            step = batch.articles_done * PROGRESS_STEPS // total
            if step > logged_step:
                logged_step = step
                logger.info(
                    "seed.progress", articles=batch.articles_done, articles_total=total
                )
    finally:
        # A thread cannot be cancelled, so wait for it before the
        # transaction ends.
        await asyncio.wait([upcoming])


async def _load(
    connection: AsyncConnection,
    sink: RowSink,
    dataset: DemoDataset,
    batch_rows: int,
    *,
    is_fresh: bool,
) -> None:
    """Write the rows, with PostgreSQL's bulk-load steps around them.

    Indexes and foreign keys are deferred only when the database had no
    users, because the ACCESS EXCLUSIVE locks that takes would stop readers
    of a live database for the whole run.
    """
    if connection.dialect.name != "postgresql":
        await _write_rows(sink, dataset, batch_rows)
        return

    deferred = None
    if is_fresh:
        deferred = await defer_indexes_and_foreign_keys(connection, SEEDED_TABLES)

    await _write_rows(sink, dataset, batch_rows)

    if deferred is not None:
        await restore_indexes_and_foreign_keys(connection, deferred)

    await _advance_id_sequences(connection)
    await analyze(connection, (*SEEDED_TABLES, "tags"))


async def _advance_id_sequences(connection: AsyncConnection) -> None:
    """Move PostgreSQL's id sequences past the ids the seed chose itself."""
    for table in ("users", "articles"):
        await connection.exec_driver_sql(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
            f"(SELECT max(id) FROM {table}))"
        )


def _log_outcome(report: SeedReport) -> None:
    if report.is_skipped:
        logger.info("seed.skipped", existing_users=report.existing_users)
        return

    logger.info(
        "seed.finished",
        elapsed_seconds=round(report.elapsed_seconds, 3),
        run_tag=report.run_tag,
        **report.row_counts(),
    )
