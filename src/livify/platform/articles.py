"""Articles: create, read, edit, delete, list, feed and favorites.

Every read that returns articles goes through `_render_rows`, which loads
tags, the viewer's favorites and the viewer's follows for the whole page in
one query each. A page therefore costs the same number of statements at any
page size: count, page, tags, favorites, follows.

With moderation on, a new or edited article is published only once the
moderation service approves it. Until then only its author can read it, by
its slug; lists, the feed and every cached view show published articles.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import orjson
from sqlalchemy import (
    ColumnElement,
    Select,
    delete,
    func,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from livify.platform import render, schemas, slugs
from livify.platform.cache_keys import (
    ARTICLE_LISTS,
    FAVORITED_LISTS,
    PROFILES,
    article_key,
    follows_key,
)
from livify.platform.caching import CachedRead
from livify.platform.errors import Forbidden, NotFound
from livify.platform.events import ArticleChanged, ArticleDeleted, FavoriteChanged
from livify.platform.keys import canonical_key
from livify.platform.moderation import ARTICLE, dequeue, dequeue_article, enqueue
from livify.platform.profiles import followed_among
from livify.platform.services import Context
from livify.platform.sql import insert_ignoring_conflicts
from livify.platform.tables import (
    APPROVED,
    ARTICLE_IS_PUBLISHED,
    PENDING,
    article_tags,
    articles,
    favorites,
    follows,
    tags,
    users,
    utcnow,
)

SLUG_ATTEMPTS = 5
MODERATED_FIELDS = ("title", "description", "body")

ARTICLE_COLUMNS = (
    *articles.c,
    users.c.username.label("author_username"),
    users.c.bio.label("author_bio"),
    users.c.image.label("author_image"),
)
NEWEST_FIRST = (articles.c.created_at.desc(), articles.c.id.desc())

if TYPE_CHECKING:
    from livify.platform.sql import AnyRow


@dataclass(frozen=True, slots=True)
class ArticleFilter:
    """Filters of `GET /articles`; None means "not filtered on this"."""

    tag: str | None = None
    author: str | None = None
    favorited_by: str | None = None


class ArticleService:
    def __init__(self, context: Context) -> None:
        self._context = context

    # --- reads -----------------------------------------------------------------

    async def get(self, slug: str, viewer_id: int | None) -> CachedRead:
        """Return one article; the public view is cached for every caller."""

        async def load() -> dict[str, Any]:
            async with self._context.database.read() as connection:
                row = await _find_article(connection, slug, published_only=True)
                return _view_value(
                    [row],
                    await _render_rows(connection, [row], None, with_body=True),
                    1,
                )

        try:
            view = await self._context.cache.load(
                "article", slug, load, tags=[article_key(slug), PROFILES]
            )
        except NotFound:
            if viewer_id is None:
                raise

            return await self._get_unpublished(slug, viewer_id)

        (article,) = await self._context.viewer.personalize_articles(
            view["articles"], view["refs"], viewer_id
        )
        return CachedRead(
            {"article": article}, frozenset({article_key(slug), PROFILES})
        )

    async def _get_unpublished(self, slug: str, author_id: int) -> CachedRead:
        """Return the author's own article that moderation has not approved."""
        async with self._context.database.read() as connection:
            row = await _find_visible_article(connection, slug, author_id)
            rendered = await _render_one(connection, row, author_id)

        return CachedRead({"article": rendered}, frozenset({article_key(slug)}))

    async def list(
        self,
        filters: ArticleFilter,
        viewer_id: int | None,
        *,
        limit: int,
        offset: int,
    ) -> CachedRead:
        """Return one page of articles, newest first, and the total matching."""
        conditions = [ARTICLE_IS_PUBLISHED, *_filter_conditions(filters)]
        tags = [ARTICLE_LISTS, PROFILES]
        if filters.favorited_by is not None:
            tags.append(FAVORITED_LISTS)

        key = orjson.dumps(
            [filters.tag, filters.author, filters.favorited_by, limit, offset]
        ).decode()
        return await self._page(
            key, tags, conditions, viewer_id, limit=limit, offset=offset
        )

    async def feed(self, viewer_id: int, *, limit: int, offset: int) -> CachedRead:
        """Return articles by authors the viewer follows, newest first."""
        followed = select(follows.c.followee_id).where(
            follows.c.follower_id == viewer_id
        )
        conditions = [ARTICLE_IS_PUBLISHED, articles.c.author_id.in_(followed)]
        tags = [ARTICLE_LISTS, PROFILES, follows_key(viewer_id)]
        key = f"feed:{viewer_id}:{limit}:{offset}"
        return await self._page(
            key, tags, conditions, viewer_id, limit=limit, offset=offset
        )

    async def unpublished(
        self, author_id: int, *, limit: int, offset: int
    ) -> dict[str, Any]:
        """Return the author's articles that moderation has not published.

        Newest first, each with its `moderation` status. Only the author may
        see them, so they are read from the database on every call, like
        one held article read by its slug.
        """
        conditions = [articles.c.author_id == author_id, ~ARTICLE_IS_PUBLISHED]
        async with self._context.database.read() as connection:
            page = await _load_page(
                connection, conditions, limit, offset, viewer_id=author_id
            )
        return {"articles": page["articles"], "articlesCount": page["count"]}

    async def _page(
        self,
        key: str,
        tags: Sequence[str],
        conditions: Sequence[ColumnElement[bool]],
        viewer_id: int | None,
        *,
        limit: int,
        offset: int,
    ) -> CachedRead:
        """Serve a cached public page with current counts and the viewer's flags.

        A favorite changes one article's count without changing any page's
        membership, so pages are not invalidated by favorites; the counts
        are cached per article instead (`_favorites_counts`).
        """

        async def load() -> dict[str, Any]:
            async with self._context.database.read() as connection:
                return await _load_page(connection, conditions, limit, offset)

        page = await self._context.cache.load("article_page", key, load, tags=tags)
        refs = [tuple(ref) for ref in page["refs"]]
        counts = await self._favorites_counts(
            [
                (article_id, article["slug"])
                for article, (article_id, _) in zip(page["articles"], refs, strict=True)
            ]
        )
        public = [
            {
                **article,
                "favoritesCount": counts.get(article_id, article["favoritesCount"]),
            }
            for article, (article_id, _) in zip(page["articles"], refs, strict=True)
        ]
        personal = await self._context.viewer.personalize_articles(
            public, refs, viewer_id
        )
        keys = {*tags, *(article_key(article["slug"]) for article in public)}
        return CachedRead(
            {"articles": personal, "articlesCount": page["count"]}, frozenset(keys)
        )

    async def _favorites_counts(
        self, articles_on_page: Sequence[tuple[int, str]]
    ) -> dict[int, int]:
        """Return the current favorite count of each (article id, slug).

        Each count is cached under its article's key, which every favorite,
        edit and delete of the article invalidates, so a page whose articles
        did not change costs no query. Without a cache, one primary-key
        query reads them all.
        """
        cache = self._context.cache
        if not cache.is_enabled:
            return await self._read_favorites_counts(
                [article_id for article_id, _ in articles_on_page]
            )

        counts: dict[int, int] = {}
        missing: list[tuple[int, str]] = []
        for article_id, slug in articles_on_page:
            count = cache.peek("favorites_count", str(article_id))
            if count is None:
                missing.append((article_id, slug))
            else:
                counts[article_id] = count

        loaded = await asyncio.gather(
            *(self._cached_favorites_count(*article) for article in missing)
        )
        for (article_id, _), count in zip(missing, loaded, strict=True):
            if count is not None:
                counts[article_id] = count
        return counts

    async def _cached_favorites_count(self, article_id: int, slug: str) -> int | None:
        """Return one article's count, or None when the article is gone."""

        async def load() -> int | None:
            counts = await self._read_favorites_counts([article_id])
            return counts.get(article_id)

        count: int | None = await self._context.cache.load(
            "favorites_count", str(article_id), load, tags=[article_key(slug)]
        )
        return count

    async def _read_favorites_counts(
        self, article_ids: Sequence[int]
    ) -> dict[int, int]:
        if not article_ids:
            return {}

        query = select(articles.c.id, articles.c.favorites_count).where(
            articles.c.id.in_(article_ids)
        )
        async with self._context.database.read() as connection:
            return {
                row.id: row.favorites_count for row in await connection.execute(query)
            }

    # --- writes ----------------------------------------------------------------

    async def create(self, author_id: int, new: schemas.NewArticle) -> dict[str, Any]:
        """Store a new article, published at once unless moderation puts it on hold.

        Raises Unprocessable (422) when moderation rejects it.
        """
        status = await self._screen(
            {"title": new.title, "description": new.description, "body": new.body}
        )
        now = utcnow()
        tag_names = _unique_tags(new.tag_list)

        async with self._context.database.write() as connection:
            article_id, slug = await _insert_with_unique_slug(
                connection,
                {
                    "title": new.title,
                    "description": new.description,
                    "body": new.body,
                    "author_id": author_id,
                    "created_at": now,
                    "updated_at": now,
                    "moderation_status": status,
                },
            )
            await _set_tags(connection, article_id, tag_names, replace=False)
            if status == PENDING:
                await enqueue(connection, ARTICLE, article_id, now)

            row = await _find_article(connection, slug)
            rendered = await _render_one(connection, row, author_id)

        # A held article changes no public view until the worker publishes it.
        if status == APPROVED:
            await self._context.events.publish(
                ArticleChanged(article_id, slug, author_id, tuple(tag_names))
            )
        return rendered

    async def update(
        self, slug: str, user_id: int, changes: schemas.UpdateArticle
    ) -> dict[str, Any]:
        """Edit an article the user wrote; a new title gives a new slug.

        New text is moderated like a new article: a rejection (422) changes
        nothing, and text held as pending hides the article from others
        until it is approved.
        """
        sent = changes.model_dump(include=changes.model_fields_set)
        status = await self._screen_edit(slug, user_id, sent)

        async with self._context.database.write() as connection:
            row = await _find_visible_article(connection, slug, user_id)
            _check_author(row, user_id, "article")

            values: dict[str, Any] = {
                key: sent[key] for key in MODERATED_FIELDS if key in sent
            }
            values["updated_at"] = utcnow()
            if status is not None:
                values["moderation_status"] = status
                await _queue_for_status(connection, row.id, status, values)
            new_slug = row.slug
            if "title" in sent and slugs.base_slug(sent["title"]) != _slug_base(
                row.slug
            ):
                new_slug = await _update_with_unique_slug(
                    connection, row.id, values, sent["title"]
                )
            else:
                await connection.execute(
                    update(articles).where(articles.c.id == row.id).values(values)
                )

            if "tag_list" in sent:
                await _set_tags(
                    connection, row.id, _unique_tags(sent["tag_list"]), replace=True
                )

            updated = await _find_article(connection, new_slug)
            rendered = await _render_one(connection, updated, user_id)

        previous_slug = row.slug if new_slug != row.slug else None
        # An edit of an article that only its author can read changes no public view.
        is_public_before = row.moderation_status == APPROVED
        is_public_after = (status or row.moderation_status) == APPROVED
        if is_public_before or is_public_after:
            await self._context.events.publish(
                ArticleChanged(
                    row.id,
                    new_slug,
                    row.author_id,
                    tuple(rendered["tagList"]),
                    previous_slug,
                )
            )
        return rendered

    async def _screen(self, fields: dict[str, str]) -> str:
        moderation = self._context.moderation
        if moderation is None:
            return APPROVED

        return await moderation.screen(ARTICLE, fields)

    async def _screen_edit(
        self, slug: str, user_id: int, sent: dict[str, Any]
    ) -> str | None:
        """Moderate the article as the edit leaves it; None if its text is kept.

        The check runs before the write transaction, so no connection is
        held while the service responds.
        """
        if self._context.moderation is None or not any(
            key in sent for key in MODERATED_FIELDS
        ):
            return None

        async with self._context.database.read() as connection:
            row = await _find_visible_article(connection, slug, user_id)

        _check_author(row, user_id, "article")
        # NOTE: an edit that commits between this read and the write below
        # can change a field that this check did not see.
        fields = {key: sent.get(key, getattr(row, key)) for key in MODERATED_FIELDS}
        return await self._screen(fields)

    async def delete(self, slug: str, user_id: int) -> None:
        async with self._context.database.write() as connection:
            row = await _find_visible_article(connection, slug, user_id)
            _check_author(row, user_id, "article")
            tag_names = (await _tags_by_article(connection, [row.id]))[row.id]
            await dequeue_article(connection, row.id)
            await connection.execute(delete(articles).where(articles.c.id == row.id))

        await self._context.events.publish(
            ArticleDeleted(row.id, row.slug, row.author_id, tuple(tag_names))
        )

    async def favorite(self, slug: str, user_id: int) -> dict[str, Any]:
        """Favorite an article; favoriting twice, even at once, counts once."""
        return await self._set_favorite(slug, user_id, is_favorite=True)

    async def unfavorite(self, slug: str, user_id: int) -> dict[str, Any]:
        return await self._set_favorite(slug, user_id, is_favorite=False)

    async def _set_favorite(
        self, slug: str, user_id: int, *, is_favorite: bool
    ) -> dict[str, Any]:
        async with self._context.database.write() as connection:
            row = await _find_visible_article(connection, slug, user_id)
            is_changed = await _change_favorite(
                connection, row.id, user_id, is_favorite
            )
            # Re-read even when nothing changed, because on PostgreSQL the same
            # user's concurrent request may have committed while this one
            # waited on the favorite row, which leaves the count above stale.
            row = await _find_article(connection, slug)
            rendered = await _render_one(connection, row, user_id)

        if is_changed:
            await self._context.events.publish(
                FavoriteChanged(user_id, row.id, row.slug, is_favorite)
            )
        return rendered


