"""Fixtures for the rate limit tests: a fake clock and Redis key prefixes.

Redis tests use the server on 127.0.0.1:6379 with a random key prefix per
test and delete its keys afterwards.
"""

from __future__ import annotations

import pytest

from tests.cache.conftest import key_prefix

REDIS_URL = "redis://127.0.0.1:6379/0"
__all__ = ["key_prefix"]


class FakeClock:
    """A clock in Unix seconds that moves only when a test advances it."""

    def __init__(self, now: float = 1_700_000_000.0) -> None:
        self.now = now
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()
