"""Single-flight: one running call per key, shared by every caller."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

R = TypeVar("R")


class SingleFlight(Generic[R]):
    """Run at most one call per key at a time in this event loop.

    Callers of `run` with a key whose call is running wait for that call's
    result or exception instead of starting their own. The call runs in its
    own task, so a cancelled caller does not cancel it for the others. The
    key is released before the result reaches the callers, so a call started
    from inside `fn` after it returns begins a new flight.
    """

    def __init__(self) -> None:
        self._calls: dict[str, asyncio.Task[R]] = {}

    def __len__(self) -> int:
        return len(self._calls)

    def __contains__(self, key: str) -> bool:
        return key in self._calls

    async def run(self, key: str, fn: Callable[[], Awaitable[R]]) -> R:
        """Return the result of `fn()`, or of the call already running for `key`."""
        task = self._calls.get(key)
        if task is None:
            task = asyncio.create_task(self._call(key, fn))
            # Read the exception even when every caller was cancelled, so
            # asyncio does not log it as never retrieved.
            task.add_done_callback(_consume_exception)
            self._calls[key] = task

        return await asyncio.shield(task)

    async def _call(self, key: str, fn: Callable[[], Awaitable[R]]) -> R:
        try:
            return await fn()
        finally:
            if self._calls.get(key) is asyncio.current_task():
                del self._calls[key]


def _consume_exception(task: asyncio.Task[R]) -> None:
    if not task.cancelled():
        task.exception()
