"""Inputs and results of `Cache.warm`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

DEFAULT_WARM_CONCURRENCY = 8


@dataclass(frozen=True, slots=True)
class WarmItem:
    """One key to preload, with its loader, tags and TTL (None: the default).

    `tags` are strings or a function of the loaded value, as in
    `Cache.get_or_load`.
    """

    key: str
    loader: Callable[[], Awaitable[Any]]
    tags: Sequence[str] | Callable[[Any], Iterable[str]] = ()
    ttl_seconds: float | None = None


@dataclass(slots=True)
class WarmReport:
    """Counts of the outcomes of a warm run, one outcome per key."""

    loaded: int = 0
    """Keys whose loader ran and whose value was stored."""
    cached: int = 0
    """Keys that already had a current entry, so nothing was loaded."""
    not_found: int = 0
    """Keys whose loader raised `NotFound` (now or within the negative TTL)."""
    failed: int = 0
    """Keys whose loader raised another error; they were logged and skipped."""
