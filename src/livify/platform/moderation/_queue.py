"""The durable queue of posts still to moderate: the `moderation_queue` table.

A post accepted while moderation was unavailable is queued in the same
transaction that stores it, so a crash can lose neither. Workers in any
process or instance claim rows by setting `claim_token` and `locked_until`
in one statement (`FOR UPDATE SKIP LOCKED` on PostgreSQL; SQLite runs one
writer at a time). Every later write names the token, so a worker whose
lease ran out, or whose row an edit re-queued, changes nothing, and each
revision of a post is published at most once.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from livify.db import Database
from livify.platform.tables import (
    APPROVED,
    article_tags,
    articles,
    comments,
    moderation_queue,
    tags,
)

ARTICLE = "article"
COMMENT = "comment"
DEFAULT_LEASE_SECONDS = 60.0
TOKEN_BYTES = 16


@dataclass(frozen=True, slots=True)
class QueuedPost:
    """A claimed queue row: which post, its revision and the claim's token."""

    id: int
    kind: str
    target_id: int
    revision: int
    attempts: int
    claim_token: str

    @property
    def idempotency_key(self) -> str:
        return f"{self.kind}:{self.target_id}:r{self.revision}"


@dataclass(frozen=True, slots=True)
class Published:
    """The ids, slug and tags that the events of a newly approved post carry."""

    kind: str
    target_id: int
    slug: str
    author_id: int
    article_id: int
    tags: tuple[str, ...]


async def enqueue(
    connection: AsyncConnection, kind: str, target_id: int, now: datetime
) -> None:
    """Queue a post for a check now, in the caller's transaction.

    A post already queued gets a new revision and loses any worker's claim,
    so a check of its previous text cannot publish this one.
    """
    values = {
        "kind": kind,
        "target_id": target_id,
        "revision": 1,
        "attempts": 0,
        "next_attempt_at": now,
        "created_at": now,
    }
    changes = {
        "revision": moderation_queue.c.revision + 1,
        "attempts": 0,
        "next_attempt_at": now,
        "locked_until": None,
        "claim_token": None,
    }
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    statement = (
        dialect.insert(moderation_queue)
        .values(values)
        .on_conflict_do_update(index_elements=["kind", "target_id"], set_=changes)
    )
    await connection.execute(statement)


async def dequeue(connection: AsyncConnection, kind: str, target_id: int) -> None:
    """Drop a post from the queue, in the caller's transaction."""
    await connection.execute(
        delete(moderation_queue).where(
            moderation_queue.c.kind == kind, moderation_queue.c.target_id == target_id
        )
    )


async def dequeue_article(connection: AsyncConnection, article_id: int) -> None:
    """Drop an article and its comments from the queue, before it is deleted.

    Article and comment ids can be used again once deleted (SQLite reuses
    the highest), so a row left behind could later check another post.
    """
    await dequeue(connection, ARTICLE, article_id)
    article_comments = select(comments.c.id).where(comments.c.article_id == article_id)
    await connection.execute(
        delete(moderation_queue).where(
            moderation_queue.c.kind == COMMENT,
            moderation_queue.c.target_id.in_(article_comments),
        )
    )


