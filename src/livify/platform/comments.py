"""Comments on articles.

With moderation on, a comment that moderation has not approved is shown to
its author only: merged into the lists they read, absent from the cached
list that everyone else gets.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from livify.platform import render, schemas
from livify.platform.cache_keys import PROFILES, comments_key
from livify.platform.caching import CachedRead
from livify.platform.errors import Forbidden, NotFound
from livify.platform.events import CommentAdded, CommentDeleted
from livify.platform.moderation import COMMENT, dequeue, enqueue
from livify.platform.services import Context
from livify.platform.tables import (
    APPROVED,
    ARTICLE_IS_PUBLISHED,
    COMMENT_IS_PUBLISHED,
    PENDING,
    articles,
    comments,
    users,
    utcnow,
)

COMMENT_COLUMNS = (
    *comments.c,
    users.c.username.label("author_username"),
    users.c.bio.label("author_bio"),
    users.c.image.label("author_image"),
)

if TYPE_CHECKING:
    from livify.platform.sql import AnyRow


class CommentService:
    def __init__(self, context: Context) -> None:
        self._context = context

    async def list(self, slug: str, viewer_id: int | None) -> CachedRead:
        """Return every comment on the article, newest first."""

        async def load() -> dict[str, Any]:
            async with self._context.database.read() as connection:
                article_id = await _find_article_id(connection, slug, None)
                return await _load_listing(connection, article_id)

        keys = [comments_key(slug), PROFILES]
        try:
            listing = await self._context.cache.load("comments", slug, load, tags=keys)
        except NotFound:
            if viewer_id is None or self._context.moderation is None:
                raise

            listing = await self._load_unpublished_article_listing(slug, viewer_id)

        if viewer_id is not None and self._context.moderation is not None:
            listing = await self._merge_own_unpublished(slug, viewer_id, listing)

        followed = await self._context.viewer.followed_ids(viewer_id)
        personal = [
            {
                **comment,
                "author": {**comment["author"], "following": author_id in followed},
            }
            for comment, author_id in zip(
                listing["comments"], listing["author_ids"], strict=True
            )
        ]
        return CachedRead({"comments": personal}, frozenset(keys))

    async def _load_unpublished_article_listing(
        self, slug: str, viewer_id: int
    ) -> dict[str, Any]:
        """List the published comments on the viewer's own unpublished article."""
        async with self._context.database.read() as connection:
            article_id = await _find_article_id(connection, slug, viewer_id)
            return await _load_listing(connection, article_id)

    async def _merge_own_unpublished(
        self, slug: str, viewer_id: int, listing: dict[str, Any]
    ) -> dict[str, Any]:
        """Add the viewer's comments that moderation has not approved, in order."""
        query = (
            _comments_with_authors()
            .join(articles, articles.c.id == comments.c.article_id)
            .where(
                articles.c.slug == slug,
                comments.c.author_id == viewer_id,
                comments.c.moderation_status != APPROVED,
            )
        )
        async with self._context.database.read() as connection:
            rows = (await connection.execute(query)).all()

        if not rows:
            return listing

        pairs = [
            *zip(listing["comments"], listing["author_ids"], strict=True),
            *((render.comment(row, following=False), row.author_id) for row in rows),
        ]
        # Timestamps share one fixed-width format, so text order is time order.
        pairs.sort(key=lambda pair: (pair[0]["createdAt"], pair[0]["id"]), reverse=True)
        return {
            "comments": [comment for comment, _ in pairs],
            "author_ids": [author_id for _, author_id in pairs],
        }

    async def add(
        self, slug: str, author_id: int, new: schemas.NewComment
    ) -> dict[str, Any]:
        """Comment on an article, published at once unless moderation puts it on hold.

        Raises Unprocessable (422) when moderation rejects the comment.
        """
        status = APPROVED
        moderation = self._context.moderation
        if moderation is not None:
            # A comment on a missing article gets its 404 without a check.
            async with self._context.database.read() as connection:
                await _find_article_id(connection, slug, author_id)

            status = await moderation.screen(COMMENT, {"body": new.body})

        now = utcnow()
        async with self._context.database.write() as connection:
            article_id = await _find_article_id(connection, slug, author_id)
            comment_id = (
                await connection.execute(
                    comments.insert()
                    .values(
                        article_id=article_id,
                        author_id=author_id,
                        body=new.body,
                        created_at=now,
                        updated_at=now,
                        moderation_status=status,
                    )
                    .returning(comments.c.id)
                )
            ).scalar_one()
            if status == PENDING:
                await enqueue(connection, COMMENT, comment_id, now)

            row = await _find_comment(connection, article_id, comment_id)

        # A held comment changes no public view until the worker publishes it.
        if status == APPROVED:
            await self._context.events.publish(
                CommentAdded(comment_id, article_id, slug, author_id)
            )
        # Authors cannot follow themselves, so `following` is always false here.
        return {"comment": render.comment(row, following=False)}

    async def delete(self, slug: str, comment_id: int, user_id: int) -> None:
        """Delete a comment the user wrote (403 for anyone else's)."""
        async with self._context.database.write() as connection:
            article_id = await _find_article_id(connection, slug, user_id)
            row = await _find_comment(connection, article_id, comment_id)
            if row.author_id != user_id:
                if row.moderation_status != APPROVED:
                    raise NotFound(
                        "comment", f"{comment_id!r} not found on this article"
                    )

                raise Forbidden("comment", "only its author may delete it")

            await dequeue(connection, COMMENT, comment_id)
            await connection.execute(
                delete(comments).where(comments.c.id == comment_id)
            )

        await self._context.events.publish(
            CommentDeleted(comment_id, article_id, slug, row.author_id)
        )


def _comments_with_authors() -> Any:
    return select(*COMMENT_COLUMNS).join(users, users.c.id == comments.c.author_id)


async def _find_article_id(
    connection: AsyncConnection, slug: str, viewer_id: int | None
) -> int:
    """Return the id of a published article, or of the viewer's own article."""
    query = select(articles.c.id).where(articles.c.slug == slug)
    if viewer_id is None:
        query = query.where(ARTICLE_IS_PUBLISHED)
    else:
        query = query.where(
            or_(ARTICLE_IS_PUBLISHED, articles.c.author_id == viewer_id)
        )

    article_id = (await connection.execute(query)).scalar_one_or_none()
    if article_id is None:
        raise NotFound("article", f"{slug!r} not found")

    return int(article_id)


async def _load_listing(connection: AsyncConnection, article_id: int) -> dict[str, Any]:
    """Load the public list of an article's comments, newest first."""
    rows = (
        await connection.execute(
            _comments_with_authors()
            .where(comments.c.article_id == article_id, COMMENT_IS_PUBLISHED)
            .order_by(comments.c.created_at.desc(), comments.c.id.desc())
        )
    ).all()
    return {
        "comments": [render.comment(row, following=False) for row in rows],
        "author_ids": [row.author_id for row in rows],
    }


async def _find_comment(
    connection: AsyncConnection, article_id: int, comment_id: int
) -> AnyRow:
    row = (
        await connection.execute(
            _comments_with_authors().where(
                comments.c.id == comment_id, comments.c.article_id == article_id
            )
        )
    ).one_or_none()
    if row is None:
        raise NotFound("comment", f"{comment_id!r} not found on this article")

    return row