# --- queries ---------------------------------------------------------------------


def _articles_with_authors() -> Select[*tuple[Any, ...]]:
    return select(*ARTICLE_COLUMNS).join(users, users.c.id == articles.c.author_id)


def _filter_conditions(filters: ArticleFilter) -> Iterable[ColumnElement[bool]]:
    if filters.tag is not None:
        tagged = (
            select(article_tags.c.article_id)
            .join(tags, tags.c.id == article_tags.c.tag_id)
            .where(tags.c.name == filters.tag)
        )
        yield articles.c.id.in_(tagged)

    if filters.author is not None:
        author = select(users.c.id).where(
            users.c.username_key == canonical_key(filters.author)
        )
        yield articles.c.author_id.in_(author)

    if filters.favorited_by is not None:
        favoriter = select(users.c.id).where(
            users.c.username_key == canonical_key(filters.favorited_by)
        )
        favorited = select(favorites.c.article_id).where(
            favorites.c.user_id.in_(favoriter)
        )
        yield articles.c.id.in_(favorited)


async def _load_page(
    connection: AsyncConnection,
    conditions: Sequence[ColumnElement[bool]],
    limit: int,
    offset: int,
    *,
    viewer_id: int | None = None,
) -> dict[str, Any]:
    """Load one page: the total, the articles and their (id, author id).

    Without `viewer_id` the page is the public view that every caller shares.
    """
    count_query = select(func.count()).select_from(articles).where(*conditions)
    total = (await connection.execute(count_query)).scalar_one()

    rows: Sequence[AnyRow] = []
    if total > offset:
        page_query = (
            _articles_with_authors()
            .where(*conditions)
            .order_by(*NEWEST_FIRST)
            .limit(limit)
            .offset(offset)
        )
        rows = (await connection.execute(page_query)).all()

    rendered = await _render_rows(connection, rows, viewer_id, with_body=False)
    return _view_value(rows, rendered, total)


