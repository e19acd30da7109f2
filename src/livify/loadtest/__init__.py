"""Toolkit: load tests with user journeys, honest percentiles and a regression gate.

Importing this package imports neither Locust nor hdrhistogram; both come
with the `loadtest` extra and are imported when a run or a histogram starts.
"""

from __future__ import annotations

from livify.loadtest._arrivals import ArrivalSchedule
from livify.loadtest._catalogue import Catalogue, build_catalogue, load_catalogue
from livify.loadtest._checks import CheckOutcome
from livify.loadtest._command import (
    add_loadtest_arguments,
    evaluate,
    run_load_test,
    run_loadtest_command,
    write_outputs,
)
from livify.loadtest._exceptions import (
    InvalidResult,
    InvalidThreshold,
    LoadTestError,
    TargetUnavailable,
)
from livify.loadtest._gate import check_regression
from livify.loadtest._histogram import LatencyHistogram, merge_histograms
from livify.loadtest._html import render_html
from livify.loadtest._journeys import (
    MEMBER_JOURNEYS,
    VISITOR_JOURNEYS,
    Journey,
    Member,
    Step,
    StepContext,
)
from livify.loadtest._options import RunOptions
from livify.loadtest._plan import LoadModel, LoadPlan, Phase, PhaseKind, build_plan
from livify.loadtest._popularity import Popularity
from livify.loadtest._recorder import Recorder, Sample, Tally
from livify.loadtest._result import (
    IntervalSummary,
    LatencySummary,
    PhaseSummary,
    RunResult,
    build_result,
)
from livify.loadtest._runtime import WorkloadSettings
from livify.loadtest._session import Reply, Session
from livify.loadtest._svg import Axis, Series, render_line_chart
from livify.loadtest._target import LocalTarget
from livify.loadtest._text import render_summary
from livify.loadtest._thresholds import Threshold, parse_threshold, read_thresholds

__all__ = [
    "MEMBER_JOURNEYS",
    "VISITOR_JOURNEYS",
    "ArrivalSchedule",
    "Axis",
    "Catalogue",
    "CheckOutcome",
    "IntervalSummary",
    "InvalidResult",
    "InvalidThreshold",
    "Journey",
    "LatencyHistogram",
    "LatencySummary",
    "LoadModel",
    "LoadPlan",
    "LoadTestError",
    "LocalTarget",
    "Member",
    "Phase",
    "PhaseKind",
    "PhaseSummary",
    "Popularity",
    "Recorder",
    "Reply",
    "RunOptions",
    "RunResult",
    "Sample",
    "Series",
    "Session",
    "Step",
    "StepContext",
    "Tally",
    "TargetUnavailable",
    "Threshold",
    "WorkloadSettings",
    "add_loadtest_arguments",
    "build_catalogue",
    "build_plan",
    "build_result",
    "check_regression",
    "evaluate",
    "load_catalogue",
    "merge_histograms",
    "parse_threshold",
    "read_thresholds",
    "render_html",
    "render_line_chart",
    "render_summary",
    "run_load_test",
    "run_loadtest_command",
    "write_outputs",
]
