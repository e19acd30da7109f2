"""The demo dataset on every store: sizes, consistency, skew, repeat runs, login."""

from __future__ import annotations

import math
import random
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import TypeAdapter
from sqlalchemy import Select, Table, func, select, text

from livify.cli import main
from livify.db import Database
from livify.platform import migrate, schemas
from livify.platform.keys import canonical_key
from livify.platform.seed import DEMO_PASSWORD, SeedSizes, seed_database
from livify.platform.seed import _sink as sink_module
from livify.platform.seed._zipf import ZipfAllocation, ZipfSampler
from livify.platform.tables import (
    article_tags,
    articles,
    comments,
    favorites,
    follows,
    tags,
    users,
)
from livify.settings import normalise_database_url

SCALE = 0.1
NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
TABLES = {
    "users": users,
    "follows": follows,
    "tags": tags,
    "articles": articles,
    "article_tags": article_tags,
    "favorites": favorites,
    "comments": comments,
}

# Rows that break an ordering rule; each query must count none.
TIME_ORDER_VIOLATIONS = {
    "article before its author joined": """
        SELECT count(*) FROM articles
        JOIN users ON users.id = articles.author_id
        WHERE articles.created_at <= users.created_at
    """,
    "comment before its article": """
        SELECT count(*) FROM comments
        JOIN articles ON articles.id = comments.article_id
        WHERE comments.created_at <= articles.created_at
    """,
    "comment before its author joined": """
        SELECT count(*) FROM comments
        JOIN users ON users.id = comments.author_id
        WHERE comments.created_at <= users.created_at
    """,
    "favorite before its article": """
        SELECT count(*) FROM favorites
        JOIN articles ON articles.id = favorites.article_id
        WHERE favorites.created_at <= articles.created_at
    """,
    "favorite before its user joined": """
        SELECT count(*) FROM favorites
        JOIN users ON users.id = favorites.user_id
        WHERE favorites.created_at <= users.created_at
    """,
    "follow before a user joined": """
        SELECT count(*) FROM follows
        JOIN users AS follower ON follower.id = follows.follower_id
        JOIN users AS followee ON followee.id = follows.followee_id
        WHERE follows.created_at <= follower.created_at
           OR follows.created_at <= followee.created_at
    """,
    "article updated before created": """
        SELECT count(*) FROM articles WHERE updated_at < created_at
    """,
}

FAVORITES_COUNT_MISMATCHES = """
    SELECT count(*) FROM articles
    WHERE favorites_count != (
        SELECT count(*) FROM favorites WHERE favorites.article_id = articles.id
    )
"""


@pytest.fixture
async def database(database_url: str) -> AsyncIterator[Database]:
    """The migrated, empty test database, for checking what the seed wrote."""
    database = Database(normalise_database_url(database_url))
    try:
        await migrate.upgrade(database)
        yield database
    finally:
        await database.aclose()


async def _scalar(database: Database, query: Any) -> Any:
    if isinstance(query, str):
        query = text(query)

    async with database.read() as connection:
        return (await connection.execute(query)).scalar_one()


async def _row_counts(database: Database) -> dict[str, int]:
    return {
        name: await _scalar(database, select(func.count()).select_from(table))
        for name, table in TABLES.items()
    }


# --- the dataset on each backend ------------------------------------------------


async def test_seed_inserts_scaled_row_counts(
    database: Database, database_url: str
) -> None:
    """The report matches the tables, and counts follow the scale."""
    report = await seed_database(database_url, scale=SCALE, now=NOW)
    counts = await _row_counts(database)
    sizes = SeedSizes.from_scale(SCALE)

    assert counts == report.row_counts()
    assert counts["users"] == sizes.users == 100
    assert counts["articles"] == sizes.articles == 1_000
    assert counts["tags"] == sizes.tags
    assert counts["favorites"] == pytest.approx(10_000, rel=0.1)
    assert counts["comments"] == pytest.approx(5_000, rel=0.1)
    assert counts["follows"] == pytest.approx(2_000, rel=0.1)
    assert sizes.articles <= counts["article_tags"] <= 5 * sizes.articles
    assert report.elapsed_seconds > 0
    assert not report.is_skipped
    assert report.run_tag == ""


async def test_favorites_count_matches_favorite_rows(
    database: Database, database_url: str
) -> None:
    """Each article's favorites_count equals its number of favorite rows."""
    await seed_database(database_url, scale=SCALE, now=NOW)

    assert await _scalar(database, FAVORITES_COUNT_MISMATCHES) == 0