def _view_value(
    rows: Sequence[AnyRow], rendered: list[dict[str, Any]], count: int
) -> dict[str, Any]:
    """Pack public views with the ids the viewer's flags need, for caching."""
    return {
        "articles": rendered,
        "refs": [[row.id, row.author_id] for row in rows],
        "count": count,
    }


async def _find_article(
    connection: AsyncConnection, slug: str, *, published_only: bool = False
) -> AnyRow:
    query = _articles_with_authors().where(articles.c.slug == slug)
    if published_only:
        query = query.where(ARTICLE_IS_PUBLISHED)

    row = (await connection.execute(query)).one_or_none()
    if row is None:
        raise NotFound("article", f"{slug!r} not found")

    return row


async def _find_visible_article(
    connection: AsyncConnection, slug: str, viewer_id: int
) -> AnyRow:
    """Find a published article, or an unpublished one that the viewer wrote.

    Anyone else gets 404 for an unpublished article, not 403, so its slug
    does not reveal that it exists.
    """
    row = await _find_article(connection, slug)
    if row.moderation_status != APPROVED and row.author_id != viewer_id:
        raise NotFound("article", f"{slug!r} not found")

    return row


async def _render_one(
    connection: AsyncConnection, row: AnyRow, viewer_id: int | None
) -> dict[str, Any]:
    (rendered,) = await _render_rows(connection, [row], viewer_id, with_body=True)
    return rendered


