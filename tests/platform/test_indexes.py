"""Every list query the API sends uses an index on a realistically sized table.

The fixture bulk-loads 30,000 articles with tags, favorites, follows and
comments straight into PostgreSQL, then each test calls one endpoint, records
the SQL it sends and runs `EXPLAIN (FORMAT JSON)` on each statement with the
recorded parameters.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg  # type: ignore[import-untyped]  # asyncpg ships no type hints
import httpx
import pytest
import pytest_asyncio
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from pydantic import SecretStr

from livify.app import create_app
from livify.settings import Settings
from tests.conftest import create_postgres_database, drop_postgres_database
from tests.platform.inspection import StatementRecorder

pytestmark = [pytest.mark.postgres, pytest.mark.asyncio(loop_scope="module")]

USERS = 2_000
ARTICLES = 30_000
TAGS = 100
FAVORITES_PER_USER = 20
FOLLOWS_PER_USER = 10
COMMENTS = 60_000

# Tables that grow with use. A sequential scan of a small table, such as
# `tags`, is cheaper than an index and is allowed.
LARGE_TABLES = {"articles", "comments", "favorites", "follows"}
INDEX_NODES = {"Index Scan", "Index Only Scan", "Bitmap Index Scan"}

# Bodies of about 1 KB, so the heap is as much larger than the indexes as it
# is with real articles. `n` is the row number from generate_series.
SEED_SQL = f"""
INSERT INTO users (username, username_key, email, email_key, password_hash,
                   created_at, updated_at)
SELECT 'user_' || n, 'user_' || n, 'user_' || n || '@example.com',
       'user_' || n || '@example.com', 'not a hash', now(), now()
FROM generate_series(1, {USERS}) AS n;

INSERT INTO articles (slug, title, description, body, author_id, created_at,
                      updated_at)
SELECT 'article-' || n, 'Article ' || n, 'About article ' || n,
       repeat('Lorem ipsum dolor sit amet. ', 36), 1 + n % {USERS},
       now() - n * interval '1 minute', now() - n * interval '1 minute'
FROM generate_series(1, {ARTICLES}) AS n;

INSERT INTO tags (name) SELECT 'tag-' || n FROM generate_series(1, {TAGS}) AS n;

