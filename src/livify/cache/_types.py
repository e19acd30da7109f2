"""Type aliases shared by the cache modules."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeAlias, TypeVar

T = TypeVar("T")

Clock: TypeAlias = Callable[[], float]
"""Seconds since the Unix epoch; `time.time` unless a test injects another."""

Sleep: TypeAlias = Callable[[float], Awaitable[None]]
Loader: TypeAlias = Callable[[], Awaitable[T]]
"""Load the value behind one key from the source of truth (a database query)."""