async def _render_rows(
    connection: AsyncConnection,
    rows: Sequence[AnyRow],
    viewer_id: int | None,
    *,
    with_body: bool,
) -> list[dict[str, Any]]:
    if not rows:
        return []

    article_ids = [row.id for row in rows]
    tags_by_article = await _tags_by_article(connection, article_ids)
    favorited = await _favorited_among(connection, viewer_id, article_ids)
    following = await followed_among(
        connection, viewer_id, {row.author_id for row in rows}
    )

    return [
        render.article(
            row,
            tags=tags_by_article[row.id],
            favorited=row.id in favorited,
            following=row.author_id in following,
            with_body=with_body,
        )
        for row in rows
    ]


async def _tags_by_article(
    connection: AsyncConnection, article_ids: Sequence[int]
) -> defaultdict[int, list[str]]:
    """Return each article's tag names in code point order.

    Sorting here rather than in SQL gives the same order on every database,
    whatever collation PostgreSQL was initialised with.
    """
    result = await connection.execute(
        select(article_tags.c.article_id, tags.c.name)
        .join(tags, tags.c.id == article_tags.c.tag_id)
        .where(article_tags.c.article_id.in_(article_ids))
    )
    by_article: defaultdict[int, list[str]] = defaultdict(list)
    for article_id, name in result:
        by_article[article_id].append(name)

    for names in by_article.values():
        names.sort()

    return by_article