INSERT INTO article_tags (article_id, tag_id)
SELECT a.id, t.tag_id
FROM articles AS a
CROSS JOIN LATERAL (VALUES (1 + a.id % {TAGS}),
                           (1 + (a.id + {TAGS // 2}) % {TAGS})) AS t(tag_id);

INSERT INTO favorites (user_id, article_id, created_at)
SELECT u, 1 + (u * 13 + k * 1009) % {ARTICLES}, now()
FROM generate_series(1, {USERS}) AS u,
     generate_series(0, {FAVORITES_PER_USER - 1}) AS k
ON CONFLICT DO NOTHING;

UPDATE articles SET favorites_count = counted.total
FROM (SELECT article_id, count(*) AS total FROM favorites GROUP BY article_id)
     AS counted
WHERE counted.article_id = articles.id;

INSERT INTO follows (follower_id, followee_id, created_at)
SELECT u, 1 + (u + k * 37) % {USERS}, now()
FROM generate_series(1, {USERS}) AS u,
     generate_series(1, {FOLLOWS_PER_USER}) AS k
WHERE 1 + (u + k * 37) % {USERS} <> u
ON CONFLICT DO NOTHING;

INSERT INTO comments (article_id, author_id, body, created_at, updated_at)
SELECT 1 + n % {ARTICLES}, 1 + n % {USERS}, 'Comment ' || n,
       now() - n * interval '1 second', now() - n * interval '1 second'
FROM generate_series(1, {COMMENTS}) AS n;
"""


@dataclass(frozen=True)
class Seeded:
    app: FastAPI
    client: httpx.AsyncClient
    connection: asyncpg.Connection
    viewer_headers: dict[str, str]


@dataclass(frozen=True)
class Endpoint:
    """A request and the large tables its queries must reach through an index."""

    path: str
    params: dict[str, str]
    indexed_tables: frozenset[str]


ENDPOINTS = {
    "list all": Endpoint("/articles", {}, frozenset({"articles"})),
    "by tag": Endpoint("/articles", {"tag": "tag-5"}, frozenset({"article_tags"})),
    "by author": Endpoint("/articles", {"author": "user_7"}, frozenset({"articles"})),
    "by favorited": Endpoint(
        "/articles", {"favorited": "user_3"}, frozenset({"favorites"})
    ),
    "feed": Endpoint("/articles/feed", {}, frozenset({"follows", "articles"})),
    "comments": Endpoint("/articles/article-5/comments", {}, frozenset({"comments"})),
}


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def seeded(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Seeded]:
    """A migrated PostgreSQL database with the bulk data set, and the app on it."""
    url = await create_postgres_database()
    data_dir: Path = tmp_path_factory.mktemp("indexes")
    settings = Settings(
        data_dir=data_dir,
        database_url=url,
        secret_key=SecretStr("index-test-key-" + "x" * 32),
    )
    app = create_app(settings)
    try:
        async with LifespanManager(app) as manager:
            connection = await asyncpg.connect(url)
            try:
                await connection.execute(SEED_SQL)
                # VACUUM sets the visibility map, as autovacuum does on a live
                # database. Without it, PostgreSQL cannot plan index-only scans
                # and reads the whole heap to count all articles.
                await connection.execute("VACUUM ANALYZE")
                token = app.state.context.tokens.issue(1)
                transport = httpx.ASGITransport(app=manager.app)
                async with httpx.AsyncClient(
                    transport=transport, base_url="http://testserver/api"
                ) as client:
                    yield Seeded(
                        app, client, connection, {"Authorization": f"Token {token}"}
                    )
            finally:
                await connection.close()
    finally:
        await drop_postgres_database(url)


def walk(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Yield a plan node and every node below it, subplans included."""
    yield plan
    for child in plan.get("Plans", []):
        yield from walk(child)


async def explain(
    connection: asyncpg.Connection, statement: str, parameters: Any
) -> dict[str, Any]:
    output = await connection.fetchval(
        "EXPLAIN (FORMAT JSON) " + statement, *(parameters or ())
    )
    plan: dict[str, Any] = json.loads(output)[0]["Plan"]
    return plan


async def index_tables(connection: asyncpg.Connection) -> dict[str, str]:
    """Map index names to tables, since Bitmap Index Scan nodes name only the index."""
    rows = await connection.fetch(
        "SELECT indexname, tablename FROM pg_indexes WHERE schemaname = 'public'"
    )
    return {row["indexname"]: row["tablename"] for row in rows}


def describe(node: dict[str, Any]) -> str:
    relation = node.get("Relation Name", "")
    index = node.get("Index Name", "")
    return f"{node['Node Type']} {relation} {index}".strip()


@pytest.mark.parametrize("name", list(ENDPOINTS))
async def test_queries_use_indexes(seeded: Seeded, name: str) -> None:
    """Each statement reads through an index, never a full scan of a large table."""
    endpoint = ENDPOINTS[name]
    with StatementRecorder(seeded.app) as recorder:
        response = await seeded.client.get(
            endpoint.path, params=endpoint.params, headers=seeded.viewer_headers
        )
    assert response.status_code == 200, response.text
    assert response.json()["comments" if name == "comments" else "articles"], (
        "the data set must give every endpoint some rows"
    )

    table_of_index = await index_tables(seeded.connection)
    reached: set[str] = set()
    for statement, parameters in recorder.queries():
        plan = await explain(seeded.connection, statement, parameters)
        nodes = [describe(node) for node in walk(plan)]
        index_nodes = [node for node in walk(plan) if node["Node Type"] in INDEX_NODES]
        full_scans = {
            node["Relation Name"]
            for node in walk(plan)
            if node["Node Type"] == "Seq Scan" and node["Relation Name"] in LARGE_TABLES
        }

        assert index_nodes, (statement, nodes)
        assert not full_scans, (statement, nodes)
        reached |= {table_of_index[node["Index Name"]] for node in index_nodes}

    missing = endpoint.indexed_tables - reached
    assert not missing, (name, sorted(reached))