async def test_seeded_times_follow_causal_order(
    database: Database, database_url: str
) -> None:
    """Content comes after its author joined and after what it refers to."""
    await seed_database(database_url, scale=SCALE, now=NOW)

    for rule, query in TIME_ORDER_VIOLATIONS.items():
        assert await _scalar(database, query) == 0, rule


async def test_seeded_times_span_past_year(
    database: Database, database_url: str
) -> None:
    """Every timestamp is aware UTC within the year before `now`."""
    await seed_database(database_url, scale=SCALE, now=NOW)
    year_ago = NOW - timedelta(days=365)

    for table in (users, follows, articles, favorites, comments):
        first = await _scalar(database, select(func.min(table.c.created_at)))
        last = await _scalar(database, select(func.max(table.c.created_at)))
        assert first.tzinfo is not None, table.name
        assert year_ago <= first, table.name
        assert last <= NOW, table.name
        assert last - first > timedelta(days=90), table.name


async def test_seeded_links_have_no_duplicates(
    database: Database, database_url: str
) -> None:
    """No self-follows, unique slugs, and one to five tags per article."""
    await seed_database(database_url, scale=SCALE, now=NOW)
    tags_per_article = (
        select(func.count().label("tag_count"))
        .select_from(article_tags)
        .group_by(article_tags.c.article_id)
        .subquery()
    )

    self_follows = "SELECT count(*) FROM follows WHERE follower_id = followee_id"
    assert await _scalar(database, self_follows) == 0
    distinct_slugs = select(func.count(func.distinct(articles.c.slug)))
    assert await _scalar(database, distinct_slugs) == 1_000
    untagged = (
        "SELECT count(*) FROM articles WHERE NOT EXISTS "
        "(SELECT 1 FROM article_tags WHERE article_id = articles.id)"
    )
    assert await _scalar(database, untagged) == 0
    most_tags = select(func.max(tags_per_article.c.tag_count))
    assert await _scalar(database, most_tags) <= 5


async def test_seeded_names_pass_api_rules(
    database: Database, database_url: str
) -> None:
    """Usernames and emails validate like registrations, with canonical keys."""
    await seed_database(database_url, scale=SCALE, now=NOW)
    async with database.read() as connection:
        rows = (await connection.execute(select(users))).all()

    username_adapter = TypeAdapter(schemas.Username)
    email_adapter = TypeAdapter(schemas.Email)
    for row in rows:
        assert username_adapter.validate_python(row.username) == row.username
        assert email_adapter.validate_python(row.email) == row.email
        assert row.username_key == canonical_key(row.username)
        assert row.email_key == canonical_key(row.email)


async def test_popularity_is_skewed(database: Database, database_url: str) -> None:
    """A few articles, authors and tags take far more than their share."""
    report = await seed_database(database_url, scale=SCALE, now=NOW)
    top_articles = (
        select(articles.c.favorites_count.label("favorites"))
        .order_by(articles.c.favorites_count.desc())
        .limit(10)
        .subquery()
    )
    top_authors = (
        select(func.count().label("written"))
        .select_from(articles)
        .group_by(articles.c.author_id)
        .order_by(func.count().desc())
        .limit(10)
        .subquery()
    )
    tag_uses = (
        select(func.count().label("uses"))
        .select_from(article_tags)
        .group_by(article_tags.c.tag_id)
        .subquery()
    )
    followers = (
        select(func.count().label("followers"))
        .select_from(follows)
        .group_by(follows.c.followee_id)
        .subquery()
    )

    # 1% of articles (10 of 1,000) and 10% of users (10 of 100).
    top_favorites = await _scalar(database, select(func.sum(top_articles.c.favorites)))
    assert top_favorites / report.favorites > 0.05
    top_written = await _scalar(database, select(func.sum(top_authors.c.written)))
    assert top_written / report.articles > 0.3
    most_tagged = await _scalar(database, select(func.max(tag_uses.c.uses)))
    assert most_tagged / report.articles > 0.25
    most_followed = await _scalar(database, select(func.max(followers.c.followers)))
    assert most_followed / report.users > 0.5


# --- repeat runs ---------------------------------------------------------------


async def test_if_empty_skips_seeded_database(
    database: Database, database_url: str
) -> None:
    """With if_empty, a database that has users gets no new rows."""
    await seed_database(database_url, scale=SCALE, now=NOW)
    before = await _row_counts(database)

    report = await seed_database(database_url, scale=SCALE, if_empty=True, now=NOW)

    assert report.is_skipped
    assert report.existing_users == 100
    assert report.row_counts() == dict.fromkeys(TABLES, 0)
    assert await _row_counts(database) == before


