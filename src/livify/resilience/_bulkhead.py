"""A concurrency cap per dependency, so one slow dependency cannot take every task."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from livify.resilience._checks import check_not_negative, check_positive
from livify.resilience._deadline import remaining_seconds
from livify.resilience._exceptions import BulkheadFull

DEFAULT_MAX_CONCURRENT = 20
DEFAULT_MAX_WAIT_SECONDS = 0.5


class Bulkhead:
    """Let at most `max_concurrent` calls run at once.

    A call waits for a free slot for at most `max_wait_seconds`, or for what
    is left of the caller's deadline when that is shorter, and then raises
    `BulkheadFull`. With `max_wait_seconds=0` a call that finds every slot
    taken fails at once. Raises `ValueError` when `max_concurrent` is not
    positive or `max_wait_seconds` is negative.
    """

    def __init__(
        self,
        max_concurrent: int = DEFAULT_MAX_CONCURRENT,
        max_wait_seconds: float = DEFAULT_MAX_WAIT_SECONDS,
        *,
        name: str = "",
    ) -> None:
        check_positive(max_concurrent=max_concurrent)
        check_not_negative(max_wait_seconds=max_wait_seconds)
        self.name = name
        self.max_concurrent = max_concurrent
        self.max_wait_seconds = max_wait_seconds
        self._semaphore = asyncio.Semaphore(max_concurrent)
        self._in_use = 0

    @property
    def in_use(self) -> int:
        """Number of slots taken now."""
        return self._in_use

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        """Hold one slot for the body of the `async with` block."""
        await self._acquire()
        self._in_use += 1
        try:
            yield
        finally:
            self._in_use -= 1
            self._semaphore.release()

    async def _acquire(self) -> None:
        wait_seconds = self.max_wait_seconds
        remaining = remaining_seconds()
        if remaining is not None:
            wait_seconds = min(wait_seconds, remaining)

        if not self._semaphore.locked():
            await self._semaphore.acquire()
            return

        try:
            async with asyncio.timeout(wait_seconds):
                await self._semaphore.acquire()
        except TimeoutError:
            raise BulkheadFull(
                self.name,
                max_concurrent=self.max_concurrent,
                wait_seconds=wait_seconds,
            ) from None
