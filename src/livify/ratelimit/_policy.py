"""Limits, the request dimension each is keyed by, and the set of them in force."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal, TypeAlias

from livify.ratelimit._algorithms import ALGORITHMS
from livify.ratelimit._exceptions import ConfigError
from livify.ratelimit._types import AlgorithmName

Dimension: TypeAlias = Literal[
    "ip", "user", "user_or_ip", "route", "ip_route", "user_route", "account", "global"
]
IPNetwork: TypeAlias = ipaddress.IPv4Network | ipaddress.IPv6Network

DIMENSIONS: frozenset[str] = frozenset(Dimension.__args__)  # type: ignore[attr-defined]
DEFAULT_WARN_RATIO = 0.8
DEFAULT_BLOCK_RATIO = 1.2
DEFAULT_EXEMPT_PATHS = frozenset({"/livez", "/readyz", "/metrics"})
ANONYMOUS_TIER = "anonymous"
WRITE_METHODS = ("POST", "PUT", "PATCH", "DELETE")

_WINDOW_UNITS = {"second": 1.0, "minute": 60.0, "hour": 3600.0, "day": 86400.0}
_RATE_PATTERN = re.compile(r"^\s*(\d+)\s*/\s*(\d+)?\s*(second|minute|hour|day)s?\s*$")


def parse_rate(text: str) -> tuple[int, float]:
    """Parse `"100/minute"` or `"10/30 seconds"` into (limit, window seconds).

    Raise `ConfigError` for any other form.
    """
    match = _RATE_PATTERN.match(text)
    if match is None:
        msg = f"invalid rate {text!r}; expected e.g. '100/minute' or '10/30 seconds'"
        raise ConfigError(msg)

    count, multiple, unit = match.groups()
    return int(count), int(multiple or 1) * _WINDOW_UNITS[unit]


@dataclass(frozen=True)
class Limit:
    """One limit: `limit` hits of cost 1 per `window_seconds`, per value of `key`.

    `tiers` maps a user class to its own limit per window and overrides
    `limit` for callers of that class. The limit applies to requests whose
    route template is in `routes` and whose method is in `methods` (empty
    means all). A caller past `warn_ratio` of the limit gets a warning
    header, and hits that would take usage past `block_ratio` of it are
    rejected. A rejected request whose wait is at most `delay_max_seconds`
    is held for that wait and tried once more instead (0 turns it off).
    """

    name: str
    limit: int
    window_seconds: float
    key: Dimension = "user_or_ip"
    algorithm: AlgorithmName = "sliding_window"
    tiers: Mapping[str, int] = field(default_factory=dict)
    routes: tuple[str, ...] = ()
    methods: tuple[str, ...] = ()
    cost: int = 1
    warn_ratio: float = DEFAULT_WARN_RATIO
    block_ratio: float = DEFAULT_BLOCK_RATIO
    delay_max_seconds: float = 0.0

    def __post_init__(self) -> None:
        problems = []
        if not self.name or "{" in self.name or "}" in self.name:
            problems.append(f"name {self.name!r} must be non-empty and without braces")
        if not (self.name.isascii() and self.name.isprintable()):
            # The name is a Structured Fields string in the RateLimit headers.
            problems.append(f"name {self.name!r} must be printable ASCII")
        if self.limit <= 0 or any(value <= 0 for value in self.tiers.values()):
            problems.append(f"limit {self.limit!r} and tier limits must be positive")
        if self.window_seconds <= 0:
            problems.append(f"window_seconds {self.window_seconds!r} must be positive")
        if self.key not in DIMENSIONS:
            problems.append(f"key {self.key!r} must be one of {sorted(DIMENSIONS)}")
        if self.algorithm not in ALGORITHMS:
            problems.append(
                f"algorithm {self.algorithm!r} must be one of {sorted(ALGORITHMS)}"
            )
        if self.cost <= 0:
            problems.append(f"cost {self.cost!r} must be positive")
        if not 0 < self.warn_ratio <= self.block_ratio:
            problems.append(
                "need 0 < warn_ratio <= block_ratio, got "
                f"{self.warn_ratio!r} and {self.block_ratio!r}"
            )
        if self.block_ratio < 1:
            problems.append(f"block_ratio {self.block_ratio!r} must be at least 1")
        if self.delay_max_seconds < 0:
            problems.append(
                f"delay_max_seconds {self.delay_max_seconds!r} must not be negative"
            )
        if problems:
            msg = f"invalid limit {self.name!r}: " + "; ".join(problems)
            raise ConfigError(msg)

        object.__setattr__(
            self, "methods", tuple(method.upper() for method in self.methods)
        )

    def limit_for(self, tier: str) -> int:
        """Return the limit per window for callers of class `tier`."""
        return self.tiers.get(tier, self.limit)

    def applies_to(self, method: str, route: str) -> bool:
        """Return whether a request with `method` on route template `route` counts."""
        if self.methods and method not in self.methods:
            return False

        return not self.routes or route in self.routes


def default_limits() -> tuple[Limit, ...]:
    """Return livify's default limits.

    Every caller: 100 requests a minute anonymous (per IP), 1,000 signed in,
    5,000 premium (per user). Writes: 60 a minute per caller. Login and
    registration: 10 a minute per IP, and 5 login attempts a minute per
    account, which the application checks with `RateLimiter.check`. These
    two block at the limit itself; the others at 120% of it.
    """
    return (
        Limit(
            "default",
            100,
            60.0,
            tiers={ANONYMOUS_TIER: 100, "authenticated": 1_000, "premium": 5_000},
        ),
        Limit("writes", 60, 60.0, methods=WRITE_METHODS, algorithm="gcra"),
        Limit(
            "login-ip",
            10,
            60.0,
            key="ip",
            routes=("/api/users/login", "/api/users"),
            methods=("POST",),
            block_ratio=1.0,
        ),
        Limit("login-account", 5, 60.0, key="account", block_ratio=1.0),
    )


@dataclass(frozen=True)
class Policies:
    """The limits in force, the paths they skip and the networks they trust.

    Requests to `exempt_paths` and from `allow_networks` are never counted.
    Route templates (`/api/articles/{slug}`) name routes in limits and in
    route-keyed counters; `route_templates` adds templates that no limit
    names. While `multiplier_until` (Unix seconds) is in the future, or when
    it is None, every limit is multiplied by `multiplier`.
    """

    limits: tuple[Limit, ...] = field(default_factory=default_limits)
    exempt_paths: frozenset[str] = DEFAULT_EXEMPT_PATHS
    allow_networks: tuple[IPNetwork, ...] = ()
    route_templates: tuple[str, ...] = ()
    multiplier: float = 1.0
    multiplier_until: float | None = None

    def __post_init__(self) -> None:
        names = [limit.name for limit in self.limits]
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            msg = f"limit names must be unique, got {duplicates!r} more than once"
            raise ConfigError(msg)

        if self.multiplier <= 0:
            msg = f"multiplier must be positive, got {self.multiplier!r}"
            raise ConfigError(msg)

    def multiplier_at(self, now: float) -> float:
        """Return the multiplier in force at Unix time `now`."""
        if self.multiplier_until is not None and now >= self.multiplier_until:
            return 1.0

        return self.multiplier

    def templates(self) -> tuple[str, ...]:
        """Return every route template, the most specific first."""
        named = {route for limit in self.limits for route in limit.routes}
        named.update(self.route_templates)
        # Literal segments before parameters, so `/api/articles/feed` wins
        # over `/api/articles/{slug}`.
        return tuple(
            sorted(named, key=lambda template: (template.count("{"), template))
        )
