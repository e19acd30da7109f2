"""An outbound HTTP client per dependency with every protection composed.

A call passes the protections from the outside in:

    bulkhead    wait for one of `max_concurrent` slots, or BulkheadFull
    breaker     admitted by the circuit breaker, or CircuitOpen
    retry       attempts with full-jitter backoff, within the retry budget
    deadline    each attempt gets what is left of the caller's deadline

so a call rejected by the bulkhead never counts against the breaker, the
breaker judges whole calls (after their retries), and no attempt or backoff
runs past the caller's deadline.
"""

from __future__ import annotations

import asyncio
import functools
import importlib.util
import time
from collections.abc import Mapping
from types import TracebackType
from typing import Any

import httpx

from livify.resilience._breaker import BreakerPermit, CircuitBreaker
from livify.resilience._budget import RetryBudget
from livify.resilience._bulkhead import Bulkhead
from livify.resilience._checks import check_positive
from livify.resilience._deadline import remaining_seconds
from livify.resilience._exceptions import (
    BulkheadFull,
    CircuitOpen,
    DependencyFailed,
    DependencyTimeout,
    DependencyUnavailable,
)
from livify.resilience._hooks import NoHooks, ResilienceHooks
from livify.resilience._retry import Retrier, RetryPolicy
from livify.resilience._timeouts import Timeouts
from livify.resilience._types import CallOutcome, Clock, Sleep

DEFAULT_MAX_KEEPALIVE_CONNECTIONS = 10
DEFAULT_KEEPALIVE_EXPIRY_SECONDS = 5.0
IDEMPOTENCY_KEY_HEADER = "Idempotency-Key"


class _NotPassed:
    pass


_NOT_PASSED = _NotPassed()


