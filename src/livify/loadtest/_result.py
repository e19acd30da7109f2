"""The result of a run: summaries per endpoint, step, phase and interval.

`RunResult.to_dict` is the JSON result file. It keeps the encoded
histograms of the whole run, each endpoint and each step, so a later tool can
merge or re-read them instead of trusting the rounded numbers.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from livify.loadtest._exceptions import InvalidResult
from livify.loadtest._histogram import (
    REPORTED_PERCENTILES,
    TIMELINE_SIGNIFICANT_FIGURES,
)
from livify.loadtest._plan import LoadModel, LoadPlan, Phase, PhaseKind
from livify.loadtest._recorder import (
    KIND_ENDPOINT,
    KIND_PHASE,
    KIND_SERVICE,
    KIND_STEP,
    KIND_TOTAL,
    TOTAL,
    Recorder,
    Tally,
)

RESULT_FORMAT = "livify-loadtest/1"
MIN_PHASE_SECONDS = 1.0


@dataclass(frozen=True)
class LatencySummary:
    """Counts, throughput and latency percentiles of one group of requests."""

    name: str
    requests: int
    failures: int
    duration_seconds: float
    p50_seconds: float
    p90_seconds: float
    p95_seconds: float
    p99_seconds: float
    p999_seconds: float
    max_seconds: float
    mean_seconds: float
    statuses: dict[str, int] = field(default_factory=dict)

    @property
    def error_ratio(self) -> float:
        return self.failures / self.requests if self.requests else 0.0

    @property
    def throughput_per_second(self) -> float:
        if self.duration_seconds <= 0:
            return 0.0
        return self.requests / self.duration_seconds

    @property
    def latencies_seconds(self) -> tuple[float, float, float, float, float, float]:
        """Return p50, p90, p95, p99, p99.9 and max, the columns of every table."""
        return (
            self.p50_seconds,
            self.p90_seconds,
            self.p95_seconds,
            self.p99_seconds,
            self.p999_seconds,
            self.max_seconds,
        )

    def percentile_seconds(self, percentile: float) -> float:
        """Return one of the reported percentiles (50, 90, 95, 99 or 99.9)."""
        by_percentile = {
            50.0: self.p50_seconds,
            90.0: self.p90_seconds,
            95.0: self.p95_seconds,
            99.0: self.p99_seconds,
            99.9: self.p999_seconds,
        }
        if percentile not in by_percentile:
            msg = (
                f"percentile {percentile!r} is not reported; use one of "
                "50, 90, 95, 99, 99.9"
            )
            raise ValueError(msg)
        return by_percentile[percentile]

    @classmethod
    def from_tally(
        cls, name: str, tally: Tally, duration_seconds: float
    ) -> LatencySummary:
        histogram = tally.histogram
        p50, p90, p95, p99, p999 = (
            histogram.percentiles_seconds(REPORTED_PERCENTILES)[p]
            for p in REPORTED_PERCENTILES
        )
        return cls(
            name=name,
            requests=tally.requests,
            failures=tally.failures,
            duration_seconds=duration_seconds,
            p50_seconds=p50,
            p90_seconds=p90,
            p95_seconds=p95,
            p99_seconds=p99,
            p999_seconds=p999,
            max_seconds=histogram.max_seconds,
            mean_seconds=histogram.mean_seconds,
            statuses=dict(sorted(tally.statuses.items())),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            **asdict(self),
            "error_ratio": self.error_ratio,
            "throughput_per_second": self.throughput_per_second,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LatencySummary:
        known = {name for name in cls.__dataclass_fields__}
        return cls(**{key: value for key, value in data.items() if key in known})


@dataclass(frozen=True)
class PhaseSummary:
    """One phase of the plan and what it measured.

    `concurrency` is the mean number of requests in flight, by Little's law
    (throughput times mean latency).
    """

    phase: Phase
    latency: LatencySummary

    @property
    def concurrency(self) -> float:
        return self.latency.throughput_per_second * self.latency.mean_seconds

    def to_dict(self) -> dict[str, Any]:
        return {
            "phase": {**asdict(self.phase), "kind": str(self.phase.kind)},
            "latency": self.latency.to_dict(),
            "concurrency": self.concurrency,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PhaseSummary:
        phase = Phase(**{**data["phase"], "kind": PhaseKind(data["phase"]["kind"])})
        return cls(phase, LatencySummary.from_dict(data["latency"]))


@dataclass(frozen=True)
class IntervalSummary:
    """The requests that finished in one interval of the timeline."""

    offset_seconds: float
    requests: int
    failures: int
    p50_seconds: float
    p95_seconds: float
    p99_seconds: float
    max_seconds: float

    @classmethod
    def from_tally(cls, offset_seconds: float, tally: Tally) -> IntervalSummary:
        values = tally.histogram.percentiles_seconds((50.0, 95.0, 99.0))
        return cls(
            offset_seconds=offset_seconds,
            requests=tally.requests,
            failures=tally.failures,
            p50_seconds=values[50.0],
            p95_seconds=values[95.0],
            p99_seconds=values[99.0],
            max_seconds=tally.histogram.max_seconds,
        )


@dataclass
class RunResult:
    """Everything a run measured, plus the threshold and gate outcomes."""

    target_url: str
    plan: LoadPlan
    started_at: float
    duration_seconds: float
    interval_seconds: float
    workers: int
    workload: dict[str, Any]
    total: LatencySummary
    service: LatencySummary | None
    endpoints: list[LatencySummary]
    steps: list[LatencySummary]
    phases: list[PhaseSummary]
    timeline: list[IntervalSummary]
    histograms: dict[str, str]
    stop_reason: str = "completed"
    checks: list[dict[str, Any]] = field(default_factory=list)

    @property
    def model(self) -> LoadModel:
        return self.plan.model

    @property
    def requests_per_user_per_minute(self) -> float | None:
        """Return the request rate of one closed-model user, None for the open model.

        It comes from the constant-load phase with the fewest users, where
        queueing inflates response times least.
        """
        if self.model is not LoadModel.CLOSED:
            return None

        constant = [
            summary
            for summary in self.phases
            if summary.phase.kind is not PhaseKind.RAMP and summary.phase.load_start > 0
        ]
        if not constant:
            return None

        lowest = min(constant, key=lambda summary: summary.phase.load_start)
        return lowest.latency.throughput_per_second / lowest.phase.load_start * 60

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": RESULT_FORMAT,
            "target_url": self.target_url,
            "model": str(self.model),
            "plan": self.plan.to_dict(),
            "started_at": self.started_at,
            "duration_seconds": self.duration_seconds,
            "interval_seconds": self.interval_seconds,
            "workers": self.workers,
            "workload": self.workload,
            "stop_reason": self.stop_reason,
            "requests_per_user_per_minute": self.requests_per_user_per_minute,
            "total": self.total.to_dict(),
            "service": None if self.service is None else self.service.to_dict(),
            "endpoints": [summary.to_dict() for summary in self.endpoints],
            "steps": [summary.to_dict() for summary in self.steps],
            "phases": [summary.to_dict() for summary in self.phases],
            "timeline": [asdict(interval) for interval in self.timeline],
            "checks": self.checks,
            "histograms": self.histograms,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunResult:
        """Rebuild a result; raises InvalidResult when `data` is not one."""
        if not isinstance(data, dict) or data.get("format") != RESULT_FORMAT:
            found = (
                data.get("format") if isinstance(data, dict) else type(data).__name__
            )
            msg = (
                f"not a livify load-test result: format is {found!r}, "
                f"expected {RESULT_FORMAT!r}"
            )
            raise InvalidResult(msg)

        try:
            return cls._from_valid_dict(data)
        except (KeyError, TypeError, ValueError) as exc:
            msg = f"the load-test result is incomplete or malformed: {exc!r}"
            raise InvalidResult(msg) from exc

    @classmethod
    def _from_valid_dict(cls, data: dict[str, Any]) -> RunResult:
        service = data.get("service")
        return cls(
            target_url=data["target_url"],
            plan=LoadPlan.from_dict(data["plan"]),
            started_at=float(data["started_at"]),
            duration_seconds=float(data["duration_seconds"]),
            interval_seconds=float(data["interval_seconds"]),
            workers=int(data["workers"]),
            workload=dict(data["workload"]),
            total=LatencySummary.from_dict(data["total"]),
            service=None if service is None else LatencySummary.from_dict(service),
            endpoints=[LatencySummary.from_dict(item) for item in data["endpoints"]],
            steps=[LatencySummary.from_dict(item) for item in data["steps"]],
            phases=[PhaseSummary.from_dict(item) for item in data["phases"]],
            timeline=[IntervalSummary(**item) for item in data["timeline"]],
            histograms=dict(data["histograms"]),
            stop_reason=str(data.get("stop_reason", "completed")),
            checks=list(data.get("checks", [])),
        )

    def write_json(self, path: Path) -> None:
        path.write_text(json.dumps(self.to_dict(), indent=1) + "\n", encoding="utf-8")

    @classmethod
    def read_json(cls, path: Path) -> RunResult:
        """Read a result file; raises InvalidResult for a file that is not one."""
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except ValueError as exc:
            msg = f"{str(path)!r} is not JSON: {exc}"
            raise InvalidResult(msg) from exc
        return cls.from_dict(data)


def headline_summary(result: RunResult) -> LatencySummary:
    """Return the steady phase's numbers if the plan has one, else the whole run's.

    Thresholds and the regression gate judge these. The ramp is where
    members sign up (a few hundred milliseconds each, by design), so
    whole-run percentiles would mostly measure sign-ups.
    """
    for summary in result.phases:
        if summary.phase.kind is PhaseKind.STEADY:
            return summary.latency
    return result.total


def build_result(
    recorder: Recorder,
    *,
    plan: LoadPlan,
    target_url: str,
    started_at: float,
    ended_at: float,
    workers: int,
    workload: dict[str, Any],
    stop_reason: str = "completed",
) -> RunResult:
    """Summarise what `recorder` holds for a run between two wall-clock times."""
    duration = max(ended_at - started_at, 1e-9)
    total = recorder.tally(KIND_TOTAL, TOTAL) or Tally.empty()
    service = recorder.tally(KIND_SERVICE, TOTAL)
    endpoints = list(recorder.named(KIND_ENDPOINT))
    steps = list(recorder.named(KIND_STEP))

    histograms = {"total": total.histogram.encode()}
    histograms.update(
        {f"endpoint {name}": t.histogram.encode() for name, t in endpoints}
    )
    histograms.update({f"step {name}": t.histogram.encode() for name, t in steps})
    return RunResult(
        target_url=target_url,
        plan=plan,
        started_at=started_at,
        duration_seconds=duration,
        interval_seconds=recorder.interval_seconds,
        workers=workers,
        workload=workload,
        total=LatencySummary.from_tally("total", total, duration),
        service=None
        if service is None
        else LatencySummary.from_tally("service time", service, duration),
        endpoints=[LatencySummary.from_tally(n, t, duration) for n, t in endpoints],
        steps=[LatencySummary.from_tally(n, t, duration) for n, t in steps],
        phases=summarise_phases(recorder, plan, started_at, ended_at),
        timeline=_timeline(recorder, started_at),
        histograms=histograms,
        stop_reason=stop_reason,
    )


def summarise_phases(
    recorder: Recorder, plan: LoadPlan, started_at: float, ended_at: float
) -> list[PhaseSummary]:
    """Summarise each phase that ran, from the requests that finished in it.

    Each load process tags a request with the phase of its own plan clock,
    so a phase's throughput is its requests over the time it ran.
    """
    summaries = []
    for phase in plan.phases:
        ran_seconds = (
            min(phase.end_seconds, ended_at - started_at) - phase.start_seconds
        )
        # A run that stops at a phase boundary may enter the next phase for
        # a few milliseconds, too short for a meaningful rate.
        if ran_seconds <= 0 or ran_seconds < min(
            phase.duration_seconds, MIN_PHASE_SECONDS
        ):
            continue

        tally = recorder.tally(KIND_PHASE, phase.name) or Tally.empty()
        latency = LatencySummary.from_tally(phase.name, tally, ran_seconds)
        summaries.append(PhaseSummary(phase, latency))
    return summaries


def window_tally(recorder: Recorder, begin: float, end: float) -> Tally:
    """Merge the timeline intervals whose midpoint lies in [begin, end).

    Percentiles come from the timeline's histograms, so they are within 1%.
    """
    tally = Tally.empty(significant_figures=TIMELINE_SIGNIFICANT_FIGURES)
    width = recorder.interval_seconds
    for interval, interval_tally in recorder.timeline.items():
        midpoint = (interval + 0.5) * width
        if begin <= midpoint < end:
            tally.merge(interval_tally)
    return tally


def _timeline(recorder: Recorder, started_at: float) -> list[IntervalSummary]:
    width = recorder.interval_seconds
    return [
        IntervalSummary.from_tally(interval * width - started_at, tally)
        for interval, tally in sorted(recorder.timeline.items())
    ]
