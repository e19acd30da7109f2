"""Shared parts that every platform service receives."""

from __future__ import annotations

from dataclasses import dataclass

from livify.db import Database
from livify.platform.caching import PlatformCache
from livify.platform.events import EventBus
from livify.platform.moderation import Moderation
from livify.platform.security import PasswordHashing, TokenService
from livify.platform.viewer import ViewerState
from livify.ratelimit import RateLimiter


@dataclass(frozen=True, slots=True)
class Context:
    """The database, cache, event bus and security parts a service works with."""

    database: Database
    events: EventBus
    passwords: PasswordHashing
    tokens: TokenService
    cache: PlatformCache
    viewer: ViewerState
    # Login attempts per account are limited here, because the account is in
    # the request body, which the rate-limit middleware does not read.
    limiter: RateLimiter | None = None
    # None when moderation is off: every post is published at once.
    moderation: Moderation | None = None
