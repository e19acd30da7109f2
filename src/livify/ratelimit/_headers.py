"""Response headers that tell clients their limits and usage.

`RateLimit-Policy` and `RateLimit` follow revision 11 of
draft-ietf-httpapi-ratelimit-headers (May 2026). Each is a Structured
Fields list with one item per limit, named by a string. A policy item
carries its quota `q` and window `w` in whole seconds, and a `RateLimit`
item the remaining quota `r` and the seconds `t` during which no more than
`r` is available:

    RateLimit-Policy: "default";q=100;w=60, "writes";q=60;w=60
    RateLimit: "default";r=42;t=17, "writes";r=59;t=1

The optional `qu` (quota unit) is left out because livify counts requests,
the draft's default unit, weighted by cost. The optional partition key
`pk` is left out because the counter keys contain client addresses and
user ids. For a limit that rejected the request, `t` is its wait until a
retry can pass, because the draft asks that `Retry-After` not end before
the window that `t` announces.

`X-RateLimit-Limit`, `-Remaining` and `-Reset` (seconds from now) describe
the limit closest to exhaustion, for clients that predate the draft.
`X-RateLimit-Warning` names the limits past their warning ratio.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from functools import lru_cache
from typing import TypeAlias

from livify.ratelimit._limiter import Charged, Decision
from livify.ratelimit._plan import Charge, Plan
from livify.ratelimit._types import UsageValues

# Distinct (limit name, quota, window) triples; a few per limit and tier.
MAX_CACHED_POLICY_ITEMS = 1024

Headers: TypeAlias = list[tuple[bytes, bytes]]
# One limit's item start (its quoted name), quota, remaining quota, the
# seconds of its `t` parameter, and whether it is past its warning ratio.
LimitState: TypeAlias = tuple[bytes, int, int, int, bool]


def build_headers(decision: Decision) -> Headers:
    """Return the rate limit headers of `decision` (none for an empty one)."""
    if not decision.results:
        return []

    policy_items = []
    states = []
    for result in decision.results:
        limit = result.limit
        policy_item, item_start = _static_parts(
            limit.name, result.quota, limit.window_seconds
        )
        usage = result.usage
        reset = _seconds(
            usage.reset_seconds if usage.is_allowed else usage.retry_after_seconds
        )
        policy_items.append(policy_item)
        states.append(
            (item_start, result.quota, result.remaining, reset, result.is_warned)
        )

    retry_after = None if decision.is_allowed else decision.retry_after_header
    return _assemble(b", ".join(policy_items), states, retry_after)


def build_admitted_headers(charged: Charged) -> Headers:
    """Return the headers of a request that `RateLimiter.charge_now` admitted.

    The same headers as `build_headers` returns for its decision, built from
    the plan's cached parts and the plain usage values.
    """
    plan = charged.plan
    parts: _PlanHeaders | None = plan.header_parts
    if parts is None:
        parts = plan.header_parts = _PlanHeaders(plan)

    limit_header = parts.limit_header
    if limit_header is not None:
        return _single_limit_headers(
            parts, limit_header, plan.charges[0], charged.values[0]
        )

    states = []
    for charge, item_start, values in zip(
        plan.charges, parts.item_starts, charged.values, strict=True
    ):
        quota = charge.quota
        used = values[1]
        remaining = max(0, math.floor(quota - used))
        states.append(
            (item_start, quota, remaining, _seconds(values[2]), used > charge.warn_used)
        )
    return _assemble(parts.policy_header, states, None)


def _single_limit_headers(
    parts: _PlanHeaders,
    limit_header: tuple[bytes, bytes],
    charge: Charge,
    values: UsageValues,
) -> Headers:
    # `_assemble` with one state, unrolled: half a microsecond less per
    # request on the default policies, where most plans hold one limit.
    quota = charge.quota
    used = values[1]
    # `max(0, ...)` as in `_seconds` and `LimitResult.remaining`, written as
    # conditions because a `max()` call costs more here.
    remaining = math.floor(quota - used) if quota > used else 0
    reset = math.ceil(values[2] - 1e-9)
    if reset < 0:
        reset = 0
    item_start = parts.item_starts[0]
    headers = [
        (b"ratelimit-policy", parts.policy_header),
        (b"ratelimit", b"%s;r=%d;t=%d" % (item_start, remaining, reset)),
        limit_header,
        (b"x-ratelimit-remaining", b"%d" % remaining),
        (b"x-ratelimit-reset", b"%d" % reset),
    ]
    if used > charge.warn_used:
        headers.append(
            (b"x-ratelimit-warning", b"%s;q=%d;r=%d" % (item_start, quota, remaining))
        )
    return headers


def _assemble(
    policy_header: bytes, states: Iterable[LimitState], retry_after: int | None
) -> Headers:
    state_items = []
    warning_items = []
    tightest_share = math.inf
    tightest = (0, 0, 0)
    for item_start, quota, remaining, reset, is_warned in states:
        state_items.append(b"%s;r=%d;t=%d" % (item_start, remaining, reset))
        if is_warned:
            warning_items.append(b"%s;q=%d;r=%d" % (item_start, quota, remaining))

        share = remaining / quota
        if share < tightest_share:
            tightest_share = share
            tightest = (quota, remaining, reset)

    quota, remaining, reset = tightest
    headers = [
        (b"ratelimit-policy", policy_header),
        (b"ratelimit", b", ".join(state_items)),
        (b"x-ratelimit-limit", b"%d" % quota),
        (b"x-ratelimit-remaining", b"%d" % remaining),
        (b"x-ratelimit-reset", b"%d" % reset),
    ]
    if warning_items:
        headers.append((b"x-ratelimit-warning", b", ".join(warning_items)))

    if retry_after is not None:
        headers.append((b"retry-after", b"%d" % retry_after))
    return headers


class _PlanHeaders:
    """The parts of a plan's headers that depend on the plan alone."""

    __slots__ = ("item_starts", "limit_header", "policy_header")

    def __init__(self, plan: Plan) -> None:
        parts = [
            _static_parts(charge.limit.name, charge.quota, charge.limit.window_seconds)
            for charge in plan.charges
        ]
        self.policy_header = b", ".join(policy_item for policy_item, _ in parts)
        self.item_starts = tuple(item_start for _, item_start in parts)
        # With one limit, `X-RateLimit-Limit` is always its quota.
        self.limit_header: tuple[bytes, bytes] | None = (
            (b"x-ratelimit-limit", b"%d" % plan.charges[0].quota)
            if len(plan.charges) == 1
            else None
        )


@lru_cache(maxsize=MAX_CACHED_POLICY_ITEMS)
def _static_parts(name: str, quota: int, window_seconds: float) -> tuple[bytes, bytes]:
    """Return a limit's `RateLimit-Policy` item and the start of its other items."""
    # A Structured Fields string escapes backslashes and double quotes. The
    # name is printable ASCII (`Limit` checks), so it encodes as is.
    escaped = name.replace("\\", "\\\\").replace('"', '\\"')
    item_start = f'"{escaped}"'.encode()
    return b"%s;q=%d;w=%d" % (item_start, quota, _seconds(window_seconds)), item_start


def _seconds(value: float) -> int:
    return max(0, math.ceil(value - 1e-9))
