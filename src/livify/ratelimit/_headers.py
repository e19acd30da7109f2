"""Response headers that tell clients their limits and usage.

`RateLimit-Policy` and `RateLimit` follow draft-ietf-httpapi-ratelimit-headers:
each is a Structured Fields list with one item per policy, named by a
string. A policy item carries its quota `q` and window
`w` in seconds, and a `RateLimit` item the remaining quota `r` and the
seconds `t` until it resets:

    RateLimit-Policy: "default";q=100;w=60, "writes";q=60;w=60
    RateLimit: "default";r=42;t=17, "writes";r=59;t=1

`X-RateLimit-Limit`, `-Remaining` and `-Reset` (seconds from now) describe
the limit closest to exhaustion, for clients that predate the draft.
`X-RateLimit-Warning` names the limits past their warning ratio.

NOTE: this layout has not been checked against the draft's latest
revision (11); compare it before clients rely on it.
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
        remaining = result.remaining
        reset = _seconds(result.usage.reset_seconds)
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
    item_start = f'"{name}"'
    return f"{item_start};q={quota};w={_seconds(window_seconds)}", item_start


def _seconds(value: float) -> int:
    return max(0, math.ceil(value - 1e-9))
