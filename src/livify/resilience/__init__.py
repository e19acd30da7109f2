"""Toolkit: protections for the server and its outbound calls."""

from __future__ import annotations

from livify.resilience._adaptive_limit import AimdLimit
from livify.resilience._admission import Admission
from livify.resilience._body_limit import BodySizeLimitMiddleware, RequestBodyTooLarge
from livify.resilience._breaker import BreakerPermit, CircuitBreaker
from livify.resilience._budget import RetryBudget
from livify.resilience._bulkhead import Bulkhead
from livify.resilience._client import Dependency
from livify.resilience._deadline import Deadline, deadline, remaining_seconds
from livify.resilience._deadline_middleware import DeadlineMiddleware
from livify.resilience._exceptions import (
    BulkheadFull,
    CircuitOpen,
    DeadlineExceeded,
    DependencyFailed,
    DependencyTimeout,
    DependencyUnavailable,
)
from livify.resilience._fallback_circuit import FallbackCircuit
from livify.resilience._hooks import NoHooks, ResilienceHooks
from livify.resilience._metrics import ResilienceMetrics
from livify.resilience._retry import RetryPolicy, parse_retry_after
from livify.resilience._shedding import LoadSheddingMiddleware
from livify.resilience._shedding_hooks import (
    NoSheddingHooks,
    SheddingHooks,
    ShedReason,
)
from livify.resilience._shedding_metrics import SheddingMetrics
from livify.resilience._timeouts import Timeouts
from livify.resilience._types import CallOutcome, CircuitState

__all__ = [
    "Admission",
    "AimdLimit",
    "BodySizeLimitMiddleware",
    "BreakerPermit",
    "Bulkhead",
    "BulkheadFull",
    "CallOutcome",
    "CircuitBreaker",
    "CircuitOpen",
    "CircuitState",
    "Deadline",
    "DeadlineExceeded",
    "DeadlineMiddleware",
    "Dependency",
    "DependencyFailed",
    "DependencyTimeout",
    "DependencyUnavailable",
    "FallbackCircuit",
    "LoadSheddingMiddleware",
    "NoHooks",
    "NoSheddingHooks",
    "RequestBodyTooLarge",
    "ResilienceHooks",
    "ResilienceMetrics",
    "RetryBudget",
    "RetryPolicy",
    "ShedReason",
    "SheddingHooks",
    "SheddingMetrics",
    "Timeouts",
    "deadline",
    "parse_retry_after",
    "remaining_seconds",
]
