"""Test doubles for the cache tests: a clock and counting loaders."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable
from typing import Any

from livify.cache import NotFound


class FakeClock:
    """A clock that moves only when a test advances it."""

    def __init__(self, now: float = 1_700_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class CountingLoader:
    """A loader that counts its calls and returns `value` after `delay_seconds`.

    With `missing=True` it raises `NotFound` instead.
    """

    def __init__(
        self,
        value: Any = "value",
        *,
        delay_seconds: float = 0.0,
        missing: bool = False,
    ) -> None:
        self.value = value
        self.delay_seconds = delay_seconds
        self.missing = missing
        self.calls = 0

    async def __call__(self) -> Any:
        self.calls += 1
        if self.delay_seconds:
            await asyncio.sleep(self.delay_seconds)
        if self.missing:
            raise NotFound
        return self.value


class RecordingHooks:
    """Cache hooks that count each event with its labels."""

    def __init__(self) -> None:
        self.events: Counter[tuple[str, ...]] = Counter()

    def count(self, *event: str) -> int:
        return self.events[event]

    def on_hit(self, namespace: str, layer: str) -> None:
        self.events["hit", namespace, layer] += 1

    def on_miss(self, namespace: str) -> None:
        self.events["miss", namespace] += 1

    def on_stale_served(self, namespace: str) -> None:
        self.events["stale", namespace] += 1

    def on_load(self, namespace: str, duration_seconds: float, outcome: str) -> None:
        self.events["load", namespace, outcome] += 1

    def on_eviction(self, namespace: str) -> None:
        self.events["eviction", namespace] += 1

    def on_invalidation(self, namespace: str, kind: str) -> None:
        self.events["invalidation", namespace, kind] += 1

    def on_message(self, direction: str) -> None:
        self.events["message", direction] += 1

    def on_redis_error(self, namespace: str, operation: str) -> None:
        self.events["redis_error", namespace, operation] += 1

    def on_circuit_change(self, is_open: bool) -> None:
        self.events["circuit", "open" if is_open else "closed"] += 1


async def wait_until(
    condition: Callable[[], bool], *, timeout_seconds: float = 2.0
) -> None:
    """Poll `condition` every 5 ms until it is true; fail after `timeout_seconds`."""
    async with asyncio.timeout(timeout_seconds):
        while not condition():  # noqa: ASYNC110 - the condition has no event to wait on
            await asyncio.sleep(0.005)
