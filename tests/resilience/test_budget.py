"""The retry budget over its sliding window, driven by a fake clock."""

from __future__ import annotations

from livify.resilience import RetryBudget
from tests.resilience.fakes import FakeClock


def spend_all(budget: RetryBudget) -> int:
    spent = 0
    while spent < 1000 and budget.try_spend():
        spent += 1

    return spent


def test_budget_allows_ratio_of_calls() -> None:
    """Retries are capped at `ratio` of the calls in the window."""
    clock = FakeClock()
    budget = RetryBudget(ratio=0.1, min_retries_per_second=0.0, clock=clock)
    for _ in range(100):
        budget.record_call()

    assert spend_all(budget) == 10


def test_budget_adds_minimum_per_second() -> None:
    """With no calls, `min_retries_per_second` times the window still retries."""
    clock = FakeClock()
    budget = RetryBudget(min_retries_per_second=0.5, window_seconds=10.0, clock=clock)
    assert spend_all(budget) == 5


def test_budget_forgets_old_calls() -> None:
    """Calls and retries older than the window no longer count."""
    clock = FakeClock()
    budget = RetryBudget(
        ratio=0.5, min_retries_per_second=0.0, window_seconds=10.0, clock=clock
    )
    for _ in range(10):
        budget.record_call()

    assert spend_all(budget) == 5
    clock.advance(11.0)
    assert not budget.try_spend()

    budget.record_call()
    budget.record_call()
    assert spend_all(budget) == 1
