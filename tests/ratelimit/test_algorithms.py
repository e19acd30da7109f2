"""Properties of each algorithm on the memory store, under a fake clock."""

from __future__ import annotations

import math

from hypothesis import given, settings
from hypothesis import strategies as st

from livify.ratelimit import Hit, MemoryStore

WINDOW = 10.0
LIMIT = 5

# Gaps between hits in seconds, and each hit's cost.
gaps = st.lists(
    st.tuples(st.floats(0.0, 4.0, allow_nan=False), st.integers(1, 3)),
    min_size=1,
    max_size=60,
)


def run(algorithm: str, steps: list[tuple[float, int]]) -> list[tuple[float, int]]:
    """Hit one key at the given gaps; return (time, cost) of admitted hits."""
    store = MemoryStore()
    now = 1_000.0
    admitted = []
    for gap, cost in steps:
        now += gap
        hit = Hit(algorithm, "k", LIMIT, LIMIT, WINDOW, cost)  # type: ignore[arg-type]
        if store.hit_now(hit, now).is_allowed:
            admitted.append((now, cost))
    return admitted


def max_in_interval(admitted: list[tuple[float, int]], length: float) -> int:
    """Return the largest admitted cost within any half-open interval of `length`."""
    best = 0
    for start, _ in admitted:
        total = sum(cost for time, cost in admitted if start <= time < start + length)
        best = max(best, total)
    return best


@settings(max_examples=150, deadline=None)
@given(gaps)
def test_fixed_window_never_exceeds_limit(steps: list[tuple[float, int]]) -> None:
    """No fixed window [k*W, (k+1)*W) admits more than the limit."""
    admitted = run("fixed_window", steps)
    per_window: dict[int, int] = {}
    for time, cost in admitted:
        index = math.floor(time / WINDOW)
        per_window[index] = per_window.get(index, 0) + cost

    assert all(total <= LIMIT for total in per_window.values())


@settings(max_examples=150, deadline=None)
@given(gaps)
def test_sliding_window_within_error_bound(steps: list[tuple[float, int]]) -> None:
    """Any interval of d <= W seconds admits at most limit * (1 + d / W)."""
    admitted = run("sliding_window", steps)
    for length in (WINDOW / 10, WINDOW / 2, WINDOW):
        bound = LIMIT * (1 + length / WINDOW)
        assert max_in_interval(admitted, length) <= bound + 1e-9


@settings(max_examples=150, deadline=None)
@given(gaps)
def test_gcra_admits_burst_plus_rate(steps: list[tuple[float, int]]) -> None:
    """Any interval of d seconds admits at most capacity + d * limit / W."""
    admitted = run("gcra", steps)
    for length in (0.5, WINDOW / 2, WINDOW, 3 * WINDOW):
        bound = LIMIT + length * LIMIT / WINDOW
        assert max_in_interval(admitted, length) <= bound + 1e-6


def test_gcra_burst_then_rate() -> None:
    """A full bucket admits its burst at once, then one hit per interval."""
    store = MemoryStore()
    hit = Hit("gcra", "k", LIMIT, LIMIT, WINDOW, 1)
    now = 1_000.0
    burst = [store.hit_now(hit, now).is_allowed for _ in range(LIMIT + 2)]

    assert burst == [True] * LIMIT + [False, False]

    interval = WINDOW / LIMIT
    assert not store.hit_now(hit, now + interval * 0.9).is_allowed
    assert store.hit_now(hit, now + interval).is_allowed
    assert not store.hit_now(hit, now + interval).is_allowed
    assert store.hit_now(hit, now + 2 * interval).is_allowed


def test_fixed_window_doubles_across_boundary() -> None:
    """Fixed window admits 2x the limit within a second across a boundary."""
    admitted = run(
        "fixed_window", [(9.5, 1)] + [(0.0, 1)] * 9 + [(0.6, 1)] + [(0.0, 1)] * 9
    )

    assert len(admitted) == 2 * LIMIT
    assert max_in_interval(admitted, 1.0) == 2 * LIMIT


def test_sliding_window_blocks_boundary_burst() -> None:
    """The same burst against the sliding window gets about one limit through."""
    admitted = run(
        "sliding_window", [(9.5, 1)] + [(0.0, 1)] * 9 + [(0.6, 1)] + [(0.0, 1)] * 9
    )

    assert max_in_interval(admitted, 1.0) <= LIMIT * 1.1


def test_cost_above_capacity_never_admitted() -> None:
    """A hit that costs more than the capacity is rejected by every algorithm."""
    for algorithm in ("fixed_window", "sliding_window", "gcra"):
        store = MemoryStore()
        usage = store.hit_now(Hit(algorithm, "k", LIMIT, LIMIT, WINDOW, LIMIT + 1), 0.0)  # type: ignore[arg-type]

        assert not usage.is_allowed
        assert usage.retry_after_seconds > 0


def test_retry_after_is_exact_per_algorithm() -> None:
    """After a rejection, waiting `retry_after_seconds` admits the same hit."""
    for algorithm in ("fixed_window", "sliding_window", "gcra"):
        store = MemoryStore()
        hit = Hit(algorithm, "k", LIMIT, LIMIT, WINDOW, 1)  # type: ignore[arg-type]
        now = 1_003.0
        for _ in range(LIMIT):
            assert store.hit_now(hit, now).is_allowed
        rejected = store.hit_now(hit, now)

        assert not rejected.is_allowed, algorithm
        wait = rejected.retry_after_seconds
        assert not store.hit_now(hit, now + wait * 0.99).is_allowed, algorithm
        assert store.hit_now(hit, now + wait + 1e-6).is_allowed, algorithm


def test_memory_store_bounded_keys() -> None:
    """The memory store keeps at most `max_keys` counters."""
    store = MemoryStore(max_keys=10)
    for index in range(50):
        store.hit_now(Hit("fixed_window", f"k{index}", 5, 5, 10.0), 0.0)

    assert len(store) <= 10
