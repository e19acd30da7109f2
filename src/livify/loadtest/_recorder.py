"""Record every request's latency and outcome, per endpoint, step and interval.

One `Recorder` runs in each load-generating process. A worker drains it into
a report of plain values (histograms encoded) and sends that to the master,
whose own `Recorder` absorbs the reports of every worker by adding counters
and merging histograms.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from livify.loadtest._histogram import (
    SIGNIFICANT_FIGURES,
    TIMELINE_SIGNIFICANT_FIGURES,
    LatencyHistogram,
)

DEFAULT_INTERVAL_SECONDS = 1.0
TOTAL = "total"
# Tally kinds: what a tally's name counts.
KIND_TOTAL = "total"
KIND_ENDPOINT = "endpoint"
KIND_STEP = "step"
KIND_PHASE = "phase"
# The open model also keeps the time from the actual send, which is what a
# tool that ignores coordinated omission would report.
KIND_SERVICE = "service"
NO_RESPONSE = "none"


@dataclass(frozen=True, slots=True)
class Sample:
    """One request: where it went, how long it took and how it ended.

    `latency_seconds` runs from the intended send time in the open model and
    from the actual send time in the closed model. `service_seconds` always
    runs from the actual send. `phase` names the plan's phase when the
    request finished (`setup` before the plan starts, `cleanup` after it
    ends). `status` is None when no response arrived.
    """

    endpoint: str
    step: str
    latency_seconds: float
    service_seconds: float
    status: int | None
    is_failure: bool
    finished_at: float
    is_open_model: bool = False
    phase: str = ""


@dataclass
class Tally:
    """Counters and a latency histogram of one group of requests."""

    histogram: LatencyHistogram
    requests: int = 0
    failures: int = 0
    statuses: Counter[str] = field(default_factory=Counter)

    @classmethod
    def empty(cls, *, significant_figures: int = SIGNIFICANT_FIGURES) -> Tally:
        return cls(LatencyHistogram(significant_figures=significant_figures))

    def add(self, latency_seconds: float, status: int | None, is_failure: bool) -> None:
        self.histogram.record(latency_seconds)
        self.requests += 1
        self.failures += int(is_failure)
        self.statuses[NO_RESPONSE if status is None else str(status)] += 1

    def merge(self, other: Tally) -> None:
        self.histogram.merge(other.histogram)
        self.requests += other.requests
        self.failures += other.failures
        self.statuses.update(other.statuses)

    def to_report(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "failures": self.failures,
            "statuses": dict(self.statuses),
            "histogram": self.histogram.encode(),
        }

    @classmethod
    def from_report(cls, report: Mapping[str, Any]) -> Tally:
        return cls(
            histogram=LatencyHistogram.decode(report["histogram"]),
            requests=int(report["requests"]),
            failures=int(report["failures"]),
            statuses=Counter({str(k): int(v) for k, v in report["statuses"].items()}),
        )


class Recorder:
    """Tallies of requests by (kind, name) and by interval of wall-clock time.

    Intervals are numbered `floor(finished_at / interval_seconds)`, so the
    recorders of several machines with synchronised clocks agree on them.
    """

    def __init__(self, *, interval_seconds: float = DEFAULT_INTERVAL_SECONDS) -> None:
        if not interval_seconds > 0:
            msg = f"interval_seconds must be positive, got {interval_seconds!r}"
            raise ValueError(msg)

        self.interval_seconds = interval_seconds
        self.tallies: dict[tuple[str, str], Tally] = {}
        self.timeline: dict[int, Tally] = {}

    def record(self, sample: Sample) -> None:
        """Count one request in its endpoint, step, phase, total and interval."""
        outcome = (sample.status, sample.is_failure)
        self._tally(KIND_TOTAL, TOTAL).add(sample.latency_seconds, *outcome)
        self._tally(KIND_ENDPOINT, sample.endpoint).add(
            sample.latency_seconds, *outcome
        )
        self._tally(KIND_STEP, sample.step).add(sample.latency_seconds, *outcome)
        if sample.phase:
            self._tally(KIND_PHASE, sample.phase).add(sample.latency_seconds, *outcome)
        if sample.is_open_model:
            self._tally(KIND_SERVICE, TOTAL).add(sample.service_seconds, *outcome)

        interval = math.floor(sample.finished_at / self.interval_seconds)
        self._interval(interval).add(sample.latency_seconds, *outcome)

    def tally(self, kind: str, name: str) -> Tally | None:
        return self.tallies.get((kind, name))

    def named(self, kind: str) -> Iterator[tuple[str, Tally]]:
        """Yield (name, tally) of one kind, sorted by name."""
        for (tally_kind, name), tally in sorted(self.tallies.items()):
            if tally_kind == kind:
                yield name, tally

    def drain(self) -> dict[str, Any]:
        """Return everything recorded since the last drain, and forget it.

        The report holds only JSON-compatible values, so it can travel to
        the master inside a Locust message.
        """
        report = {
            "interval_seconds": self.interval_seconds,
            "tallies": [
                [kind, name, tally.to_report()]
                for (kind, name), tally in self.tallies.items()
            ],
            "timeline": [
                [interval, tally.to_report()]
                for interval, tally in self.timeline.items()
            ],
        }
        self.tallies = {}
        self.timeline = {}
        return report

    def absorb(self, report: Mapping[str, Any]) -> None:
        """Add a report from `drain`, usually another process's."""
        if report["interval_seconds"] != self.interval_seconds:
            msg = (
                f"report intervals of {report['interval_seconds']!r} s do not match "
                f"this recorder's {self.interval_seconds!r} s"
            )
            raise ValueError(msg)

        for kind, name, tally_report in report["tallies"]:
            self._tally(kind, name).merge(Tally.from_report(tally_report))

        for interval, tally_report in report["timeline"]:
            self._interval(int(interval)).merge(Tally.from_report(tally_report))

    def _tally(self, kind: str, name: str) -> Tally:
        key = (kind, name)
        tally = self.tallies.get(key)
        if tally is None:
            tally = self.tallies[key] = Tally.empty()
        return tally

    def _interval(self, interval: int) -> Tally:
        tally = self.timeline.get(interval)
        if tally is None:
            tally = Tally.empty(significant_figures=TIMELINE_SIGNIFICANT_FIGURES)
            self.timeline[interval] = tally
        return tally
