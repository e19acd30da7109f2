"""Build the outbound client of the moderation service from plain values."""

from __future__ import annotations

from livify.resilience import (
    Bulkhead,
    CircuitBreaker,
    Dependency,
    ResilienceHooks,
    RetryPolicy,
    Timeouts,
)

DEPENDENCY_NAME = "moderation"
# A write waits for the check, so these are far below the toolkit's generic
# defaults (read 30 s): a hung service costs a write about 2 s, and after
# the breaker opens about nothing.
MODERATION_TIMEOUT_SECONDS = 1.0
MODERATION_MAX_ATTEMPTS = 2
MODERATION_MAX_CONCURRENT = 10
MODERATION_BREAKER_OPEN_SECONDS = 10.0
# A check that takes half its timeout counts as slow for the breaker.
SLOW_CALL_SHARE_OF_TIMEOUT = 0.5
# A window this long is never filled, so a breaker with it never opens.
NEVER_FILLED_WINDOW = 2**31


def build_moderation_dependency(
    base_url: str,
    *,
    timeout_seconds: float = MODERATION_TIMEOUT_SECONDS,
    max_attempts: int = MODERATION_MAX_ATTEMPTS,
    max_concurrent: int = MODERATION_MAX_CONCURRENT,
    breaker_enabled: bool = True,
    breaker_open_seconds: float = MODERATION_BREAKER_OPEN_SECONDS,
    hooks: ResilienceHooks | None = None,
) -> Dependency:
    """Build the `Dependency` that moderation checks go through.

    `breaker_enabled=False` gives a breaker that never opens, which only
    the outage benchmark uses: every call then waits for its timeout.
    """
    if breaker_enabled:
        breaker = CircuitBreaker(
            slow_call_seconds=timeout_seconds * SLOW_CALL_SHARE_OF_TIMEOUT,
            open_seconds=breaker_open_seconds,
        )
    else:
        # NOTE: the breaker keeps one entry per call in its window, so this
        # grows with the number of calls; fine for a bounded benchmark only.
        breaker = CircuitBreaker(
            window_size=NEVER_FILLED_WINDOW, minimum_calls=NEVER_FILLED_WINDOW
        )

    return Dependency(
        DEPENDENCY_NAME,
        base_url=base_url,
        timeouts=Timeouts(
            connect_seconds=timeout_seconds,
            read_seconds=timeout_seconds,
            write_seconds=timeout_seconds,
            pool_seconds=timeout_seconds,
        ),
        retry=RetryPolicy(max_attempts=max_attempts),
        breaker=breaker,
        bulkhead=Bulkhead(max_concurrent=max_concurrent),
        hooks=hooks,
    )
