"""The catalogue of a target's articles, tags and authors, ranked by popularity."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from livify.loadtest._popularity import Popularity
from livify.loadtest._session import Session

CATALOGUE_PAGES = 2
CATALOGUE_PAGE_SIZE = 100
SETUP_STEP = "setup.catalogue"


@dataclass
class Catalogue:
    """Items that journeys read, each ranked most popular first.

    Articles rank by favorites, tags by how many of the sampled articles
    carry them, authors by how many of the sampled articles they wrote.
    """

    articles: Popularity[str] = field(default_factory=lambda: Popularity([]))
    tags: Popularity[str] = field(default_factory=lambda: Popularity([]))
    authors: Popularity[str] = field(default_factory=lambda: Popularity([]))


def load_catalogue(
    session: Session,
    *,
    pages: int = CATALOGUE_PAGES,
    page_size: int = CATALOGUE_PAGE_SIZE,
) -> Catalogue:
    """Read the newest articles and the tag list through `session`.

    These requests count under the step `setup.catalogue`. A target with no
    articles gives an empty catalogue, and steps that need an article skip.
    """
    articles: list[dict[str, Any]] = []
    for page in range(pages):
        reply = session.request(
            "GET",
            f"/api/articles?limit={page_size}&offset={page * page_size}",
            endpoint="GET /api/articles",
            step=SETUP_STEP,
        )
        batch = _list_field(reply.body, "articles") if reply.is_success else []
        articles.extend(batch)
        if len(batch) < page_size:
            break

    reply = session.request(
        "GET", "/api/tags", endpoint="GET /api/tags", step=SETUP_STEP
    )
    listed_tags = _list_field(reply.body, "tags") if reply.is_success else []
    return build_catalogue(articles, [str(tag) for tag in listed_tags])


def build_catalogue(
    articles: list[dict[str, Any]], listed_tags: list[str]
) -> Catalogue:
    """Rank the sampled `articles` and tags; unknown fields are ignored."""
    by_favorites = sorted(
        (a for a in articles if isinstance(a.get("slug"), str)),
        key=lambda article: -int(article.get("favoritesCount") or 0),
    )
    slugs = list(dict.fromkeys(article["slug"] for article in by_favorites))

    tag_counts: Counter[str] = Counter()
    author_counts: Counter[str] = Counter()
    for article in articles:
        tag_counts.update(str(tag) for tag in article.get("tagList") or [])
        author = (article.get("author") or {}).get("username")
        if isinstance(author, str):
            author_counts[author] += 1

    # Tags in the list that no sampled article carries rank after the others.
    tags = [tag for tag, _ in tag_counts.most_common()]
    tags += [tag for tag in listed_tags if tag not in tag_counts]
    authors = [author for author, _ in author_counts.most_common()]
    return Catalogue(Popularity(slugs), Popularity(tags), Popularity(authors))


def _list_field(body: Any, name: str) -> list[Any]:
    value = body.get(name) if isinstance(body, dict) else None
    return value if isinstance(value, list) else []
