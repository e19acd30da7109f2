"""The per-task deadline: nesting, task scope and enforcement."""

from __future__ import annotations

import asyncio

import pytest

from livify.resilience import DeadlineExceeded, deadline, remaining_seconds


def test_remaining_is_none_without_deadline() -> None:
    """Outside any deadline block there is no remaining time."""
    assert remaining_seconds() is None


def test_remaining_counts_down_inside_block() -> None:
    """Inside a block the remaining time starts near its length."""
    with deadline(5.0):
        remaining = remaining_seconds()
        assert remaining is not None
        assert 4.0 < remaining <= 5.0

    assert remaining_seconds() is None


def test_nested_deadline_keeps_earlier() -> None:
    """A longer inner deadline cannot extend a shorter outer one."""
    with deadline(1.0):
        with deadline(60.0):
            inner = remaining_seconds()
            assert inner is not None
            assert inner <= 1.0

        with deadline(0.5):
            shorter = remaining_seconds()
            assert shorter is not None
            assert shorter <= 0.5

        outer = remaining_seconds()
        assert outer is not None
        assert 0.5 < outer <= 1.0


def test_passed_deadline_leaves_zero() -> None:
    """A deadline of zero seconds reports 0.0, never a negative number."""
    with deadline(0.0):
        assert remaining_seconds() == 0.0


@pytest.mark.parametrize("seconds", [-1.0, float("nan")])
def test_deadline_rejects_invalid_seconds(seconds: float) -> None:
    """Negative and NaN lengths raise ValueError."""
    with pytest.raises(ValueError, match="zero or positive"):
        deadline(seconds)


def test_deadline_enters_once() -> None:
    """Reusing one Deadline object is a RuntimeError."""
    block = deadline(1.0)
    with block:
        pass

    with pytest.raises(RuntimeError, match="entered once"), block:
        pass


async def test_child_task_inherits_deadline() -> None:
    """A task started inside the block sees the same deadline."""
    with deadline(2.0):
        remaining = await asyncio.create_task(_read_remaining())

    assert remaining is not None
    assert remaining <= 2.0


async def test_sibling_task_sees_no_deadline() -> None:
    """A task started outside the block is not bound by it."""
    task = asyncio.create_task(_read_remaining())
    with deadline(2.0):
        remaining = await task

    assert remaining is None


async def test_async_block_raises_deadline_exceeded() -> None:
    """`async with` cancels a block that runs past its deadline."""
    started = asyncio.get_running_loop().time()
    with pytest.raises(DeadlineExceeded):
        async with deadline(0.05):
            await asyncio.sleep(5)

    assert asyncio.get_running_loop().time() - started < 1.0
    assert remaining_seconds() is None


async def test_async_block_passes_own_timeout_error() -> None:
    """A TimeoutError raised inside the block is not turned into ours."""
    with pytest.raises(TimeoutError) as caught:
        async with deadline(5.0):
            raise TimeoutError("from the body")

    assert not isinstance(caught.value, DeadlineExceeded)


async def _read_remaining() -> float | None:
    return remaining_seconds()
