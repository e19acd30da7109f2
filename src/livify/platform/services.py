"""Shared parts that every platform service receives."""

from __future__ import annotations

from dataclasses import dataclass

from livify.db import Database
from livify.platform.events import EventBus
from livify.platform.security import PasswordHashing, TokenService


@dataclass(frozen=True, slots=True)
class Context:
    """The database, event bus and security parts a service works with."""

    database: Database
    events: EventBus
    passwords: PasswordHashing
    tokens: TokenService
