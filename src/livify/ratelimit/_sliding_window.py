"""Sliding window counter: this window's count plus a fading share of the last.

The estimate at `elapsed` seconds into a window of `W` seconds is
`previous * (1 - elapsed / W) + current`, and a hit is admitted while the
estimate plus its cost stays within the capacity. It assumes the previous
window's hits were spread evenly. When they were bunched at its end, more
pass than the capacity in a real sliding interval: at most
`capacity * (1 + d / W)` in any interval of `d <= W` seconds, so a short
burst across a boundary gets about one capacity (a fixed window allows two)
and a full window at most twice the capacity, in the worst case only.
"""

from __future__ import annotations

import math
from typing import Any

from livify.ratelimit._types import Hit, Usage, UsageValues

NAME = "sliding_window"

# KEYS[1]: previous window's counter, KEYS[2]: current window's counter
# (both under one hash tag). ARGV: capacity, cost, weight of the previous
# window (1 - elapsed / W), TTL of the current counter in ms.
# Returns {admitted (0/1), previous count, current count after the hit}.
SCRIPT = """
local capacity = tonumber(ARGV[1])
local cost = tonumber(ARGV[2])
local weight = tonumber(ARGV[3])
local previous = tonumber(redis.call('GET', KEYS[1]) or '0')
local current = tonumber(redis.call('GET', KEYS[2]) or '0')
if previous * weight + current + cost > capacity then
    return {0, previous, current}
end
current = redis.call('INCRBY', KEYS[2], cost)
if current == cost then
    redis.call('PEXPIRE', KEYS[2], ARGV[4])
end
return {1, previous, current}
"""


def hit_local(state: Any, now: float, hit: Hit) -> tuple[Any, float, UsageValues]:
    """Charge `hit` against `state` ([index, previous, current] or None)."""
    window = hit.window_seconds
    index = math.floor(now / window)
    elapsed = now - index * window
    previous, current = _counts(state, index)
    usage = _usage(hit, previous, current, elapsed)
    expires_at = (index + 2) * window
    if not usage[0]:
        return [index, previous, current], expires_at, usage

    return [index, previous, current + hit.cost], expires_at, usage


def redis_call(hit: Hit, now: float) -> tuple[list[str], list[Any], float]:
    window = hit.window_seconds
    index = math.floor(now / window)
    elapsed = now - index * window
    weight = 1.0 - elapsed / window
    ttl_ms = math.ceil((2 * window - elapsed) * 1000) + 1000
    keys = [f"{hit.key}:{index - 1}", f"{hit.key}:{index}"]
    return keys, [hit.capacity, hit.cost, repr(weight), ttl_ms], elapsed


def parse_reply(reply: Any, hit: Hit, elapsed: float) -> Usage:
    previous, current = float(reply[1]), float(reply[2])
    if int(reply[0]) == 1:
        current -= hit.cost
    return Usage(*_usage(hit, previous, current, elapsed))


def _counts(state: Any, index: int) -> tuple[int, int]:
    if state is None:
        return 0, 0

    if state[0] == index:
        return state[1], state[2]

    if state[0] == index - 1:
        return state[2], 0

    return 0, 0


def _usage(hit: Hit, previous: float, current: float, elapsed: float) -> UsageValues:
    """Decide from the counts before the hit."""
    window = hit.window_seconds
    estimate = previous * (1.0 - elapsed / window) + current
    reset = window - elapsed
    if estimate + hit.cost <= hit.capacity:
        return True, estimate + hit.cost, reset, 0.0

    return False, estimate, reset, _retry(hit, previous, current, elapsed)


def _retry(hit: Hit, previous: float, current: float, elapsed: float) -> float:
    """Return the wait until the estimate has room for the hit's cost."""
    window = hit.window_seconds
    room = hit.capacity - hit.cost
    if room < 0:
        return 2 * window - elapsed

    if current <= room:
        # Room appears within this window as the previous share fades.
        fade_at = window * (1.0 - (room - current) / previous)
        return max(fade_at - elapsed, 0.0)

    # This window's count alone is too high: wait until it is the previous
    # window and has faded enough.
    fade_at = window * (1.0 - room / current)
    return window - elapsed + fade_at
