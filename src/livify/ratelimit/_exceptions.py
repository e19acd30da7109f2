"""Errors raised by `livify.ratelimit`.

RateLimitError
 ├── ConfigError     a limits file or a policy argument is invalid (also ValueError)
 └── StoreError      Redis failed or timed out (handled inside `RateLimiter`)
"""

from __future__ import annotations


class RateLimitError(Exception):
    """Base class of every error raised by `livify.ratelimit`."""


class ConfigError(RateLimitError, ValueError):
    """A limits file, a rate string or a policy option is invalid."""


class StoreError(RateLimitError):
    """A Redis command failed or timed out.

    `RateLimiter` catches it and decides with its local fallback, so the
    request path never sees it. It reaches direct callers of `RedisStore`.
    """