class Dependency:
    """A pooled HTTP client for one dependency, with timeouts, retries,
    a circuit breaker and a bulkhead.

    `name` labels errors, logs and metrics. Every protection has a finite
    default: `Timeouts()` (connect 5 s, read 30 s, write 30 s, pool 5 s),
    `RetryPolicy()` (3 attempts), `CircuitBreaker()`, `Bulkhead()` (20 calls
    at once) and `RetryBudget()` (10% extra load). Pass `retry_budget=None`
    to retry without a budget. A breaker or bulkhead without a name takes
    this one, and a breaker without hooks takes `hooks`.

    The connection pool opens at most `max_connections` connections (default: the
    bulkhead's `max_concurrent`, so admitted calls do not wait for one) and
    keeps up to `max_keepalive_connections` idle ones for
    `keepalive_expiry_seconds`. HTTP/2 is used when `http2` is true, the
    `h2` package is installed and the server offers it over TLS. Proxy
    settings in the environment are ignored unless `trust_env` is true.
    `sleep` is the backoff's sleep and `clock` measures call durations.
    """

    def __init__(
        self,
        name: str,
        *,
        base_url: str,
        timeouts: Timeouts | None = None,
        retry: RetryPolicy | None = None,
        breaker: CircuitBreaker | None = None,
        bulkhead: Bulkhead | None = None,
        retry_budget: RetryBudget | _NotPassed | None = _NOT_PASSED,
        hooks: ResilienceHooks | None = None,
        headers: Mapping[str, str] | None = None,
        max_connections: int | None = None,
        max_keepalive_connections: int = DEFAULT_MAX_KEEPALIVE_CONNECTIONS,
        keepalive_expiry_seconds: float = DEFAULT_KEEPALIVE_EXPIRY_SECONDS,
        http2: bool = True,
        trust_env: bool = False,
        sleep: Sleep = asyncio.sleep,
        clock: Clock = time.monotonic,
    ) -> None:
        if not name:
            msg = "a dependency needs a non-empty name for its errors and metrics"
            raise ValueError(msg)

        self.name = name
        self.hooks: ResilienceHooks = hooks if hooks is not None else NoHooks()
        self.timeouts = timeouts if timeouts is not None else Timeouts()
        self.retry = retry if retry is not None else RetryPolicy()
        self.breaker = breaker if breaker is not None else CircuitBreaker()
        self.bulkhead = bulkhead if bulkhead is not None else Bulkhead()
        self._bind_name_and_hooks()
        if isinstance(retry_budget, _NotPassed):
            retry_budget = RetryBudget()

        self.retry_budget = retry_budget
        self._retrier = Retrier(
            name, self.retry, budget=retry_budget, hooks=self.hooks, sleep=sleep
        )
        self._clock = clock
        self._client = self._build_client(
            base_url,
            headers=headers,
            max_connections=max_connections or self.bulkhead.max_concurrent,
            max_keepalive_connections=max_keepalive_connections,
            keepalive_expiry_seconds=keepalive_expiry_seconds,
            http2=http2,
            trust_env=trust_env,
        )

    def _bind_name_and_hooks(self) -> None:
        if not self.breaker.name:
            self.breaker.name = self.name

        if self.breaker.hooks is None:
            self.breaker.hooks = self.hooks

        if not self.bulkhead.name:
            self.bulkhead.name = self.name

    def _build_client(
        self,
        base_url: str,
        *,
        headers: Mapping[str, str] | None,
        max_connections: int,
        max_keepalive_connections: int,
        keepalive_expiry_seconds: float,
        http2: bool,
        trust_env: bool,
    ) -> httpx.AsyncClient:
        check_positive(
            max_connections=max_connections,
            max_keepalive_connections=max_keepalive_connections,
            keepalive_expiry_seconds=keepalive_expiry_seconds,
        )
        limits = httpx.Limits(
            max_connections=max_connections,
            max_keepalive_connections=min(max_keepalive_connections, max_connections),
            keepalive_expiry=keepalive_expiry_seconds,
        )
        # NOTE: `h2` is not a dependency and no test server speaks HTTP/2
        # over TLS, so this path is untested; install httpx[http2] for it.
        return httpx.AsyncClient(
            base_url=base_url,
            headers=headers,
            timeout=self.timeouts.to_httpx(),
            limits=limits,
            http2=http2 and importlib.util.find_spec("h2") is not None,
            trust_env=trust_env,
        )

    @property
    def is_closed(self) -> bool:
        return self._client.is_closed

    async def request(
        self,
        method: str,
        url: str,
        *,
        idempotency_key: str | None = None,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        json: Any = None,
        content: bytes | str | None = None,
    ) -> httpx.Response:
        """Send a request to the dependency and return its 2xx, 3xx or 4xx response.

        `url` is relative to `base_url`. Non-idempotent methods are retried
        only with an `idempotency_key`, sent as the `Idempotency-Key` header
        on every attempt. Raises `CircuitOpen`, `BulkheadFull`,
        `DependencyTimeout` or `DependencyFailed`, all `DependencyUnavailable`,
        and `RuntimeError` after `aclose()`.
        """
        if self.is_closed:
            msg = f"dependency {self.name!r} is closed; create a new Dependency"
            raise RuntimeError(msg)

        method = method.upper()
        if idempotency_key is not None:
            headers = {**(headers or {}), IDEMPOTENCY_KEY_HEADER: idempotency_key}

        request = self._client.build_request(
            method, url, params=params, headers=headers, json=json, content=content
        )
        is_retryable = self.retry.is_retryable_request(method, idempotency_key)
        started_at = self._clock()
        try:
            response = await self._call_in_bulkhead(request, is_retryable)
        except DependencyUnavailable as error:
            self._report(_outcome_of_error(error), started_at)
            raise
        except asyncio.CancelledError:
            self._report("cancelled", started_at)
            raise

        self._report(
            "success" if response.status_code < 400 else "client_error", started_at
        )
        return response

    async def _call_in_bulkhead(
        self, request: httpx.Request, is_retryable: bool
    ) -> httpx.Response:
        remaining = remaining_seconds()
        if remaining is not None and remaining <= 0:
            raise self._deadline_passed()

        try:
            async with self.bulkhead.slot():
                return await self._call_through_breaker(request, is_retryable)
        except BulkheadFull:
            self.hooks.on_bulkhead_rejected(self.name)
            raise

    async def _call_through_breaker(
        self, request: httpx.Request, is_retryable: bool
    ) -> httpx.Response:
        permit = self.breaker.acquire()
        try:
            response = await self._call_with_retries(request, is_retryable)
        except DependencyUnavailable:
            self.breaker.record(permit, is_failure=True)
            raise
        except BaseException:
            self.breaker.release(permit)
            raise

        return self._judge_response(permit, response)

    async def _call_with_retries(
        self, request: httpx.Request, is_retryable: bool
    ) -> httpx.Response:
        try:
            return await self._retrier.call(
                functools.partial(self._send_attempt, request),
                is_retryable=is_retryable,
            )
        except httpx.TimeoutException as error:
            msg = (
                f"{_request_line(request)} to {self.name!r} timed out: "
                f"{type(error).__name__}"
            )
            raise DependencyTimeout(self.name, msg) from error
        except httpx.RequestError as error:
            msg = (
                f"{_request_line(request)} to {self.name!r} failed: "
                f"{type(error).__name__}: {error}"
            )
            raise DependencyFailed(self.name, msg) from error

    def _judge_response(
        self, permit: BreakerPermit, response: httpx.Response
    ) -> httpx.Response:
        # A 429 means the dependency sheds load, so it counts against the
        # breaker like a 5xx, but the caller still gets the response.
        is_failure = response.status_code >= 500 or response.status_code == 429
        self.breaker.record(permit, is_failure=is_failure)
        if response.status_code >= 500:
            msg = (
                f"{self.name!r} answered {_request_line(response.request)} with "
                f"status {response.status_code}"
            )
            raise DependencyFailed(self.name, msg, status_code=response.status_code)

        return response

    async def _send_attempt(self, request: httpx.Request) -> httpx.Response:
        remaining = remaining_seconds()
        if remaining is not None and remaining <= 0:
            raise self._deadline_passed()

        try:
            async with asyncio.timeout(remaining):
                return await self._client.send(request)
        except TimeoutError as error:
            raise self._deadline_passed() from error

    def _deadline_passed(self) -> DependencyTimeout:
        msg = f"call to {self.name!r} ran out of the caller's deadline"
        return DependencyTimeout(self.name, msg)

    def _report(self, outcome: CallOutcome, started_at: float) -> None:
        self.hooks.on_call(self.name, outcome, self._clock() - started_at)

    async def aclose(self) -> None:
        """Close the pooled connections; later requests raise `RuntimeError`."""
        await self._client.aclose()

    async def __aenter__(self) -> Dependency:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()


def _request_line(request: httpx.Request) -> str:
    return f"{request.method} {request.url.path}"


def _outcome_of_error(error: DependencyUnavailable) -> CallOutcome:
    if isinstance(error, CircuitOpen):
        return "circuit_open"

    if isinstance(error, BulkheadFull):
        return "bulkhead_full"

    if isinstance(error, DependencyTimeout):
        return "timeout"

    return "failed"