class ModerationQueue:
    """Claim, complete and release queued posts on one database."""

    def __init__(
        self, database: Database, *, lease_seconds: float = DEFAULT_LEASE_SECONDS
    ) -> None:
        if lease_seconds <= 0:
            msg = f"lease_seconds must be positive, got {lease_seconds!r}"
            raise ValueError(msg)

        self.database = database
        self.lease_seconds = lease_seconds

    async def depth(self) -> int:
        """Return how many posts wait for a verdict, claimed ones included."""
        async with self.database.read() as connection:
            count = await connection.execute(
                select(func.count()).select_from(moderation_queue)
            )
            return int(count.scalar_one())

    async def claim(self, limit: int, now: datetime) -> list[QueuedPost]:
        """Claim up to `limit` due posts, oldest due first, for one lease."""
        token = secrets.token_hex(TOKEN_BYTES)
        is_free = or_(
            moderation_queue.c.locked_until.is_(None),
            moderation_queue.c.locked_until < now,
        )
        due = (
            select(moderation_queue.c.id)
            .where(moderation_queue.c.next_attempt_at <= now, is_free)
            .order_by(moderation_queue.c.next_attempt_at, moderation_queue.c.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        statement = (
            update(moderation_queue)
            # Checked again outside the subquery: a row another worker claimed
            # since the subquery's snapshot must not be taken twice.
            .where(moderation_queue.c.id.in_(due.scalar_subquery()), is_free)
            .values(
                claim_token=token,
                locked_until=now + timedelta(seconds=self.lease_seconds),
                attempts=moderation_queue.c.attempts + 1,
            )
            .returning(
                moderation_queue.c.id,
                moderation_queue.c.kind,
                moderation_queue.c.target_id,
                moderation_queue.c.revision,
                moderation_queue.c.attempts,
            )
        )
        async with self.database.write() as connection:
            rows = (await connection.execute(statement)).all()

        claimed = [
            QueuedPost(
                id=row.id,
                kind=row.kind,
                target_id=row.target_id,
                revision=row.revision,
                attempts=row.attempts,
                claim_token=token,
            )
            for row in rows
        ]
        return sorted(claimed, key=lambda post: post.id)

    async def load_fields(self, post: QueuedPost) -> dict[str, str] | None:
        """Return the post's text as moderation checks it, None if deleted."""
        async with self.database.read() as connection:
            if post.kind == ARTICLE:
                row = (
                    await connection.execute(
                        select(
                            articles.c.title, articles.c.description, articles.c.body
                        ).where(articles.c.id == post.target_id)
                    )
                ).one_or_none()
                return None if row is None else dict(row._mapping)

            body = (
                await connection.execute(
                    select(comments.c.body).where(comments.c.id == post.target_id)
                )
            ).scalar_one_or_none()
            return None if body is None else {"body": body}

    async def complete(self, post: QueuedPost, status: str | None) -> Published | None:
        """Remove the claimed row and set the post's status, in one transaction.

        `status` None only removes the row (the post was deleted). Returns
        what the events need when this call approved the post, else None,
        also when the claim was lost, in which case nothing changed.
        """
        async with self.database.write() as connection:
            removed = await connection.execute(
                delete(moderation_queue)
                .where(
                    moderation_queue.c.id == post.id,
                    moderation_queue.c.claim_token == post.claim_token,
                )
                .returning(moderation_queue.c.id)
            )
            if removed.first() is None or status is None:
                return None

            table = articles if post.kind == ARTICLE else comments
            changed = await connection.execute(
                update(table)
                .where(table.c.id == post.target_id)
                .values(moderation_status=status)
            )
            if changed.rowcount == 0 or status != APPROVED:
                return None

            return await _describe(connection, post)

    async def release(self, retries: Sequence[tuple[QueuedPost, datetime]]) -> None:
        """Give claimed posts back, each due again at its own time."""
        if not retries:
            return

        async with self.database.write() as connection:
            for post, next_attempt_at in retries:
                await connection.execute(
                    update(moderation_queue)
                    .where(
                        moderation_queue.c.id == post.id,
                        moderation_queue.c.claim_token == post.claim_token,
                    )
                    .values(
                        claim_token=None,
                        locked_until=None,
                        next_attempt_at=next_attempt_at,
                    )
                )


async def _describe(connection: AsyncConnection, post: QueuedPost) -> Published | None:
    article_id = post.target_id
    comment_author_id: int | None = None
    if post.kind == COMMENT:
        article_id, comment_author_id = (
            await connection.execute(
                select(comments.c.article_id, comments.c.author_id).where(
                    comments.c.id == post.target_id
                )
            )
        ).one()

    row: Any = (
        await connection.execute(
            select(articles.c.slug, articles.c.author_id).where(
                articles.c.id == article_id
            )
        )
    ).one()
    names = (
        await connection.execute(
            select(tags.c.name)
            .join(article_tags, article_tags.c.tag_id == tags.c.id)
            .where(article_tags.c.article_id == article_id)
        )
    ).scalars()
    return Published(
        kind=post.kind,
        target_id=post.target_id,
        slug=row.slug,
        author_id=row.author_id if comment_author_id is None else comment_author_id,
        article_id=article_id,
        tags=tuple(sorted(names)),
    )