async def _favorited_among(
    connection: AsyncConnection, user_id: int | None, article_ids: Sequence[int]
) -> set[int]:
    if user_id is None:
        return set()

    result = await connection.execute(
        select(favorites.c.article_id).where(
            favorites.c.user_id == user_id,
            favorites.c.article_id.in_(article_ids),
        )
    )
    return set(result.scalars())


# --- writes ----------------------------------------------------------------------


async def _queue_for_status(
    connection: AsyncConnection, article_id: int, status: str, values: dict[str, Any]
) -> None:
    """Queue an edit held as pending; drop a queued check that an approval ends."""
    if status == PENDING:
        await enqueue(connection, ARTICLE, article_id, values["updated_at"])
    else:
        await dequeue(connection, ARTICLE, article_id)


def _check_author(row: AnyRow, user_id: int, resource: str) -> None:
    if row.author_id != user_id:
        raise Forbidden(resource, "only its author may change it")


def _unique_tags(names: Sequence[str]) -> list[str]:
    return sorted(set(names))


def _slug_base(slug: str) -> str:
    """Strip a random suffix that `with_random_suffix` added, if any."""
    head, _, tail = slug.rpartition("-")
    is_suffix = len(tail) == 2 * slugs.SUFFIX_BYTES and all(
        character in "0123456789abcdef" for character in tail
    )
    return head if head and is_suffix else slug


