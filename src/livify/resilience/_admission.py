"""Admit requests up to a concurrency limit, with a short bounded queue.

A request that finds a free slot runs at once. Otherwise it waits in a FIFO
queue of at most `queue_size` requests, and gives up when its wait budget
runs out. The budget follows the CoDel idea of telling a burst from a
standing queue. While the queue has been empty at some point in the last
`queue_interval_seconds`, the excess is a burst and a waiter gets
`queue_timeout_seconds`. Once the queue has stayed non-empty for longer than
that, the server is overloaded and a newcomer gets only
`queue_target_seconds`, so the excess is rejected at once instead of
waiting and then failing anyway.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable

from livify.resilience._adaptive_limit import AimdLimit
from livify.resilience._shedding_hooks import NoSheddingHooks, SheddingHooks

DEFAULT_QUEUE_SIZE = 128
DEFAULT_QUEUE_TIMEOUT_SECONDS = 0.05
DEFAULT_QUEUE_TARGET_SECONDS = 0.005
DEFAULT_QUEUE_INTERVAL_SECONDS = 0.1


class Admission:
    """Hand out slots under `limit` and queue the excess for a bounded time.

    `acquire()` returns the seconds a request waited, or None when it is
    shed. Each admitted request must call `release()` with its latency once
    it finishes. `clock` returns monotonic seconds; the queue's timers run
    on the event loop's own clock. Not thread-safe: use it from one event
    loop.
    """

    def __init__(
        self,
        limit: AimdLimit | None = None,
        *,
        queue_size: int = DEFAULT_QUEUE_SIZE,
        queue_timeout_seconds: float = DEFAULT_QUEUE_TIMEOUT_SECONDS,
        queue_target_seconds: float = DEFAULT_QUEUE_TARGET_SECONDS,
        queue_interval_seconds: float = DEFAULT_QUEUE_INTERVAL_SECONDS,
        hooks: SheddingHooks | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if queue_size < 0:
            msg = f"queue_size must not be negative, got {queue_size!r}"
            raise ValueError(msg)

        if not 0 <= queue_target_seconds <= queue_timeout_seconds:
            msg = (
                f"queue_target_seconds ({queue_target_seconds!r}) must be between "
                f"0 and queue_timeout_seconds ({queue_timeout_seconds!r})"
            )
            raise ValueError(msg)

        self.limit = limit or AimdLimit(clock=clock)
        self.queue_size = queue_size
        self.queue_timeout_seconds = queue_timeout_seconds
        self.queue_target_seconds = queue_target_seconds
        self.queue_interval_seconds = queue_interval_seconds
        self.hooks: SheddingHooks = hooks or NoSheddingHooks()
        self.in_flight = 0
        self._clock = clock
        self._waiters: deque[asyncio.Future[bool]] = deque()
        self._queue_empty_at = clock()
        self.hooks.on_limit_change(self.limit.limit)

    @property
    def queue_length(self) -> int:
        return len(self._waiters)

    def queue_wait_budget(self) -> float:
        """Return how long a request that queues now may wait for a slot."""
        if not self._waiters:
            return self.queue_timeout_seconds

        if self._clock() - self._queue_empty_at > self.queue_interval_seconds:
            return self.queue_target_seconds

        return self.queue_timeout_seconds

    async def acquire(self) -> float | None:
        """Wait for a slot; return the seconds waited, or None when shed."""
        if self.in_flight < self.limit.limit and not self._waiters:
            self._take_slot()
            self.hooks.on_admit(0.0)
            return 0.0

        if len(self._waiters) >= self.queue_size:
            self.hooks.on_shed("queue_full")
            return None

        budget = self.queue_wait_budget()
        started = self._clock()
        if budget <= 0:
            self.hooks.on_shed("queue_timeout")
            return None

        if await self._wait_in_queue(started, budget):
            waited = self._clock() - started
            self.hooks.on_admit(waited)
            return waited

        self.hooks.on_shed("queue_timeout")
        return None

    def release(self, latency_seconds: float) -> None:
        """Give back a slot taken by `acquire()`, reporting the request's latency."""
        if self.limit.record(latency_seconds, in_flight=self.in_flight):
            self.hooks.on_limit_change(self.limit.limit)

        self.in_flight -= 1
        self._hand_over_slots()
        self.hooks.on_in_flight_change(self.in_flight)

    async def _wait_in_queue(self, started: float, budget: float) -> bool:
        if not self._waiters:
            self._queue_empty_at = started

        loop = asyncio.get_running_loop()
        future: asyncio.Future[bool] = loop.create_future()
        self._waiters.append(future)
        timer = loop.call_later(budget, self._expire, future)
        try:
            return await future
        except asyncio.CancelledError:
            self._abandon(future)
            raise
        finally:
            timer.cancel()

    def _abandon(self, future: asyncio.Future[bool]) -> None:
        """Undo a queued wait whose caller was cancelled."""
        if future.done() and not future.cancelled() and future.result():
            # The slot was handed over before the cancellation arrived.
            self.in_flight -= 1
            self._hand_over_slots()
            self.hooks.on_in_flight_change(self.in_flight)
            return

        self._remove_waiter(future)

    def _expire(self, future: asyncio.Future[bool]) -> None:
        if not future.done():
            future.set_result(False)
            self._remove_waiter(future)

    def _remove_waiter(self, future: asyncio.Future[bool]) -> None:
        try:
            self._waiters.remove(future)
        except ValueError:
            return

        if not self._waiters:
            self._queue_empty_at = self._clock()

    def _hand_over_slots(self) -> None:
        while self._waiters and self.in_flight < self.limit.limit:
            future = self._waiters.popleft()
            if not future.done():
                self._take_slot()
                future.set_result(True)

        if not self._waiters:
            self._queue_empty_at = self._clock()

    def _take_slot(self) -> None:
        self.in_flight += 1
        self.hooks.on_in_flight_change(self.in_flight)
