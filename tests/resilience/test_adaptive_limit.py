"""AimdLimit: additive increase, multiplicative decrease, on a fake clock."""

from __future__ import annotations

import pytest

from livify.resilience import AimdLimit
from tests.resilience.fakes import FakeClock

TARGET = 0.1
WINDOW = 0.1


def make_limit(clock: FakeClock, **options: float) -> AimdLimit:
    settings: dict[str, float] = {
        "initial_limit": 20,
        "min_limit": 4,
        "max_limit": 40,
        "latency_target_seconds": TARGET,
        "window_seconds": WINDOW,
        "min_samples": 5,
        "backoff_ratio": 0.5,
        "increase_step": 1,
        **options,
    }
    return AimdLimit(clock=clock, **settings)  # type: ignore[arg-type]


def run_window(
    limit: AimdLimit, clock: FakeClock, latency: float, *, in_flight: int
) -> bool:
    """Record five samples, the last one after the window has ended."""
    changed = False
    for _ in range(4):
        changed |= limit.record(latency, in_flight=in_flight)
    clock.advance(WINDOW)
    changed |= limit.record(latency, in_flight=in_flight)
    return changed


def test_slow_window_halves_limit() -> None:
    """A window whose mean latency is over the target cuts the limit."""
    clock = FakeClock()
    limit = make_limit(clock)

    assert run_window(limit, clock, TARGET * 2, in_flight=20)
    assert limit.limit == 10


def test_limit_never_drops_below_minimum() -> None:
    """Repeated slow windows stop at min_limit."""
    clock = FakeClock()
    limit = make_limit(clock)

    for _ in range(10):
        run_window(limit, clock, TARGET * 5, in_flight=20)

    assert limit.limit == 4


def test_fast_busy_window_adds_one() -> None:
    """Latency under target with the limit in use grows it by one step."""
    clock = FakeClock()
    limit = make_limit(clock)

    assert run_window(limit, clock, TARGET / 2, in_flight=15)
    assert limit.limit == 21


def test_idle_server_keeps_its_limit() -> None:
    """A window whose peak in-flight stays under half the limit changes nothing."""
    clock = FakeClock()
    limit = make_limit(clock)

    assert not run_window(limit, clock, TARGET / 2, in_flight=3)
    assert limit.limit == 20


def test_limit_never_grows_past_maximum() -> None:
    """Repeated fast, busy windows stop at max_limit."""
    clock = FakeClock()
    limit = make_limit(clock)

    for _ in range(100):
        run_window(limit, clock, TARGET / 2, in_flight=40)

    assert limit.limit == 40


def test_window_waits_for_enough_samples() -> None:
    """Fewer than min_samples samples carry over instead of moving the limit."""
    clock = FakeClock()
    limit = make_limit(clock)

    clock.advance(WINDOW * 3)
    for _ in range(4):
        assert not limit.record(TARGET * 10, in_flight=20)
    assert limit.limit == 20

    assert limit.record(TARGET * 10, in_flight=20)
    assert limit.limit == 10


def test_samples_within_window_do_not_adjust() -> None:
    """Before the window ends, no sample moves the limit, however slow."""
    clock = FakeClock()
    limit = make_limit(clock)

    for _ in range(50):
        assert not limit.record(TARGET * 10, in_flight=20)
        clock.advance(WINDOW / 100)

    assert limit.limit == 20


def test_mean_decides_not_one_outlier() -> None:
    """One slow request among fast ones leaves the window under target."""
    clock = FakeClock()
    limit = make_limit(clock)

    limit.record(TARGET * 3, in_flight=20)
    for _ in range(8):
        limit.record(TARGET / 10, in_flight=20)
    clock.advance(WINDOW)
    limit.record(TARGET / 10, in_flight=20)

    assert limit.limit == 21


def test_recovers_after_overload_ends() -> None:
    """After a cut, fast windows bring the limit back up one step at a time."""
    clock = FakeClock()
    limit = make_limit(clock)
    run_window(limit, clock, TARGET * 2, in_flight=20)
    assert limit.limit == 10

    for _ in range(5):
        run_window(limit, clock, TARGET / 2, in_flight=10)

    assert limit.limit == 15


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"min_limit": 0}, "min_limit must be at least 1"),
        ({"initial_limit": 50}, "initial_limit must be within"),
        ({"backoff_ratio": 1.0}, "backoff_ratio must be between 0 and 1"),
        ({"latency_target_seconds": 0}, "latency_target_seconds must be positive"),
        ({"window_seconds": -1}, "window_seconds must be positive"),
    ],
)
def test_invalid_options_raise(options: dict[str, float], message: str) -> None:
    """Inconsistent bounds or ratios raise ValueError naming the option."""
    with pytest.raises(ValueError, match=message):
        make_limit(FakeClock(), **options)
