"""Toolkit: layered caching, tag invalidation, HTTP cache headers, edge purges.

Reads go through an in-process L1, then Redis, then a loader, with one load
per key at a time. Entries are invalidated by TTL, by tag versions and by
namespace versions, and every process's L1 learns of invalidations over
Redis pub/sub.
"""

from __future__ import annotations

from livify.cache._cache import MAX_KEY_CHARS, Cache
from livify.cache._edge_purge import EdgePurger, PurgeHooks
from livify.cache._exceptions import BackendError, CacheError, CircuitOpen, NotFound
from livify.cache._gzip import GZipMiddleware
from livify.cache._head import HeadMiddleware
from livify.cache._hooks import CacheHooks
from livify.cache._http_headers import (
    CachePolicy,
    HttpCacheHeadersMiddleware,
    accepts_gzip,
)
from livify.cache._layered import LayeredCache
from livify.cache._metrics import CacheMetrics
from livify.cache._response_cache import ResponseCacheMiddleware
from livify.cache._warm import WarmItem, WarmReport

__all__ = [
    "MAX_KEY_CHARS",
    "BackendError",
    "Cache",
    "CacheError",
    "CacheHooks",
    "CacheMetrics",
    "CachePolicy",
    "CircuitOpen",
    "EdgePurger",
    "GZipMiddleware",
    "HeadMiddleware",
    "HttpCacheHeadersMiddleware",
    "LayeredCache",
    "NotFound",
    "PurgeHooks",
    "ResponseCacheMiddleware",
    "WarmItem",
    "WarmReport",
    "accepts_gzip",
]
