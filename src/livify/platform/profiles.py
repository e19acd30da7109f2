"""Profiles and follows."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncConnection

from livify.platform import render
from livify.platform.cache_keys import profile_key
from livify.platform.caching import CachedRead
from livify.platform.errors import NotFound, Unprocessable
from livify.platform.events import FollowChanged
from livify.platform.keys import canonical_key
from livify.platform.services import Context
from livify.platform.sql import insert_ignoring_conflicts
from livify.platform.tables import follows, users, utcnow

if TYPE_CHECKING:
    from livify.platform.sql import AnyRow


class ProfileService:
    def __init__(self, context: Context) -> None:
        self._context = context

    async def get(self, username: str, viewer_id: int | None) -> CachedRead:
        async def load() -> dict[str, Any]:
            async with self._context.database.read() as connection:
                row = await find_user(connection, username)
            return {"id": row.id, "profile": _render(row, following=False)}

        keys = [profile_key(username)]
        cached = await self._context.cache.load(
            "profile", canonical_key(username), load, tags=keys
        )
        profile = await self._context.viewer.personalize_profile(
            cached["profile"], cached["id"], viewer_id
        )
        return CachedRead({"profile": profile}, frozenset(keys))

    async def follow(self, username: str, follower_id: int) -> dict[str, Any]:
        """Follow a user; following twice is the same as once."""
        async with self._context.database.write() as connection:
            row = await find_user(connection, username)
            if row.id == follower_id:
                raise Unprocessable("username", "you cannot follow yourself")

            await connection.execute(
                insert_ignoring_conflicts(connection, follows).values(
                    follower_id=follower_id,
                    followee_id=row.id,
                    created_at=utcnow(),
                )
            )

        await self._context.events.publish(FollowChanged(follower_id, row.id, True))
        return _render(row, following=True)

    async def unfollow(self, username: str, follower_id: int) -> dict[str, Any]:
        async with self._context.database.write() as connection:
            row = await find_user(connection, username)
            await connection.execute(
                delete(follows).where(
                    follows.c.follower_id == follower_id,
                    follows.c.followee_id == row.id,
                )
            )

        await self._context.events.publish(FollowChanged(follower_id, row.id, False))
        return _render(row, following=False)


async def find_user(connection: AsyncConnection, username: str) -> AnyRow:
    """Return the user with this name (case-insensitive), or raise 404."""
    row = (
        await connection.execute(
            select(users.c.id, users.c.username, users.c.bio, users.c.image).where(
                users.c.username_key == canonical_key(username)
            )
        )
    ).one_or_none()
    if row is None:
        raise NotFound("profile", f"{username!r} not found")

    return row


async def is_following(
    connection: AsyncConnection, follower_id: int | None, followee_id: int
) -> bool:
    return bool(await followed_among(connection, follower_id, {followee_id}))


async def followed_among(
    connection: AsyncConnection, follower_id: int | None, candidate_ids: set[int]
) -> set[int]:
    """Return which of `candidate_ids` the follower follows, in one query."""
    if follower_id is None or not candidate_ids:
        return set()

    result = await connection.execute(
        select(follows.c.followee_id).where(
            follows.c.follower_id == follower_id,
            follows.c.followee_id.in_(candidate_ids),
        )
    )
    return set(result.scalars())


def _render(row: AnyRow, *, following: bool) -> dict[str, Any]:
    return render.profile(row.username, row.bio, row.image, following=following)