async def test_if_empty_seeds_empty_database(
    database: Database, database_url: str
) -> None:
    """With if_empty, an empty database is seeded as usual."""
    report = await seed_database(database_url, scale=SCALE, if_empty=True, now=NOW)

    assert not report.is_skipped
    assert report.users == 100


async def test_second_seed_adds_tagged_rows(
    database: Database, database_url: str
) -> None:
    """A second run appends a run tag, so names and slugs stay unique."""
    first = await seed_database(database_url, scale=SCALE, now=NOW)
    second = await seed_database(database_url, scale=SCALE, now=NOW)
    third = await seed_database(database_url, scale=SCALE, now=NOW)

    assert (first.run_tag, second.run_tag, third.run_tag) == ("", "r2", "r3")
    assert second.existing_users == 100
    assert second.tags == 0
    assert second.login_email is not None
    assert second.login_email.endswith("-r2@example.com")
    assert (await _row_counts(database))["users"] == 300
    tagged_users = select(func.count()).where(users.c.username.like("%-r2"))
    assert await _scalar(database, tagged_users) == 100
    tagged_slugs = select(func.count()).where(articles.c.slug.like("%-r3"))
    assert await _scalar(database, tagged_slugs) == 1_000
    assert await _scalar(database, FAVORITES_COUNT_MISMATCHES) == 0


