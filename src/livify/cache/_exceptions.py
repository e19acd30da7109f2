"""Errors raised by `livify.cache`.

CacheError
 ├── NotFound          a loader found nothing; cached for a short negative TTL
 └── BackendError      Redis failed or timed out (handled inside the cache)
      └── CircuitOpen  Redis is skipped until its cooldown ends
"""

from __future__ import annotations


class CacheError(Exception):
    """Base class of every error raised by `livify.cache`."""


class NotFound(CacheError, LookupError):
    """The value behind a key does not exist.

    A loader raises it to say "not found"; the cache then stores a negative
    entry and raises it again to every caller of that key until the negative
    TTL ends, without calling the loader.
    """


class BackendError(CacheError):
    """A Redis command failed or timed out.

    `Cache` catches it and falls back to L1 and the loader, so callers of
    `get_or_load` never see it. It reaches callers of `RedisStore` only.
    """


class CircuitOpen(BackendError):
    """Redis is not called until the cooldown after its last failure ends."""
