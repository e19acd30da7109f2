"""Errors raised by outbound calls and deadlines.

    Exception
     ├── DependencyUnavailable    a dependency gave no usable response
     │    ├── CircuitOpen         the breaker rejected the call before sending it
     │    ├── BulkheadFull        no concurrency slot became free in time
     │    ├── DependencyTimeout   a connect, read, write or pool timeout, or the
     │    │                       caller's deadline, ended the call
     │    └── DependencyFailed    a 5xx response or a connection error after the
     │                            last attempt
     └── TimeoutError
          └── DeadlineExceeded    the deadline of an `async with deadline(...)`
                                  block passed while it ran

Callers that degrade (serve a cached copy, queue the work for later) catch
`DependencyUnavailable` and read `dependency` to see which one failed.
"""

from __future__ import annotations


class DependencyUnavailable(Exception):
    """A call to `dependency` gave no usable response."""

    def __init__(self, dependency: str, message: str) -> None:
        super().__init__(message)
        self.dependency = dependency


class CircuitOpen(DependencyUnavailable):
    """The circuit breaker rejected the call, so nothing was sent.

    `retry_after_seconds` is the time until the breaker admits probe calls,
    or 0.0 when it is half-open and every probe slot is taken.
    """

    def __init__(self, dependency: str, *, retry_after_seconds: float) -> None:
        if retry_after_seconds > 0:
            detail = f"probe calls start in {retry_after_seconds:.3g} s"
        else:
            detail = "every half-open probe slot is taken"
        message = f"circuit breaker of {dependency!r} is open: {detail}"
        super().__init__(dependency, message)
        self.retry_after_seconds = retry_after_seconds


class BulkheadFull(DependencyUnavailable):
    """All `max_concurrent` slots stayed taken for `wait_seconds`."""

    def __init__(
        self, dependency: str, *, max_concurrent: int, wait_seconds: float
    ) -> None:
        message = (
            f"bulkhead of {dependency!r} is full: all {max_concurrent} slots "
            f"stayed taken for {wait_seconds:.3g} s"
        )
        super().__init__(dependency, message)
        self.max_concurrent = max_concurrent
        self.wait_seconds = wait_seconds


class DependencyTimeout(DependencyUnavailable):
    """A timeout or the caller's deadline ended the call."""


class DependencyFailed(DependencyUnavailable):
    """The last attempt got a 5xx response (`status_code`) or a connection error.

    `status_code` is None when no response arrived.
    """

    def __init__(
        self, dependency: str, message: str, *, status_code: int | None = None
    ) -> None:
        super().__init__(dependency, message)
        self.status_code = status_code


class DeadlineExceeded(TimeoutError):
    """The deadline of an `async with deadline(seconds)` block passed."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"deadline of {seconds:.3g} s exceeded")
        self.seconds = seconds
