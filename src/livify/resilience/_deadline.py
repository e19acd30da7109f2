"""A per-task deadline that outbound calls and queries read.

`deadline(seconds)` stores an absolute expiry time in a context variable,
so the task that set it and the tasks it starts see the same deadline, and
other tasks do not. Nested deadlines keep the earlier expiry time: an inner
block can shorten what is left but never extend it.

    with deadline(2.0):          # mark the deadline for calls made inside
        await dependency.request("GET", "/v1/thing")

    async with deadline(2.0):    # also cancel the block when it passes
        await handle(request)    # raises DeadlineExceeded at 2 s
"""

from __future__ import annotations

import asyncio
import time
from contextvars import ContextVar, Token
from types import TracebackType

from livify.resilience._checks import check_not_negative
from livify.resilience._exceptions import DeadlineExceeded

_expires_at: ContextVar[float | None] = ContextVar(
    "livify_resilience_deadline", default=None
)


def remaining_seconds() -> float | None:
    """Return the seconds left before the current deadline, or None without one.

    The value is never negative: 0.0 means the deadline has passed.
    """
    expires_at = _expires_at.get()
    if expires_at is None:
        return None

    return max(0.0, expires_at - time.monotonic())


class Deadline:
    """A context manager that sets a deadline `seconds` from when it is entered.

    `with` only marks the deadline. `async with` also cancels the block when
    the deadline passes and raises `DeadlineExceeded` in its place. An
    instance can be entered once.
    """

    def __init__(self, seconds: float) -> None:
        check_not_negative(seconds=seconds)
        self.seconds = seconds
        self.expires_at: float | None = None
        self._token: Token[float | None] | None = None
        self._timeout: asyncio.Timeout | None = None

    def __enter__(self) -> Deadline:
        if self.expires_at is not None:
            msg = "a Deadline can be entered once; call deadline() again instead"
            raise RuntimeError(msg)

        expires_at = time.monotonic() + self.seconds
        outer = _expires_at.get()
        if outer is not None:
            expires_at = min(expires_at, outer)

        self.expires_at = expires_at
        self._token = _expires_at.set(expires_at)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        assert self._token is not None, "exit without enter"
        _expires_at.reset(self._token)

    async def __aenter__(self) -> Deadline:
        self.__enter__()
        self._timeout = asyncio.timeout(remaining_seconds())
        await self._timeout.__aenter__()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        assert self._timeout is not None, "exit without enter"
        try:
            await self._timeout.__aexit__(exc_type, exc, traceback)
        except TimeoutError as timeout_error:
            if not self._timeout.expired():
                raise

            raise DeadlineExceeded(self.seconds) from timeout_error
        finally:
            self.__exit__(exc_type, exc, traceback)


def deadline(seconds: float) -> Deadline:
    """Set a deadline `seconds` from now for the code inside the block.

    Outbound calls made inside get what is left of it. Nesting keeps the
    earlier deadline. Use `async with` to also cancel the block at the
    deadline, which then raises `DeadlineExceeded`. Raises `ValueError` when
    `seconds` is negative or NaN.
    """
    return Deadline(seconds)
