"""The circuit breaker's state machine, driven by a fake clock."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from livify.resilience import CircuitBreaker, CircuitOpen, CircuitState
from tests.resilience.fakes import FakeClock


@dataclass
class RecordingHooks:
    transitions: list[tuple[CircuitState, CircuitState]] = field(default_factory=list)

    def on_breaker_transition(
        self, dependency: str, previous: CircuitState, current: CircuitState
    ) -> None:
        self.transitions.append((previous, current))


def make_breaker(clock: FakeClock, **options: float) -> CircuitBreaker:
    settings: dict[str, float] = {
        "window_size": 10,
        "minimum_calls": 10,
        "failure_rate_threshold": 0.5,
        "slow_call_rate_threshold": 0.5,
        "slow_call_seconds": 1.0,
        "open_seconds": 30.0,
        "half_open_probes": 2,
    }
    settings.update(options)
    return CircuitBreaker(
        name="search",
        clock=clock,
        window_size=int(settings["window_size"]),
        minimum_calls=int(settings["minimum_calls"]),
        failure_rate_threshold=settings["failure_rate_threshold"],
        slow_call_rate_threshold=settings["slow_call_rate_threshold"],
        slow_call_seconds=settings["slow_call_seconds"],
        open_seconds=settings["open_seconds"],
        half_open_probes=int(settings["half_open_probes"]),
    )


def run_calls(breaker: CircuitBreaker, outcomes: str, clock: FakeClock) -> None:
    """Record one call per letter: f failed, s slow success, o fast success."""
    for letter in outcomes:
        permit = breaker.acquire()
        if letter == "s":
            clock.advance(breaker.slow_call_seconds)
        breaker.record(permit, is_failure=letter == "f")


def open_breaker(breaker: CircuitBreaker, clock: FakeClock) -> None:
    run_calls(breaker, "f" * breaker.window_size, clock)
    assert breaker.state is CircuitState.OPEN


def test_breaker_opens_at_failure_rate() -> None:
    """Half the window failing opens it; one failure less does not."""
    clock = FakeClock()
    breaker = make_breaker(clock)
    run_calls(breaker, "foooooofff", clock)
    assert breaker.state is CircuitState.CLOSED

    run_calls(breaker, "f", clock)  # the oldest failure leaves the window
    assert breaker.state is CircuitState.CLOSED

    run_calls(breaker, "f", clock)  # five failures in the last ten calls
    assert breaker.state is CircuitState.OPEN


def test_breaker_waits_for_minimum_calls() -> None:
    """Failures before `minimum_calls` calls were seen do not open it."""
    clock = FakeClock()
    breaker = make_breaker(clock, minimum_calls=5)
    run_calls(breaker, "ffff", clock)
    assert breaker.state is CircuitState.CLOSED

    run_calls(breaker, "f", clock)
    assert breaker.state is CircuitState.OPEN


def test_breaker_opens_at_slow_call_rate() -> None:
    """Successful calls that take `slow_call_seconds` count as slow."""
    clock = FakeClock()
    breaker = make_breaker(clock)
    run_calls(breaker, "oooooossss", clock)
    assert breaker.state is CircuitState.CLOSED

    run_calls(breaker, "s", clock)
    assert breaker.state is CircuitState.OPEN


def test_open_breaker_rejects_until_open_seconds() -> None:
    """An open breaker rejects calls and reports when probes start."""
    clock = FakeClock()
    breaker = make_breaker(clock)
    open_breaker(breaker, clock)
    clock.advance(10.0)

    with pytest.raises(CircuitOpen) as caught:
        breaker.acquire()

    assert caught.value.dependency == "search"
    assert caught.value.retry_after_seconds == pytest.approx(20.0)

    clock.advance(20.0)
    assert breaker.state is CircuitState.HALF_OPEN


def test_half_open_admits_exact_probe_count() -> None:
    """Half-open admits `half_open_probes` concurrent calls and rejects more."""
    clock = FakeClock()
    breaker = make_breaker(clock, half_open_probes=3)
    open_breaker(breaker, clock)
    clock.advance(30.0)

    probes = [breaker.acquire() for _ in range(3)]
    assert all(permit.is_probe for permit in probes)
    with pytest.raises(CircuitOpen) as caught:
        breaker.acquire()

    assert caught.value.retry_after_seconds == 0.0

    breaker.release(probes.pop())  # a cancelled probe frees its slot
    probes.append(breaker.acquire())
    for permit in probes:
        breaker.record(permit, is_failure=False)

    assert breaker.state is CircuitState.CLOSED


def test_successful_probes_close_breaker() -> None:
    """A success frees no new probe slot; all successes close the breaker."""
    clock = FakeClock()
    breaker = make_breaker(clock, half_open_probes=2)
    open_breaker(breaker, clock)
    clock.advance(30.0)

    first = breaker.acquire()
    breaker.record(first, is_failure=False)
    assert breaker.state is CircuitState.HALF_OPEN

    second = breaker.acquire()
    with pytest.raises(CircuitOpen):
        breaker.acquire()

    breaker.record(second, is_failure=False)
    assert breaker.state is CircuitState.CLOSED
    breaker.acquire()


@pytest.mark.parametrize("outcome", ["f", "s"])
def test_failed_or_slow_probe_reopens(outcome: str) -> None:
    """A failed or slow probe opens the breaker for another period."""
    clock = FakeClock()
    breaker = make_breaker(clock)
    open_breaker(breaker, clock)
    clock.advance(30.0)

    run_calls(breaker, outcome, clock)
    assert breaker.state is CircuitState.OPEN
    with pytest.raises(CircuitOpen):
        breaker.acquire()


def test_stale_results_are_ignored() -> None:
    """A call admitted while closed cannot count as a half-open probe."""
    clock = FakeClock()
    breaker = make_breaker(clock, half_open_probes=1)
    late = breaker.acquire()
    open_breaker(breaker, clock)
    clock.advance(30.0)
    assert breaker.state is CircuitState.HALF_OPEN

    breaker.record(late, is_failure=False)
    assert breaker.state is CircuitState.HALF_OPEN
    breaker.release(late)
    probe = breaker.acquire()
    assert probe.is_probe


def test_transitions_reach_hooks() -> None:
    """Every transition is reported with the previous and new state."""
    clock = FakeClock()
    breaker = make_breaker(clock, half_open_probes=1)
    hooks = RecordingHooks()
    breaker.hooks = hooks  # type: ignore[assignment]  # only one hook is used
    open_breaker(breaker, clock)
    clock.advance(30.0)
    run_calls(breaker, "o", clock)

    assert hooks.transitions == [
        (CircuitState.CLOSED, CircuitState.OPEN),
        (CircuitState.OPEN, CircuitState.HALF_OPEN),
        (CircuitState.HALF_OPEN, CircuitState.CLOSED),
    ]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"window_size": 0}, "window_size must be positive"),
        ({"failure_rate_threshold": 1.5}, "failure_rate_threshold must be in"),
        ({"slow_call_rate_threshold": 0.0}, "slow_call_rate_threshold must be in"),
        ({"minimum_calls": 11}, "must not exceed window_size"),
        ({"half_open_probes": 0}, "half_open_probes must be positive"),
    ],
)
def test_breaker_rejects_invalid_options(
    options: dict[str, float], message: str
) -> None:
    """Out-of-range options raise ValueError naming the option."""
    with pytest.raises(ValueError, match=message):
        make_breaker(FakeClock(), **options)
