"""The per-caller part of a view: `favorited` and `following` flags.

Public views are cached once for everyone with both flags false. This module
keeps, per signed-in user, the ids of the articles they favorited and of the
users they follow, cached under `favorites:<id>` and `follows:<id>`, and
sets the flags on a copy of the public view.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import select

from livify.db import Database
from livify.platform.cache_keys import favorites_key, follows_key
from livify.platform.caching import PlatformCache
from livify.platform.tables import favorites, follows


class ViewerState:
    """Look up and apply one caller's favorites and follows."""

    def __init__(self, database: Database, cache: PlatformCache) -> None:
        self._database = database
        self._cache = cache

    async def favorited_ids(self, user_id: int | None) -> frozenset[int]:
        if user_id is None:
            return frozenset()

        async def load() -> list[int]:
            query = select(favorites.c.article_id).where(favorites.c.user_id == user_id)
            async with self._database.read() as connection:
                return list((await connection.execute(query)).scalars())

        ids = await self._cache.load(
            "user_favorites", str(user_id), load, tags=[favorites_key(user_id)]
        )
        return frozenset(ids)

    async def followed_ids(self, user_id: int | None) -> frozenset[int]:
        if user_id is None:
            return frozenset()

        async def load() -> list[int]:
            query = select(follows.c.followee_id).where(
                follows.c.follower_id == user_id
            )
            async with self._database.read() as connection:
                return list((await connection.execute(query)).scalars())

        ids = await self._cache.load(
            "user_follows", str(user_id), load, tags=[follows_key(user_id)]
        )
        return frozenset(ids)

    async def personalize_articles(
        self,
        articles: Iterable[dict[str, Any]],
        refs: Iterable[tuple[int, int]],
        viewer_id: int | None,
    ) -> list[dict[str, Any]]:
        """Copy public article views with the viewer's flags set.

        `refs` contains each article's `(article id, author id)`, in order.
        """
        favorited = await self.favorited_ids(viewer_id)
        followed = await self.followed_ids(viewer_id)
        return [
            {
                **article,
                "favorited": article_id in favorited,
                "author": {**article["author"], "following": author_id in followed},
            }
            for article, (article_id, author_id) in zip(articles, refs, strict=True)
        ]

    async def personalize_profile(
        self, profile: dict[str, Any], user_id: int, viewer_id: int | None
    ) -> dict[str, Any]:
        followed = await self.followed_ids(viewer_id)
        return {**profile, "following": user_id in followed}
