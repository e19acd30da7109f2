"""Fill the caches with the reads most callers will make next.

Warming sends ordinary anonymous GETs through the whole application, so it
fills exactly what real reads fill. That is the response cache and the
service caches, Redis (L2, shared by every process) when configured, and
the edge cache too when pointed at Varnish. The hot set is the tag list,
the first pages of the article list, and the most favorited articles with
their comments and their authors' profiles.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from urllib.parse import quote

import httpx
import structlog
from sqlalchemy import select

from livify.db import Database
from livify.platform import limits
from livify.platform.tables import ARTICLE_IS_PUBLISHED, articles, users

logger = structlog.get_logger(__name__)

DEFAULT_TOP_ARTICLES = 100
DEFAULT_LIST_PAGES = 5


@dataclass(frozen=True, slots=True)
class WarmResult:
    requests: int
    failures: int
    elapsed_seconds: float


async def hot_paths(
    database: Database,
    *,
    top_articles: int = DEFAULT_TOP_ARTICLES,
    list_pages: int = DEFAULT_LIST_PAGES,
) -> list[str]:
    """Return the API paths to warm, most valuable first."""
    query = (
        select(articles.c.slug, users.c.username)
        .join(users, users.c.id == articles.c.author_id)
        .where(ARTICLE_IS_PUBLISHED)
        .order_by(articles.c.favorites_count.desc(), articles.c.id.desc())
        .limit(top_articles)
    )
    async with database.read() as connection:
        rows = (await connection.execute(query)).all()

    paths = ["/api/tags"]
    page_size = limits.PAGE_SIZE_DEFAULT
    paths += [
        f"/api/articles?limit={page_size}&offset={page * page_size}"
        for page in range(list_pages)
    ]
    for slug, username in rows:
        paths += [
            f"/api/articles/{quote(slug)}",
            f"/api/articles/{quote(slug)}/comments",
            f"/api/profiles/{quote(username)}",
        ]

    return list(dict.fromkeys(paths))


async def warm(client: httpx.AsyncClient, paths: list[str]) -> WarmResult:
    """GET every path once with `client`; failures are counted, not raised."""
    started = time.perf_counter()
    failures = 0
    for path in paths:
        try:
            response = await client.get(path)
        except httpx.HTTPError as exc:
            failures += 1
            logger.warning("cache.warm_failed", path=path, error=repr(exc))
            continue

        if response.status_code != 200:
            failures += 1
            logger.warning("cache.warm_failed", path=path, status=response.status_code)

    result = WarmResult(len(paths), failures, time.perf_counter() - started)
    logger.info(
        "cache.warmed",
        requests=result.requests,
        failures=result.failures,
        elapsed_seconds=round(result.elapsed_seconds, 3),
    )
    return result
