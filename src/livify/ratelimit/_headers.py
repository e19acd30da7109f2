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
from functools import lru_cache

from livify.ratelimit._limiter import Decision

# Distinct (limit name, quota, window) triples; a few per limit and tier.
MAX_CACHED_POLICY_ITEMS = 1024


def build_headers(decision: Decision) -> list[tuple[bytes, bytes]]:
    """Return the rate limit headers of `decision` (none for an empty one)."""
    if not decision.results:
        return []

    policy_items = []
    state_items = []
    warning_items = []
    tightest_share = math.inf
    tightest = (0, 0, 0)
    for result in decision.results:
        limit = result.limit
        policy_item, item_start = _static_parts(
            limit.name, result.quota, limit.window_seconds
        )
        usage = result.usage
        remaining = result.remaining
        reset = _seconds(
            usage.reset_seconds if usage.is_allowed else usage.retry_after_seconds
        )
        policy_items.append(policy_item)
        state_items.append(f"{item_start};r={remaining};t={reset}")
        if result.is_warned:
            warning_items.append(f"{item_start};q={result.quota};r={remaining}")

        share = remaining / result.quota
        if share < tightest_share:
            tightest_share = share
            tightest = (result.quota, remaining, reset)

    quota, remaining, reset = tightest
    headers = [
        (b"ratelimit-policy", ", ".join(policy_items).encode()),
        (b"ratelimit", ", ".join(state_items).encode()),
        (b"x-ratelimit-limit", b"%d" % quota),
        (b"x-ratelimit-remaining", b"%d" % remaining),
        (b"x-ratelimit-reset", b"%d" % reset),
    ]
    if warning_items:
        headers.append((b"x-ratelimit-warning", ", ".join(warning_items).encode()))

    if not decision.is_allowed:
        headers.append((b"retry-after", b"%d" % decision.retry_after_header))
    return headers


@lru_cache(maxsize=MAX_CACHED_POLICY_ITEMS)
def _static_parts(name: str, quota: int, window_seconds: float) -> tuple[str, str]:
    """Return a limit's `RateLimit-Policy` item and the start of its other items."""
    # A Structured Fields string escapes backslashes and double quotes.
    escaped = name.replace("\\", "\\\\").replace('"', '\\"')
    item_start = f'"{escaped}"'
    return f"{item_start};q={quota};w={_seconds(window_seconds)}", item_start


def _seconds(value: float) -> int:
    return max(0, math.ceil(value - 1e-9))
