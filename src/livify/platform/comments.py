"""Comments on articles."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncConnection

from livify.platform import render, schemas
from livify.platform.cache_keys import PROFILES, comments_key
from livify.platform.caching import CachedRead
from livify.platform.errors import Forbidden, NotFound
from livify.platform.events import CommentAdded, CommentDeleted
from livify.platform.services import Context
from livify.platform.tables import articles, comments, users, utcnow

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
                article_id = await _find_article_id(connection, slug)
                rows = (
                    await connection.execute(
                        _comments_with_authors()
                        .where(comments.c.article_id == article_id)
                        .order_by(comments.c.created_at.desc(), comments.c.id.desc())
                    )
                ).all()

            return {
                "comments": [render.comment(row, following=False) for row in rows],
                "author_ids": [row.author_id for row in rows],
            }

        keys = [comments_key(slug), PROFILES]
        listing = await self._context.cache.load("comments", slug, load, tags=keys)
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

    async def add(
        self, slug: str, author_id: int, new: schemas.NewComment
    ) -> dict[str, Any]:
        now = utcnow()
        async with self._context.database.write() as connection:
            article_id = await _find_article_id(connection, slug)
            comment_id = (
                await connection.execute(
                    comments.insert()
                    .values(
                        article_id=article_id,
                        author_id=author_id,
                        body=new.body,
                        created_at=now,
                        updated_at=now,
                    )
                    .returning(comments.c.id)
                )
            ).scalar_one()
            row = await _find_comment(connection, article_id, comment_id)

        await self._context.events.publish(
            CommentAdded(comment_id, article_id, slug, author_id)
        )
        # Authors cannot follow themselves, so `following` is always false here.
        return {"comment": render.comment(row, following=False)}

    async def delete(self, slug: str, comment_id: int, user_id: int) -> None:
        """Delete a comment the user wrote (403 for anyone else's)."""
        async with self._context.database.write() as connection:
            article_id = await _find_article_id(connection, slug)
            row = await _find_comment(connection, article_id, comment_id)
            if row.author_id != user_id:
                raise Forbidden("comment", "only its author may delete it")

            await connection.execute(
                delete(comments).where(comments.c.id == comment_id)
            )

        await self._context.events.publish(
            CommentDeleted(comment_id, article_id, slug, row.author_id)
        )


def _comments_with_authors() -> Any:
    return select(*COMMENT_COLUMNS).join(users, users.c.id == comments.c.author_id)


async def _find_article_id(connection: AsyncConnection, slug: str) -> int:
    article_id = (
        await connection.execute(select(articles.c.id).where(articles.c.slug == slug))
    ).scalar_one_or_none()
    if article_id is None:
        raise NotFound("article", f"{slug!r} not found")

    return int(article_id)


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
