"""Domain events that services publish after a transaction commits.

Caches, edge purges, notifications and counters subscribe here; a service
never knows who listens. A failing subscriber is logged and does not affect
the request or the other subscribers, because the write has already
committed.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import structlog

logger = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class ArticleChanged:
    """An article was created or edited (`previous_slug` is set on a rename)."""

    article_id: int
    slug: str
    author_id: int
    tags: tuple[str, ...]
    previous_slug: str | None = None


@dataclass(frozen=True, slots=True)
class ArticleDeleted:
    article_id: int
    slug: str
    author_id: int
    tags: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class CommentAdded:
    comment_id: int
    article_id: int
    slug: str
    author_id: int


@dataclass(frozen=True, slots=True)
class CommentDeleted:
    comment_id: int
    article_id: int
    slug: str
    author_id: int


@dataclass(frozen=True, slots=True)
class FavoriteChanged:
    """A user favorited (`is_favorite`) or unfavorited an article."""

    user_id: int
    article_id: int
    slug: str
    is_favorite: bool


@dataclass(frozen=True, slots=True)
class FollowChanged:
    follower_id: int
    followee_id: int
    is_following: bool


@dataclass(frozen=True, slots=True)
class UserChanged:
    """A user registered or changed their profile."""

    user_id: int
    username: str
    previous_username: str | None = None


Event = (
    ArticleChanged
    | ArticleDeleted
    | CommentAdded
    | CommentDeleted
    | FavoriteChanged
    | FollowChanged
    | UserChanged
)
Subscriber = Callable[[Event], Awaitable[None]]


@dataclass
class EventBus:
    """Deliver each published event to every subscriber, in subscription order."""

    subscribers: list[Subscriber] = field(default_factory=list)

    def subscribe(self, subscriber: Subscriber) -> None:
        self.subscribers.append(subscriber)

    async def publish(self, event: Event) -> None:
        for subscriber in self.subscribers:
            try:
                await subscriber(event)
            except Exception:
                logger.exception(
                    "events.subscriber_failed",
                    event=type(event).__name__,
                    subscriber=getattr(subscriber, "__qualname__", repr(subscriber)),
                )
