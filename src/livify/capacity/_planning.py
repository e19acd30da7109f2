"""Instances for a number of users, and when to add one.

Assumptions, printed with every plan:
- Each instance is the system the load test measured (same hardware, same
  server options) and instances add capacity linearly. A shared database,
  cache or network that saturates first breaks this; load-test the shared
  parts at the target size too.
- Users behave like the load test's journeys: each concurrently active user
  sends `requests_per_user_per_minute`, and a load balancer spreads them
  evenly.
- An instance is kept below `headroom` times its knee throughput, so a
  sudden step or the loss of one instance does not push it past the SLO
  before a new instance is up.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

DEFAULT_HEADROOM = 0.8


@dataclass(frozen=True)
class InstancePlan:
    """How many instances `users` need, and the trigger to add one."""

    users: int
    requests_per_user_per_minute: float
    required_throughput_per_second: float
    trigger_throughput_per_second: float
    trigger_utilisation: float
    instances: int


def plan_instances(
    *,
    users: int,
    requests_per_user_per_minute: float,
    knee_throughput_per_second: float,
    peak_throughput_per_second: float,
    headroom: float = DEFAULT_HEADROOM,
) -> InstancePlan:
    """Size a deployment; utilisation is throughput as a share of the peak.

    Raises ValueError for a headroom outside (0, 1], a non-positive knee or
    request rate, or a negative number of users.
    """
    if not 0 < headroom <= 1:
        msg = f"headroom must be in (0, 1], got {headroom!r}"
        raise ValueError(msg)
    if knee_throughput_per_second <= 0 or requests_per_user_per_minute <= 0:
        msg = (
            "the knee throughput and the requests per user must be positive, got "
            f"{knee_throughput_per_second!r} and {requests_per_user_per_minute!r}"
        )
        raise ValueError(msg)
    if users < 0:
        msg = f"users must not be negative, got {users!r}"
        raise ValueError(msg)

    required = users * requests_per_user_per_minute / 60
    trigger = knee_throughput_per_second * headroom
    peak = peak_throughput_per_second
    utilisation = trigger / peak if math.isfinite(peak) and peak > 0 else math.nan
    return InstancePlan(
        users=users,
        requests_per_user_per_minute=requests_per_user_per_minute,
        required_throughput_per_second=required,
        trigger_throughput_per_second=trigger,
        trigger_utilisation=utilisation,
        instances=max(1, math.ceil(required / trigger)),
    )
