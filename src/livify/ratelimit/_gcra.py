"""GCRA (generic cell rate algorithm): a token bucket kept as one timestamp.

The bucket holds `capacity` tokens and refills at `limit / window_seconds`
tokens a second. Instead of a token count the store keeps the theoretical
arrival time (TAT): the moment the bucket would be full again. A hit of
cost `c` moves the TAT forward by `c` emission intervals and is admitted
while the TAT stays within `capacity` intervals of now. From a full bucket
it admits `capacity` at once, then one hit per interval, so any interval of
`d` seconds admits at most `capacity + d * limit / window_seconds`.
"""

from __future__ import annotations

from typing import Any

from livify.ratelimit._types import Hit, Usage, UsageValues

NAME = "gcra"

# KEYS[1]: the TAT in seconds. ARGV: now, emission interval, capacity, cost.
# Returns {admitted (0/1), TAT after the call} with the TAT as a string,
# because Redis truncates Lua numbers in replies to integers.
SCRIPT = """
local now = tonumber(ARGV[1])
local interval = tonumber(ARGV[2])
local capacity = tonumber(ARGV[3])
local cost = tonumber(ARGV[4])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then
    tat = now
end
local new_tat = tat + interval * cost
if new_tat - now > interval * capacity + 1e-9 then
    return {0, string.format('%.6f', tat)}
end
redis.call('SET', KEYS[1], string.format('%.6f', new_tat), 'PX',
    math.ceil((new_tat - now) * 1000) + 1000)
return {1, string.format('%.6f', new_tat)}
"""

# Float rounding must not reject a hit that fits exactly.
_EPSILON_SECONDS = 1e-9


def emission_interval(hit: Hit) -> float:
    return hit.window_seconds / hit.limit


def hit_local(state: Any, now: float, hit: Hit) -> tuple[Any, float, UsageValues]:
    """Charge `hit` against `state` (the TAT as a float, or None)."""
    interval = emission_interval(hit)
    tat = now if state is None or state < now else state
    new_tat = tat + interval * hit.cost
    if new_tat - now > interval * hit.capacity + _EPSILON_SECONDS:
        return tat, tat, _usage(hit, tat, now, is_allowed=False)

    return new_tat, new_tat, _usage(hit, new_tat, now, is_allowed=True)


def redis_call(hit: Hit, now: float) -> tuple[list[str], list[Any], float]:
    args = [repr(now), repr(emission_interval(hit)), hit.capacity, hit.cost]
    return [hit.key], args, now


def parse_reply(reply: Any, hit: Hit, now: float) -> Usage:
    tat = float(reply[1])
    return Usage(*_usage(hit, tat, now, is_allowed=int(reply[0]) == 1))


def _usage(hit: Hit, tat: float, now: float, *, is_allowed: bool) -> UsageValues:
    interval = emission_interval(hit)
    ahead = max(tat - now, 0.0)
    used = ahead / interval
    if is_allowed:
        return True, used, ahead, 0.0

    if hit.cost > hit.capacity:
        return False, used, ahead, hit.window_seconds

    retry = ahead + interval * hit.cost - interval * hit.capacity
    return False, used, ahead, max(retry, 0.0)
