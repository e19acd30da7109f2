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

from livify.ratelimit._limiter import Decision, LimitResult


def build_headers(decision: Decision) -> list[tuple[bytes, bytes]]:
    """Return the rate limit headers of `decision` (none for an empty one)."""
    if not decision.results:
        return []

    policies = ", ".join(_policy_item(result) for result in decision.results)
    states = ", ".join(_state_item(result) for result in decision.results)
    tightest = min(decision.results, key=lambda result: result.remaining / result.quota)
    headers = [
        (b"ratelimit-policy", policies.encode()),
        (b"ratelimit", states.encode()),
        (b"x-ratelimit-limit", str(tightest.quota).encode()),
        (b"x-ratelimit-remaining", str(tightest.remaining).encode()),
        (b"x-ratelimit-reset", str(_seconds(tightest.usage.reset_seconds)).encode()),
    ]
    warned = [result for result in decision.results if result.is_warned]
    if warned:
        warning = ", ".join(
            f'"{result.limit.name}";q={result.quota};r={result.remaining}'
            for result in warned
        )
        headers.append((b"x-ratelimit-warning", warning.encode()))

    if not decision.is_allowed:
        headers.append((b"retry-after", str(decision.retry_after_header).encode()))
    return headers


def _policy_item(result: LimitResult) -> str:
    window = _seconds(result.limit.window_seconds)
    return f'"{result.limit.name}";q={result.quota};w={window}'


def _state_item(result: LimitResult) -> str:
    reset = _seconds(result.usage.reset_seconds)
    return f'"{result.limit.name}";r={result.remaining};t={reset}'


def _seconds(value: float) -> int:
    return max(0, math.ceil(value - 1e-9))
