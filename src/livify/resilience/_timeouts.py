"""Per-dependency timeouts of the outbound HTTP client."""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from livify.resilience._checks import check_positive

DEFAULT_CONNECT_SECONDS = 5.0
DEFAULT_READ_SECONDS = 30.0
DEFAULT_WRITE_SECONDS = 30.0
DEFAULT_POOL_SECONDS = 5.0


@dataclass(frozen=True, kw_only=True)
class Timeouts:
    """Timeouts of each step of one attempt, in seconds.

    `connect_seconds` bounds opening a connection (TCP and TLS),
    `read_seconds` and `write_seconds` bound the wait for each chunk of the
    response or request, and `pool_seconds` bounds the wait for a free
    connection in the pool. The caller's deadline, when shorter, ends the
    attempt first. Raises `ValueError` for a value that is not positive.
    """

    connect_seconds: float = DEFAULT_CONNECT_SECONDS
    read_seconds: float = DEFAULT_READ_SECONDS
    write_seconds: float = DEFAULT_WRITE_SECONDS
    pool_seconds: float = DEFAULT_POOL_SECONDS

    def __post_init__(self) -> None:
        check_positive(
            connect_seconds=self.connect_seconds,
            read_seconds=self.read_seconds,
            write_seconds=self.write_seconds,
            pool_seconds=self.pool_seconds,
        )

    def to_httpx(self) -> httpx.Timeout:
        return httpx.Timeout(
            connect=self.connect_seconds,
            read=self.read_seconds,
            write=self.write_seconds,
            pool=self.pool_seconds,
        )
