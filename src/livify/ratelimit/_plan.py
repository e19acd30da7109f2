"""The limits one shape of request is charged against, resolved ahead of time.

A request's shape is its method, route template, tier, whether it names a
user, and the multiplier in force. The limiter resolves each shape to a
`Plan` once and caches it, so a request only looks its plan up.
"""

from __future__ import annotations

import math
from typing import Any

from livify.ratelimit._policy import Limit
from livify.ratelimit._types import Hit


class Charge:
    """One limit as charged for one tier and multiplier, with its key parts."""

    __slots__ = ("capacity", "key_end", "key_start", "limit", "quota", "warn_used")

    def __init__(self, limit: Limit, quota: int, key_prefix: str) -> None:
        self.limit = limit
        self.quota = quota
        self.capacity = max(quota, math.floor(quota * limit.block_ratio))
        # Usage above this gets the warning header.
        self.warn_used = quota * limit.warn_ratio
        # The braces make `name:value` the Redis Cluster hash tag.
        self.key_start = f"{key_prefix}{{{limit.name}:"
        self.key_end = f"}}:{limit.algorithm}"

    def hit(self, value: str) -> Hit:
        """Return the counter of this limit for the dimension value `value`."""
        limit = self.limit
        key = self.key_start + value + self.key_end
        return Hit(
            limit.algorithm,
            key,
            self.quota,
            self.capacity,
            limit.window_seconds,
            limit.cost,
        )


class Plan:
    """The charges of one request shape, in policy order.

    `route` is the route template the charges were resolved for.
    `header_parts` is filled by the headers module on first use, so the
    parts of the headers that depend only on the plan are built once.
    """

    __slots__ = ("charges", "header_parts", "route")

    def __init__(self, route: str, charges: tuple[Charge, ...]) -> None:
        self.route = route
        self.charges = charges
        self.header_parts: Any = None