async def _insert_with_unique_slug(
    connection: AsyncConnection, values: dict[str, Any]
) -> tuple[int, str]:
    """Insert the article under its title's slug, or a suffixed one if taken.

    ON CONFLICT DO NOTHING ... RETURNING returns no row when the slug exists,
    so a taken slug costs a retry, not a failed transaction.
    """
    base = slugs.base_slug(values["title"])
    candidate = base
    for _ in range(SLUG_ATTEMPTS):
        statement = (
            insert_ignoring_conflicts(connection, articles)
            .values(slug=candidate, **values)
            .returning(articles.c.id)
        )
        article_id = (await connection.execute(statement)).scalar_one_or_none()
        if article_id is not None:
            return article_id, candidate

        candidate = slugs.with_random_suffix(base)

    msg = f"no free slug for {base!r} after {SLUG_ATTEMPTS} attempts"
    raise RuntimeError(msg)


async def _update_with_unique_slug(
    connection: AsyncConnection, article_id: int, values: dict[str, Any], title: str
) -> str:
    base = slugs.base_slug(title)
    candidate = base
    for _ in range(SLUG_ATTEMPTS):
        is_taken = (
            await connection.execute(
                select(articles.c.id).where(
                    articles.c.slug == candidate, articles.c.id != article_id
                )
            )
        ).first() is not None
        if not is_taken:
            try:
                async with connection.begin_nested():
                    await connection.execute(
                        update(articles)
                        .where(articles.c.id == article_id)
                        .values(slug=candidate, **values)
                    )
                return candidate
            except IntegrityError:
                pass  # Another transaction took the slug since the check.

        candidate = slugs.with_random_suffix(base)

    msg = f"no free slug for {base!r} after {SLUG_ATTEMPTS} attempts"
    raise RuntimeError(msg)


async def _set_tags(
    connection: AsyncConnection,
    article_id: int,
    names: Sequence[str],
    *,
    replace: bool,
) -> None:
    if replace:
        await connection.execute(
            delete(article_tags).where(article_tags.c.article_id == article_id)
        )

    if not names:
        return

    await connection.execute(
        insert_ignoring_conflicts(connection, tags), [{"name": name} for name in names]
    )
    tag_ids = (
        await connection.execute(select(tags.c.id).where(tags.c.name.in_(names)))
    ).scalars()
    await connection.execute(
        article_tags.insert(),
        [{"article_id": article_id, "tag_id": tag_id} for tag_id in tag_ids],
    )


async def _change_favorite(
    connection: AsyncConnection, article_id: int, user_id: int, is_favorite: bool
) -> bool:
    """Add or remove the favorite row and move the counter with it.

    The counter changes only when a row was really inserted or deleted, and
    both happen in one transaction, so `favorites_count` equals the number of
    rows even when many users favorite the same article at once.
    """
    statement: Any
    if is_favorite:
        statement = (
            insert_ignoring_conflicts(connection, favorites)
            .values(user_id=user_id, article_id=article_id, created_at=utcnow())
            .returning(favorites.c.article_id)
        )
    else:
        statement = (
            delete(favorites)
            .where(favorites.c.user_id == user_id, favorites.c.article_id == article_id)
            .returning(favorites.c.article_id)
        )

    if (await connection.execute(statement)).first() is None:
        return False

    step = 1 if is_favorite else -1
    await connection.execute(
        update(articles)
        .where(articles.c.id == article_id)
        .values(favorites_count=articles.c.favorites_count + step)
    )
    return True
