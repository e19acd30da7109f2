"""FallbackCircuit: consecutive failures open it, one probe per cooldown."""

from __future__ import annotations

import pytest

from livify.resilience import CircuitState, FallbackCircuit


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def opened(clock: Clock, **options: float) -> FallbackCircuit:
    """Return a circuit that three failures in a row have just opened."""
    circuit = FallbackCircuit(clock=clock, **options)  # type: ignore[arg-type]
    for _ in range(3):
        circuit.record_failure()
    return circuit


def test_opens_after_threshold_failures_in_a_row() -> None:
    circuit = FallbackCircuit(clock=Clock(), failure_threshold=3)

    assert circuit.record_failure() is False
    assert circuit.record_failure() is False
    assert circuit.record_failure() is True
    assert circuit.is_open
    assert circuit.allow() is False


def test_success_resets_the_failure_count() -> None:
    circuit = FallbackCircuit(clock=Clock(), failure_threshold=2)

    circuit.record_failure()
    circuit.record_success()
    circuit.record_failure()

    assert not circuit.is_open


def test_one_probe_per_cooldown() -> None:
    clock = Clock()
    circuit = opened(clock, cooldown_seconds=1.0)

    clock.now += 1.0

    assert circuit.allow() is True
    assert circuit.state is CircuitState.HALF_OPEN
    assert circuit.allow() is False


def test_probe_success_closes() -> None:
    clock = Clock()
    circuit = opened(clock, cooldown_seconds=1.0)
    clock.now += 1.0
    circuit.allow()

    assert circuit.record_success() is True
    assert circuit.state is CircuitState.CLOSED
    assert circuit.allow() is True


def test_failed_probes_double_cooldown() -> None:
    clock = Clock()
    circuit = opened(clock, cooldown_seconds=1.0, cooldown_max_seconds=3.0)
    waits = []
    for _ in range(4):
        waited = 0.0
        while not circuit.allow():
            clock.now += 0.5
            waited += 0.5
        waits.append(waited)
        assert circuit.record_failure() is False

    assert waits == [1.0, 2.0, 3.0, 3.0]


def test_fixed_cooldown_when_max_equals_it() -> None:
    clock = Clock()
    circuit = FallbackCircuit(
        clock=clock, failure_threshold=1, cooldown_seconds=5.0, cooldown_max_seconds=5.0
    )
    circuit.record_failure()
    for _ in range(3):
        clock.now += 4.9
        assert circuit.allow() is False
        clock.now += 0.1
        assert circuit.allow() is True
        circuit.record_failure()


def test_unreported_probe_lets_the_next_call_probe() -> None:
    """A probe cancelled before it reported does not keep the circuit shut."""
    clock = Clock()
    circuit = opened(clock, cooldown_seconds=1.0)
    clock.now += 1.0
    assert circuit.allow() is True

    clock.now += 1.0

    assert circuit.allow() is True


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"failure_threshold": 0}, "failure_threshold"),
        ({"cooldown_seconds": 0.0}, "cooldown_seconds"),
        ({"cooldown_seconds": 5.0, "cooldown_max_seconds": 1.0}, "cooldown_seconds"),
    ],
)
def test_rejects_invalid_settings(options: dict[str, float], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        FallbackCircuit(clock=Clock(), **options)  # type: ignore[arg-type]