async def test_failed_seed_leaves_database_unchanged(
    database: Database, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An error mid-run rolls back the rows and any deferred indexes."""
    write = sink_module.RowSink.write
    calls = 0

    async def failing_write(self: sink_module.RowSink, batch: Any) -> None:
        nonlocal calls
        calls += 1
        if calls == 3:
            raise RuntimeError("injected failure")

        await write(self, batch)

    monkeypatch.setattr(sink_module.RowSink, "write", failing_write)
    indexes_before = await _index_names(database)

    with pytest.raises(RuntimeError, match="injected failure"):
        await seed_database(database_url, scale=SCALE, now=NOW, batch_rows=500)

    assert await _row_counts(database) == dict.fromkeys(TABLES, 0)
    assert await _index_names(database) == indexes_before


async def _index_names(database: Database) -> set[str]:
    if database.is_sqlite:
        query = "SELECT name FROM sqlite_master WHERE type = 'index'"
    else:
        query = "SELECT indexname FROM pg_indexes WHERE schemaname = 'public'"

    async with database.read() as connection:
        return set((await connection.execute(text(query))).scalars())


# --- logging in as a seeded user ---------------------------------------------


async def test_seeded_user_logs_in(
    client: httpx.AsyncClient, database_url: str
) -> None:
    """The reported account logs in with the demo password and has articles."""
    report = await seed_database(
        database_url, scale=SCALE, demo_password="another demo password", now=NOW
    )

    login = await client.post(
        "/users/login",
        json={
            "user": {"email": report.login_email, "password": "another demo password"}
        },
    )
    assert login.status_code == 200, login.text
    user = login.json()["user"]
    assert user["email"] == report.login_email

    me = await client.get("/user", headers={"Authorization": f"Token {user['token']}"})
    assert me.status_code == 200, me.text
    written = await client.get("/articles", params={"author": user["username"]})
    assert written.json()["articlesCount"] > 0
    listing = await client.get("/articles", params={"limit": 1})
    assert listing.json()["articlesCount"] == report.articles
    assert len((await client.get("/tags")).json()["tags"]) == report.tags


async def test_seeded_user_rejects_other_password(
    client: httpx.AsyncClient, database_url: str
) -> None:
    """Only the demo password that was passed opens a seeded account."""
    report = await seed_database(database_url, scale=0.01, now=NOW)

    login = await client.post(
        "/users/login",
        json={"user": {"email": report.login_email, "password": "not-the-password"}},
    )
    assert login.status_code == 401
    accepted = await client.post(
        "/users/login",
        json={"user": {"email": report.login_email, "password": DEMO_PASSWORD}},
    )
    assert accepted.status_code == 200


# --- determinism, arguments and the command line (SQLite only) --------------


async def _seed_fresh_sqlite(path: Path, random_seed: int) -> dict[str, list[Any]]:
    url = f"sqlite+aiosqlite:///{path}"
    database = Database(url)
    try:
        await migrate.upgrade(database)
        await seed_database(url, scale=0.05, random_seed=random_seed, now=NOW)
        async with database.read() as connection:
            return {
                name: (await connection.execute(_select_comparable(table))).all()
                for name, table in TABLES.items()
            }
    finally:
        await database.aclose()


def _select_comparable(table: Table) -> Select[Any]:
    # argon2 salts each hash at random, so two runs store different hashes.
    columns = [column for column in table.c if column.name != "password_hash"]
    return select(*columns)


async def test_same_random_seed_same_rows(tmp_path: Path) -> None:
    """The same seed and `now` give the same rows, another seed other rows."""
    first = await _seed_fresh_sqlite(tmp_path / "first.sqlite3", random_seed=7)
    again = await _seed_fresh_sqlite(tmp_path / "again.sqlite3", random_seed=7)
    other = await _seed_fresh_sqlite(tmp_path / "other.sqlite3", random_seed=8)

    assert first == again
    assert first["articles"] != other["articles"]
    assert first["favorites"] != other["favorites"]


@pytest.mark.parametrize("scale", [0, -1, math.nan, math.inf])
async def test_invalid_scale_raises(scale: float) -> None:
    """A scale that is not positive and finite raises ValueError."""
    with pytest.raises(ValueError, match="scale must be a positive finite number"):
        await seed_database("sqlite+aiosqlite:///unused.sqlite3", scale=scale)


async def test_short_demo_password_raises() -> None:
    """A demo password that the API would reject raises ValueError."""
    with pytest.raises(ValueError, match="demo password has 5 characters"):
        await seed_database("sqlite+aiosqlite:///unused.sqlite3", demo_password="short")


async def test_naive_now_raises() -> None:
    """`now` must carry a timezone."""
    with pytest.raises(ValueError, match="now must be timezone-aware"):
        await seed_database(
            "sqlite+aiosqlite:///unused.sqlite3", now=datetime(2026, 1, 1)
        )


def test_cli_seed_prints_login(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`livify seed` prints counts and a login, then --if-empty skips."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'cli.sqlite3'}"
    # main() exports options as LIVIFY_* variables; setenv restores them after.
    monkeypatch.setenv("LIVIFY_DATABASE_URL", url)
    monkeypatch.setenv("LIVIFY_DATA_DIR", str(tmp_path))
    arguments = ["seed", "--database-url", url, "--scale", "0.01"]

    assert main([*arguments, "--demo-password", "cli demo password"]) == 0
    output = capsys.readouterr().out
    assert "Seeded 10 users," in output
    assert "with password 'cli demo password'." in output

    assert main([*arguments, "--if-empty"]) == 0
    assert "already has 10 users, so nothing was seeded" in capsys.readouterr().out


def test_cli_seed_rejects_bad_scale(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A bad --scale exits with status 2 and a message, not a traceback."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'cli.sqlite3'}"
    monkeypatch.setenv("LIVIFY_DATABASE_URL", url)
    monkeypatch.setenv("LIVIFY_DATA_DIR", str(tmp_path))

    assert main(["seed", "--database-url", url, "--scale", "0"]) == 2
    assert "scale must be a positive finite number" in capsys.readouterr().err


# --- the Zipf helpers -----------------------------------------------------------


def test_allocation_shares_add_up_to_total() -> None:
    """Shares sum to the total, and no rank gets more than the cap."""
    allocation = ZipfAllocation(10_000, 100_000, 1.0, cap=1_000)
    shares = [allocation.share(rank) for rank in range(10_000)]

    assert math.fsum(shares) == pytest.approx(100_000)
    assert max(shares) == 1_000
    assert shares == sorted(shares, reverse=True)


def test_allocation_caps_oversized_total() -> None:
    """A total above size * cap gives every rank the cap."""
    allocation = ZipfAllocation(10, 1_000, 1.0, cap=20)

    assert [allocation.share(rank) for rank in range(10)] == [20] * 10


def test_allocation_is_skewed_at_default_size() -> None:
    """At scale 1 the top 1% of articles get over a third of all favorites."""
    allocation = ZipfAllocation(10_000, 100_000, 1.0, cap=1_000)
    rng = random.Random(1)
    counts = sorted(
        (allocation.draw(rank, rng) for rank in range(10_000)), reverse=True
    )

    assert sum(counts) == pytest.approx(100_000, rel=0.01)
    assert sum(counts[:100]) / sum(counts) > 1 / 3


def test_sampler_prefers_low_ranks() -> None:
    """Rank 0 is drawn most often and every draw is in range."""
    sampler = ZipfSampler(50, 1.0)
    rng = random.Random(1)
    draws = [sampler.sample(rng) for _ in range(5_000)]

    assert min(draws) == 0
    assert max(draws) < 50
    assert max(set(draws), key=draws.count) == 0
