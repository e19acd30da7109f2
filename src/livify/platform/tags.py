"""The tag list."""

from __future__ import annotations

from sqlalchemy import select

from livify.platform.cache_keys import TAG_LIST
from livify.platform.caching import CachedRead
from livify.platform.services import Context
from livify.platform.tables import ARTICLE_IS_PUBLISHED, article_tags, articles, tags


class TagService:
    def __init__(self, context: Context) -> None:
        self._context = context

    async def list(self) -> CachedRead:
        """Return the names of tags that a published article carries, A to Z."""

        async def load() -> list[str]:
            in_use = (
                select(article_tags.c.tag_id)
                .join(articles, articles.c.id == article_tags.c.article_id)
                .where(article_tags.c.tag_id == tags.c.id, ARTICLE_IS_PUBLISHED)
            )
            query = select(tags.c.name).where(in_use.exists())
            async with self._context.database.read() as connection:
                names = (await connection.execute(query)).scalars().all()

            # Sorted in Python for one order on every database and collation.
            return sorted(names)

        keys = [TAG_LIST]
        names = await self._context.cache.load("tag_list", "all", load, tags=keys)
        return CachedRead({"tags": names}, frozenset(keys))
