"""Toolkit: golden-signal metrics, health probes, structured logs and tracing."""

from __future__ import annotations

from livify.observability._dispatch import PathDispatchMiddleware
from livify.observability._exposition import MetricsEndpoint, is_multiprocess
from livify.observability._health import HealthEndpoint, ReadinessCheck
from livify.observability._logging import configure_logging
from livify.observability._metrics import (
    LATENCY_BUCKETS_SECONDS,
    HttpServerMetrics,
    RuntimeMetrics,
)
from livify.observability._middleware import ObservabilityMiddleware
from livify.observability._sampler import PoolStatus, RuntimeSampler
from livify.observability._tally import call_on_collect, observe_many
from livify.observability._tracing import Tracing, create_tracer_provider

__all__ = [
    "LATENCY_BUCKETS_SECONDS",
    "HealthEndpoint",
    "HttpServerMetrics",
    "MetricsEndpoint",
    "ObservabilityMiddleware",
    "PathDispatchMiddleware",
    "PoolStatus",
    "ReadinessCheck",
    "RuntimeMetrics",
    "RuntimeSampler",
    "Tracing",
    "call_on_collect",
    "configure_logging",
    "create_tracer_provider",
    "is_multiprocess",
    "observe_many",
]
