"""Prometheus metrics of load shedding.

The share of requests shed over five minutes is

    sum(rate(livify_shedding_rejected_total[5m]))
    / (sum(rate(livify_shedding_rejected_total[5m]))
       + sum(rate(livify_shedding_queue_wait_seconds_count[5m])))

In multiprocess mode the counters and histogram buckets of all workers are
summed, and so are the in-flight, queue and limit gauges, because each
worker admits on its own.

Most requests are admitted at once, so those admissions and the in-flight
count are kept in plain attributes and written on `flush()` (before every
collection of the registry, and whenever the application's sampler calls
it): a histogram observe and two gauge sets per request would cost more
than the admission itself.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from livify.observability import call_on_collect, observe_many
from livify.resilience._shedding_hooks import ShedReason

# Queue waits are bounded by the queue timeout, 50 ms by default.
QUEUE_WAIT_BUCKETS_SECONDS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1)


class SheddingMetrics:
    """Shedding hooks that record admissions, rejections and the limit."""

    def __init__(self, registry: CollectorRegistry) -> None:
        # Registered first, so a collection flushes before reading the rest.
        call_on_collect(registry, self.flush)
        self.rejected = Counter(
            "livify_shedding_rejected",
            "Requests answered 503 by load shedding, per reason.",
            ("reason",),
            registry=registry,
        )
        self.queue_wait = Histogram(
            "livify_shedding_queue_wait_seconds",
            "Time admitted requests waited for a slot; _count is admissions.",
            buckets=QUEUE_WAIT_BUCKETS_SECONDS,
            registry=registry,
        )
        self.in_flight = Gauge(
            "livify_shedding_in_flight",
            "Admitted requests still running.",
            multiprocess_mode="livesum",
            registry=registry,
        )
        self.limit = Gauge(
            "livify_shedding_limit",
            "Current adaptive concurrency limit.",
            multiprocess_mode="livesum",
            registry=registry,
        )
        self._rejected_children = {
            reason: self.rejected.labels(reason)
            for reason in ("queue_full", "queue_timeout")
        }
        self._immediate_admissions = 0
        self._in_flight = 0

    def on_admit(self, queue_wait_seconds: float) -> None:
        if queue_wait_seconds == 0.0:
            self._immediate_admissions += 1
        else:
            self.queue_wait.observe(queue_wait_seconds)

    def on_shed(self, reason: ShedReason) -> None:
        self._rejected_children[reason].inc()

    def on_in_flight_change(self, in_flight: int) -> None:
        self._in_flight = in_flight

    def on_limit_change(self, limit: int) -> None:
        self.limit.set(limit)

    def flush(self) -> None:
        """Write the admissions counted since the last flush and the in-flight count."""
        immediate, self._immediate_admissions = self._immediate_admissions, 0
        if immediate:
            observe_many(self.queue_wait, 0.0, immediate)
        self.in_flight.set(self._in_flight)
