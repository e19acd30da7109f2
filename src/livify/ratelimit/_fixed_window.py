"""Fixed window: one counter per key and window, reset at each window's start.

Cheap and exact inside a window, but a caller can spend a full quota at the
end of one window and another at the start of the next, so two windows'
worth (2 x capacity) can pass within a short time across a boundary.
"""

from __future__ import annotations

import math
from typing import Any

from livify.ratelimit._types import Hit, Usage, UsageValues

NAME = "fixed_window"

# KEYS[1]: the counter of the current window (its index is in the key name).
# ARGV: capacity, cost, milliseconds until the window ends.
# Returns {admitted (0/1), count after the hit, ms until the window ends}.
SCRIPT = """
local capacity = tonumber(ARGV[1])
local cost = tonumber(ARGV[2])
local count = tonumber(redis.call('GET', KEYS[1]) or '0')
if count + cost > capacity then
    return {0, count}
end
count = redis.call('INCRBY', KEYS[1], cost)
if count == cost then
    redis.call('PEXPIRE', KEYS[1], ARGV[3])
end
return {1, count}
"""


def window_bounds(now: float, window_seconds: float) -> tuple[int, float]:
    """Return the window's index and the seconds left until it ends."""
    index = math.floor(now / window_seconds)
    return index, (index + 1) * window_seconds - now


def hit_local(state: Any, now: float, hit: Hit) -> tuple[Any, float, UsageValues]:
    """Charge `hit` against `state` ([index, count] or None) at time `now`.

    Return the new state, the time it may be dropped and the usage's fields.
    """
    index, reset = window_bounds(now, hit.window_seconds)
    count = state[1] if state is not None and state[0] == index else 0
    if count + hit.cost > hit.capacity:
        return state, now + reset, (False, count, reset, _retry(hit, reset))

    count += hit.cost
    return [index, count], now + reset, (True, count, reset, 0.0)


def redis_call(hit: Hit, now: float) -> tuple[list[str], list[Any], float]:
    index, reset = window_bounds(now, hit.window_seconds)
    # One extra second of TTL covers clock differences between instances.
    ttl_ms = math.ceil(reset * 1000) + 1000
    return [f"{hit.key}:{index}"], [hit.capacity, hit.cost, ttl_ms], reset


def parse_reply(reply: Any, hit: Hit, reset: float) -> Usage:
    is_allowed = int(reply[0]) == 1
    retry = 0.0 if is_allowed else _retry(hit, reset)
    return Usage(is_allowed, float(reply[1]), reset, retry)


def _retry(hit: Hit, reset: float) -> float:
    # A cost above the capacity never fits; the caller waits one window.
    return reset if hit.cost <= hit.capacity else hit.window_seconds
