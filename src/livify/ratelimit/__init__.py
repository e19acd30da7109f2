"""Toolkit: rate limiting for ASGI applications.

Three algorithms (fixed window, sliding window counter, GCRA token bucket)
on an in-process store or on Redis with one atomic script call per counter;
limits keyed by client IP, user, route or account, with tiers, soft limits,
exemptions and an allow list; the draft IETF `RateLimit` headers; a local
fallback when Redis fails; and policies reloaded from a TOML or YAML file.
"""

from __future__ import annotations

from livify.ratelimit._client_ip import ClientIP, ip_key
from livify.ratelimit._config import load_policies
from livify.ratelimit._exceptions import ConfigError, RateLimitError, StoreError
from livify.ratelimit._headers import build_headers
from livify.ratelimit._hooks import RateLimitHooks
from livify.ratelimit._limiter import (
    Decision,
    LimitResult,
    RateLimiter,
    Request,
    Store,
    create_store,
)
from livify.ratelimit._memory import MemoryStore
from livify.ratelimit._metrics import RateLimitMetrics
from livify.ratelimit._middleware import (
    Identity,
    RateLimitMiddleware,
    default_error_body,
    report_results,
)
from livify.ratelimit._policy import Limit, Policies, default_limits, parse_rate
from livify.ratelimit._types import Hit, Usage

__all__ = [
    "ClientIP",
    "ConfigError",
    "Decision",
    "Hit",
    "Identity",
    "Limit",
    "LimitResult",
    "MemoryStore",
    "Policies",
    "RateLimitError",
    "RateLimitHooks",
    "RateLimitMetrics",
    "RateLimitMiddleware",
    "RateLimiter",
    "Request",
    "Store",
    "StoreError",
    "Usage",
    "build_headers",
    "create_store",
    "default_error_body",
    "default_limits",
    "ip_key",
    "load_policies",
    "parse_rate",
    "report_results",
]
