"""Admission: slots under the limit, a bounded queue, CoDel-style wait budgets."""

from __future__ import annotations

import asyncio

import pytest

from livify.resilience import Admission, AimdLimit, ShedReason
from tests.resilience.fakes import FakeClock


class RecordingHooks:
    def __init__(self) -> None:
        self.admitted: list[float] = []
        self.shed: list[ShedReason] = []
        self.in_flight: list[int] = []
        self.limits: list[int] = []

    def on_admit(self, queue_wait_seconds: float) -> None:
        self.admitted.append(queue_wait_seconds)

    def on_shed(self, reason: ShedReason) -> None:
        self.shed.append(reason)

    def on_in_flight_change(self, in_flight: int) -> None:
        self.in_flight.append(in_flight)

    def on_limit_change(self, limit: int) -> None:
        self.limits.append(limit)


def fixed_limit(limit: int, clock: FakeClock) -> AimdLimit:
    """A limit whose window never ends, so it stays at `limit`."""
    return AimdLimit(
        initial_limit=limit,
        min_limit=limit,
        max_limit=limit,
        window_seconds=1e9,
        clock=clock,
    )


def make_admission(
    clock: FakeClock, *, limit: int = 2, **options: float
) -> tuple[Admission, RecordingHooks]:
    hooks = RecordingHooks()
    admission = Admission(
        fixed_limit(limit, clock),
        hooks=hooks,
        clock=clock,
        **options,  # type: ignore[arg-type]
    )
    return admission, hooks


async def test_admits_up_to_limit_at_once() -> None:
    """Requests under the limit get a slot without waiting."""
    admission, hooks = make_admission(FakeClock())

    assert await admission.acquire() == 0.0
    assert await admission.acquire() == 0.0
    assert admission.in_flight == 2
    assert hooks.admitted == [0.0, 0.0]
    assert hooks.limits == [2]


async def test_queue_full_sheds_at_once() -> None:
    """With every slot taken and the queue full, a request is shed immediately."""
    admission, hooks = make_admission(FakeClock(), queue_size=0)
    await admission.acquire()
    await admission.acquire()

    assert await admission.acquire() is None
    assert hooks.shed == ["queue_full"]


async def test_release_hands_slot_to_waiter() -> None:
    """A waiting request gets the slot that a finished request releases."""
    clock = FakeClock()
    admission, _ = make_admission(clock, queue_timeout_seconds=5.0)
    await admission.acquire()
    await admission.acquire()

    waiter = asyncio.create_task(admission.acquire())
    await asyncio.sleep(0)
    assert admission.queue_length == 1

    clock.advance(0.02)
    admission.release(0.01)

    assert await waiter == pytest.approx(0.02)
    assert admission.in_flight == 2
    assert admission.queue_length == 0


async def test_waiter_gives_up_after_budget() -> None:
    """A queued request is shed when no slot frees within its wait budget."""
    admission, hooks = make_admission(
        FakeClock(), queue_timeout_seconds=0.01, queue_target_seconds=0.001
    )
    await admission.acquire()
    await admission.acquire()

    assert await admission.acquire() is None
    assert hooks.shed == ["queue_timeout"]
    assert admission.queue_length == 0
    assert admission.in_flight == 2


async def test_waiters_are_served_in_order() -> None:
    """Freed slots go to the waiters in arrival order."""
    admission, _ = make_admission(FakeClock(), limit=1, queue_timeout_seconds=5.0)
    await admission.acquire()
    order: list[int] = []

    async def wait(index: int) -> None:
        await admission.acquire()
        order.append(index)

    tasks = [asyncio.create_task(wait(index)) for index in range(3)]
    await asyncio.sleep(0)
    for _ in range(3):
        admission.release(0.001)
        await asyncio.sleep(0)

    await asyncio.gather(*tasks)
    assert order == [0, 1, 2]


def test_budget_shrinks_under_standing_queue() -> None:
    """A queue non-empty for longer than the interval gives newcomers the target."""
    clock = FakeClock()
    admission, _ = make_admission(
        clock,
        queue_timeout_seconds=0.1,
        queue_target_seconds=0.005,
        queue_interval_seconds=0.1,
    )
    assert admission.queue_wait_budget() == 0.1

    loop = asyncio.new_event_loop()
    try:
        admission._waiters.append(loop.create_future())
        admission._queue_empty_at = clock.now
        clock.advance(0.05)
        assert admission.queue_wait_budget() == 0.1

        clock.advance(0.06)
        assert admission.queue_wait_budget() == 0.005
    finally:
        loop.close()


async def test_standing_queue_sheds_fast() -> None:
    """Under a standing queue, a newcomer waits the short target, not the timeout."""
    clock = FakeClock()
    admission, hooks = make_admission(
        clock,
        limit=1,
        queue_timeout_seconds=30.0,
        queue_target_seconds=0.001,
        queue_interval_seconds=0.1,
    )
    await admission.acquire()
    first = asyncio.create_task(admission.acquire())
    await asyncio.sleep(0)
    clock.advance(0.2)

    assert await asyncio.wait_for(admission.acquire(), timeout=5.0) is None
    assert hooks.shed == ["queue_timeout"]
    first.cancel()
    with pytest.raises(asyncio.CancelledError):
        await first


async def test_cancelled_waiter_leaves_queue() -> None:
    """A waiter cancelled before it gets a slot leaves no trace in the queue."""
    admission, _ = make_admission(FakeClock(), limit=1, queue_timeout_seconds=5.0)
    await admission.acquire()
    waiter = asyncio.create_task(admission.acquire())
    await asyncio.sleep(0)

    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter

    assert admission.queue_length == 0
    admission.release(0.001)
    assert admission.in_flight == 0


async def test_cancel_after_handover_returns_slot() -> None:
    """A waiter cancelled right after it was handed a slot gives the slot back."""
    admission, _ = make_admission(FakeClock(), limit=1, queue_timeout_seconds=5.0)
    await admission.acquire()
    waiter = asyncio.create_task(admission.acquire())
    await asyncio.sleep(0)

    admission.release(0.001)
    assert admission.in_flight == 1
    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter

    assert admission.in_flight == 0


def test_invalid_queue_options_raise() -> None:
    """A negative queue or a target above the timeout raises ValueError."""
    with pytest.raises(ValueError, match="queue_size must not be negative"):
        Admission(queue_size=-1)

    with pytest.raises(ValueError, match="queue_target_seconds"):
        Admission(queue_timeout_seconds=0.01, queue_target_seconds=0.1)
