"""Toolkit: protections for the server and its outbound calls."""

from __future__ import annotations

from livify.resilience._adaptive_limit import AimdLimit
from livify.resilience._admission import Admission
from livify.resilience._body_limit import BodySizeLimitMiddleware, RequestBodyTooLarge
from livify.resilience._deadline_middleware import DeadlineMiddleware
from livify.resilience._shedding import LoadSheddingMiddleware
from livify.resilience._shedding_hooks import (
    NoSheddingHooks,
    SheddingHooks,
    ShedReason,
)
from livify.resilience._shedding_metrics import SheddingMetrics

__all__ = [
    "Admission",
    "AimdLimit",
    "BodySizeLimitMiddleware",
    "DeadlineMiddleware",
    "LoadSheddingMiddleware",
    "NoSheddingHooks",
    "RequestBodyTooLarge",
    "ShedReason",
    "SheddingHooks",
    "SheddingMetrics",
]
