"""Retries of failed attempts, built on tenacity.

The backoff is tenacity's `wait_random_exponential`, the "full jitter"
scheme: the delay before retry n is drawn uniformly from
[0, min(wait_max_seconds, wait_initial_seconds * wait_exp_base ** (n - 1))],
so clients that failed together do not retry together. A `Retry-After`
header on 429 and 503 raises the delay to what the server asked for.

A failed attempt is retried only when all of these are true:
- the request is safe to repeat (an idempotent method or an idempotency key),
- attempts are left,
- the server did not request a wait longer than `retry_after_max_seconds`,
- the delay ends before the caller's deadline,
- the retry budget has room.
"""

from __future__ import annotations

import asyncio
import email.utils
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx
import tenacity

from livify.resilience._budget import RetryBudget
from livify.resilience._checks import check_not_negative, check_positive
from livify.resilience._deadline import remaining_seconds
from livify.resilience._hooks import ResilienceHooks
from livify.resilience._log import logger
from livify.resilience._types import Sleep

DEFAULT_MAX_ATTEMPTS = 3
DEFAULT_WAIT_INITIAL_SECONDS = 0.1
DEFAULT_WAIT_MAX_SECONDS = 2.0
DEFAULT_WAIT_EXP_BASE = 2.0
DEFAULT_RETRY_AFTER_MAX_SECONDS = 10.0
DEFAULT_RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})

# RFC 9110, section 9.2.2: repeating these has the effect of sending once.
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
# RFC 9110, section 10.2.3, and RFC 6585, section 4, give Retry-After a
# meaning on these statuses.
RETRY_AFTER_STATUSES = frozenset({429, 503})

# tenacity awaits the attempt only when it is a coroutine function (or a
# functools.partial of one), so a lambda returning a coroutine will not do.
Attempt = Callable[[], Awaitable[httpx.Response]]


@dataclass(frozen=True, kw_only=True)
class RetryPolicy:
    """How often and how long to retry a failed attempt.

    `max_attempts` counts the first attempt, so 1 disables retries. A
    response with a status in `retry_statuses` and a transport error
    (connection refused or reset, connect, read, write or pool timeout) are
    retried. Raises `ValueError` for a count or duration out of range.
    """

    max_attempts: int = DEFAULT_MAX_ATTEMPTS
    wait_initial_seconds: float = DEFAULT_WAIT_INITIAL_SECONDS
    wait_max_seconds: float = DEFAULT_WAIT_MAX_SECONDS
    wait_exp_base: float = DEFAULT_WAIT_EXP_BASE
    retry_after_max_seconds: float = DEFAULT_RETRY_AFTER_MAX_SECONDS
    retry_statuses: frozenset[int] = DEFAULT_RETRY_STATUSES

    def __post_init__(self) -> None:
        check_positive(
            max_attempts=self.max_attempts,
            wait_initial_seconds=self.wait_initial_seconds,
            wait_max_seconds=self.wait_max_seconds,
        )
        check_not_negative(retry_after_max_seconds=self.retry_after_max_seconds)
        if not self.wait_exp_base >= 1:
            msg = f"wait_exp_base must be 1 or more, got {self.wait_exp_base!r}"
            raise ValueError(msg)

    def is_retryable_request(self, method: str, idempotency_key: str | None) -> bool:
        """Return whether a request may be sent more than once."""
        if self.max_attempts == 1:
            return False

        return method.upper() in IDEMPOTENT_METHODS or idempotency_key is not None


def parse_retry_after(value: str, *, now: datetime) -> float | None:
    """Return the delay that a `Retry-After` value requests, in seconds.

    The value is either a number of seconds or an HTTP date. Returns None
    when it is neither, and 0.0 for a date in the past.
    """
    value = value.strip()
    if value.isdigit():
        return float(value)

    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None

    if when.tzinfo is None:
        return None

    return max(0.0, (when - now).total_seconds())


