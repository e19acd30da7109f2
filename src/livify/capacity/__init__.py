"""Toolkit: capacity planning from step-load results.

Fits the Universal Scalability Law, finds the knee where p95 latency crosses
the SLO, and sizes a deployment for a number of users. scipy is imported only
when a fit runs.
"""

from __future__ import annotations

from livify.capacity._analysis import (
    CapacityAnalysis,
    analyse,
    render_analysis,
    render_analysis_svg,
)
from livify.capacity._command import add_capacity_arguments, run_capacity_command
from livify.capacity._exceptions import CapacityError, NotEnoughData
from livify.capacity._knee import Knee, find_knee
from livify.capacity._planning import InstancePlan, plan_instances
from livify.capacity._points import LoadPoint, step_points
from livify.capacity._usl import UslFit, fit_usl, usl_throughput

__all__ = [
    "CapacityAnalysis",
    "CapacityError",
    "InstancePlan",
    "Knee",
    "LoadPoint",
    "NotEnoughData",
    "UslFit",
    "add_capacity_arguments",
    "analyse",
    "find_knee",
    "fit_usl",
    "plan_instances",
    "render_analysis",
    "render_analysis_svg",
    "run_capacity_command",
    "step_points",
    "usl_throughput",
]
