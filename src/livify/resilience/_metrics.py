"""Prometheus metrics of outbound calls, per dependency.

The share of calls to one dependency that failed over five minutes is

    sum without (outcome) (rate(livify_dependency_calls_total{
        dependency="D", outcome=~"failed|timeout|circuit_open|bulkhead_full"}[5m]))
    / sum without (outcome) (rate(livify_dependency_calls_total{dependency="D"}[5m]))

and `livify_dependency_breaker_state` is 0 closed, 1 half-open, 2 open. In
multiprocess mode the counters and histogram buckets of all workers are
summed, and the breaker gauge takes the maximum, so it shows 2 while any
worker's breaker is open.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from livify.resilience._types import CallOutcome, CircuitState

# Outbound calls run from a few milliseconds to the 30 s read timeout.
CALL_BUCKETS_SECONDS = (
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
    30.0,
)


class ResilienceMetrics:
    """Resilience hooks that record calls, retries and breaker state in Prometheus.

    Pass an instance as `hooks=` to `Dependency`. Labelled children are kept
    after first use, so later events cost one dict lookup.
    """

    def __init__(self, registry: CollectorRegistry) -> None:
        self.calls = Counter(
            "livify_dependency_calls",
            "Outbound calls by how they ended: success, client_error, failed, "
            "timeout, circuit_open, bulkhead_full, cancelled.",
            ("dependency", "outcome"),
            registry=registry,
        )
        self.call_duration = Histogram(
            "livify_dependency_call_duration_seconds",
            "Time outbound calls took, retries and backoff included.",
            ("dependency",),
            buckets=CALL_BUCKETS_SECONDS,
            registry=registry,
        )
        self.retries = Counter(
            "livify_dependency_retries",
            "Attempts sent again after a failed attempt.",
            ("dependency",),
            registry=registry,
        )
        self.retries_rejected = Counter(
            "livify_dependency_retries_rejected",
            "Failed attempts not retried because the retry budget had no room.",
            ("dependency",),
            registry=registry,
        )
        self.breaker_state = Gauge(
            "livify_dependency_breaker_state",
            "Circuit breaker state: 0 closed, 1 half-open, 2 open.",
            ("dependency",),
            multiprocess_mode="livemax",
            registry=registry,
        )
        self.breaker_transitions = Counter(
            "livify_dependency_breaker_transitions",
            "Circuit breaker transitions, by the state entered.",
            ("dependency", "state"),
            registry=registry,
        )
        self.bulkhead_rejections = Counter(
            "livify_dependency_bulkhead_rejections",
            "Calls that found no free bulkhead slot in time.",
            ("dependency",),
            registry=registry,
        )
        self._call_children: dict[tuple[str, str], tuple[Counter, Histogram]] = {}

    def on_call(
        self, dependency: str, outcome: CallOutcome, duration_seconds: float
    ) -> None:
        children = self._call_children.get((dependency, outcome))
        if children is None:
            children = self._add_call_children(dependency, outcome)

        counter, histogram = children
        counter.inc()
        histogram.observe(duration_seconds)

    def _add_call_children(
        self, dependency: str, outcome: str
    ) -> tuple[Counter, Histogram]:
        # The first call of a dependency also shows its breaker as closed,
        # unless a transition already set the gauge.
        if not any(key[0] == dependency for key in self._call_children):
            self.breaker_state.labels(dependency).inc(0)

        children = (
            self.calls.labels(dependency, outcome),
            self.call_duration.labels(dependency),
        )
        self._call_children[dependency, outcome] = children
        return children

    def on_retry(self, dependency: str, attempt: int, delay_seconds: float) -> None:
        self.retries.labels(dependency).inc()

    def on_retry_rejected(self, dependency: str) -> None:
        self.retries_rejected.labels(dependency).inc()

    def on_breaker_transition(
        self, dependency: str, previous: CircuitState, current: CircuitState
    ) -> None:
        self.breaker_state.labels(dependency).set(current.value)
        self.breaker_transitions.labels(dependency, current.label).inc()

    def on_bulkhead_rejected(self, dependency: str) -> None:
        self.bulkhead_rejections.labels(dependency).inc()