class Retrier:
    """Run the attempts of one call to `dependency` under a `RetryPolicy`."""

    def __init__(
        self,
        dependency: str,
        policy: RetryPolicy,
        *,
        budget: RetryBudget | None,
        hooks: ResilienceHooks,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.dependency = dependency
        self.policy = policy
        self.budget = budget
        self._hooks = hooks
        self._sleep = sleep
        self._backoff = tenacity.wait_random_exponential(
            multiplier=policy.wait_initial_seconds,
            max=policy.wait_max_seconds,
            exp_base=policy.wait_exp_base,
        )
        self._is_budget_exhausted = False
        self._rejected_by_budget = 0

    async def call(self, attempt: Attempt, *, is_retryable: bool) -> httpx.Response:
        """Run `attempt`, and again after a backoff while the policy allows.

        Returns the last response, or raises the last attempt's error.
        """
        if self.budget is not None:
            self.budget.record_call()

        if not is_retryable:
            return await attempt()

        # A tenacity controller keeps per-run state, so each call gets its own.
        retrying = tenacity.AsyncRetrying(
            sleep=self._sleep,
            retry=self._should_retry,
            wait=self._wait,
            stop=self._should_stop,
            before_sleep=self._before_sleep,
            retry_error_callback=_last_outcome,
        )
        response: httpx.Response = await retrying(attempt)
        return response

    def _should_retry(self, state: tenacity.RetryCallState) -> bool:
        outcome = state.outcome
        assert outcome is not None, "tenacity asks after an attempt"
        if outcome.failed:
            return isinstance(outcome.exception(), httpx.TransportError)

        response: httpx.Response = outcome.result()
        return response.status_code in self.policy.retry_statuses

    def _wait(self, state: tenacity.RetryCallState) -> float:
        delay = self._backoff(state)
        retry_after = _retry_after_seconds(state)
        if retry_after is not None:
            delay = max(delay, retry_after)

        return delay

    def _should_stop(self, state: tenacity.RetryCallState) -> bool:
        if state.attempt_number >= self.policy.max_attempts:
            return True

        retry_after = _retry_after_seconds(state)
        if (
            retry_after is not None
            and retry_after > self.policy.retry_after_max_seconds
        ):
            return True

        remaining = remaining_seconds()
        if remaining is not None and state.upcoming_sleep >= remaining:
            return True

        return not self._spend_budget()

    def _spend_budget(self) -> bool:
        if self.budget is None:
            return True

        if self.budget.try_spend():
            if self._is_budget_exhausted:
                logger.info(
                    "resilience.retry_budget.recovered",
                    dependency=self.dependency,
                    rejected=self._rejected_by_budget,
                )
                self._is_budget_exhausted = False
                self._rejected_by_budget = 0
            return True

        if not self._is_budget_exhausted:
            logger.warning(
                "resilience.retry_budget.exhausted", dependency=self.dependency
            )
            self._is_budget_exhausted = True

        self._rejected_by_budget += 1
        self._hooks.on_retry_rejected(self.dependency)
        return False

    def _before_sleep(self, state: tenacity.RetryCallState) -> None:
        outcome = state.outcome
        assert outcome is not None, "tenacity sleeps after an attempt"
        if outcome.failed:
            error = outcome.exception()
            reason = f"{type(error).__name__}: {error}"
        else:
            reason = f"status {outcome.result().status_code}"

        logger.info(
            "resilience.retry.scheduled",
            dependency=self.dependency,
            attempt=state.attempt_number,
            delay_seconds=round(state.upcoming_sleep, 3),
            reason=reason,
        )
        self._hooks.on_retry(
            self.dependency, state.attempt_number, state.upcoming_sleep
        )


def _retry_after_seconds(state: tenacity.RetryCallState) -> float | None:
    outcome = state.outcome
    if outcome is None or outcome.failed:
        return None

    response: httpx.Response = outcome.result()
    value = response.headers.get("retry-after")
    if value is None or response.status_code not in RETRY_AFTER_STATUSES:
        return None

    return parse_retry_after(value, now=datetime.now(UTC))


def _last_outcome(state: tenacity.RetryCallState) -> httpx.Response:
    # Called when the stop condition ends the retries: return the last
    # response, or raise the last attempt's error instead of tenacity's
    # RetryError.
    assert state.outcome is not None, "tenacity stops after an attempt"
    response: httpx.Response = state.outcome.result()
    return response
