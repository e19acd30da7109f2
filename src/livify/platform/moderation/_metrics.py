"""Prometheus metrics of content moderation."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge

INLINE = "inline"
QUEUE = "queue"


class ModerationMetrics:
    """Checks by where they ran and how they ended, and the queue's depth."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.checks = Counter(
            "livify_moderation_checks",
            "Moderation checks, by source (inline: in the write request; queue: "
            "by the worker) and outcome (approved, rejected, unavailable).",
            ("source", "outcome"),
            registry=registry,
        )
        self.queue_depth = Gauge(
            "livify_moderation_queue_depth",
            "Posts accepted as pending that still wait for a verdict.",
            multiprocess_mode="livemax",
            registry=registry,
        )
        # Create every series up front, so a rate over them starts at zero.
        for source in (INLINE, QUEUE):
            for outcome in ("approved", "rejected", "unavailable"):
                self.checks.labels(source, outcome)

    def record_check(self, source: str, outcome: str) -> None:
        self.checks.labels(source, outcome).inc()
