"""Open-loop HTTP load against a live server: a fixed arrival rate, bounded.

Arrivals are sent at `rate_per_second` whatever the server does, as real
users would, so an overloaded server faces a growing backlog instead of a
client that slows down with it. Every run is bounded in time
(`duration_seconds` of arrivals, then at most `timeout_seconds` for the
stragglers) and in concurrency (`max_outstanding`; arrivals beyond it are
counted as `not_sent` and never sent).

The client speaks just enough HTTP/1.1 over asyncio streams for GET
requests with keep-alive. httpx with hundreds of connections spent more CPU
than the server under test on a two-core machine, so it could not offer 3x
the server's capacity.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import Counter
from dataclasses import dataclass, field
from urllib.parse import urlsplit

DEFAULT_TIMEOUT_SECONDS = 10.0
DEFAULT_MAX_OUTSTANDING = 400


@dataclass
class LoadResult:
    """What one open-loop run saw, per status code and in latency."""

    rate_per_second: float
    duration_seconds: float
    statuses: Counter[int] = field(default_factory=Counter)
    # (scheduled offset from the start, latency) of each 2xx response, in seconds.
    ok_samples: list[tuple[float, float]] = field(default_factory=list)
    retry_after_missing: int = 0
    transport_errors: int = 0
    not_sent: int = 0

    @property
    def sent(self) -> int:
        return sum(self.statuses.values()) + self.transport_errors

    @property
    def goodput_per_second(self) -> float:
        """Successful responses per second of arrivals."""
        return len(self.ok_samples) / self.duration_seconds

    def goodput_within(self, latency_seconds: float) -> float:
        """Successful responses no slower than `latency_seconds`, per second."""
        fast = sum(1 for _, latency in self.ok_samples if latency <= latency_seconds)
        return fast / self.duration_seconds

    def ok_quantile(self, quantile: float, *, after_seconds: float = 0.0) -> float:
        """Return a latency quantile of 2xx responses (nearest rank), nan if none.

        Only requests scheduled `after_seconds` or later into the run count,
        so a warm-up phase can be left out.
        """
        ordered = sorted(
            latency for offset, latency in self.ok_samples if offset >= after_seconds
        )
        return _nearest_rank(ordered, quantile)

    def other_5xx(self) -> dict[int, int]:
        """Return the count of each 5xx status other than 503."""
        return {
            status: count
            for status, count in self.statuses.items()
            if status >= 500 and status != 503
        }

    def summary(self) -> str:
        return (
            f"rate {self.rate_per_second:.0f}/s for {self.duration_seconds:.1f} s: "
            f"statuses {dict(sorted(self.statuses.items()))}, "
            f"transport errors {self.transport_errors}, not sent {self.not_sent}, "
            f"goodput {self.goodput_per_second:.0f}/s, "
            f"p50 {self.ok_quantile(0.5) * 1000:.0f} ms, "
            f"p99 {self.ok_quantile(0.99) * 1000:.0f} ms"
        )


async def run_open_loop(
    url: str,
    *,
    rate_per_second: float,
    duration_seconds: float,
    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
    max_outstanding: int = DEFAULT_MAX_OUTSTANDING,
) -> LoadResult:
    """Send GET `url` at a fixed rate for `duration_seconds` and collect results.

    Latency is measured from each request's scheduled send time, so a
    client that falls behind its schedule shows up as latency, not as a
    lower rate.
    """
    result = LoadResult(rate_per_second, duration_seconds)
    pool = _ConnectionPool(url, timeout_seconds)
    outstanding: set[asyncio.Task[None]] = set()
    interval = 1.0 / rate_per_second
    started = time.perf_counter()
    for index in range(int(rate_per_second * duration_seconds)):
        scheduled = started + index * interval
        delay = scheduled - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)

        if len(outstanding) >= max_outstanding:
            result.not_sent += 1
            continue

        task = asyncio.create_task(_send(pool, started, scheduled, result))
        outstanding.add(task)
        task.add_done_callback(outstanding.discard)

    if outstanding:
        await asyncio.wait(outstanding, timeout=timeout_seconds + 1.0)
    for task in outstanding:
        task.cancel()
    pool.close()
    return result


@dataclass(frozen=True)
class Capacity:
    """What a closed loop at a fixed concurrency achieved."""

    requests_per_second: float
    p99_seconds: float


async def measure_capacity(
    url: str, *, concurrency: int, duration_seconds: float
) -> Capacity:
    """Return the success rate and p99 of a closed loop at `concurrency`."""
    pool = _ConnectionPool(url, DEFAULT_TIMEOUT_SECONDS)
    latencies: list[float] = []
    deadline = time.perf_counter() + duration_seconds

    async def user() -> None:
        while time.perf_counter() < deadline:
            sent_at = time.perf_counter()
            status, _ = await pool.get()
            if status < 300:
                latencies.append(time.perf_counter() - sent_at)

    started = time.perf_counter()
    try:
        await asyncio.gather(*(user() for _ in range(concurrency)))
    finally:
        pool.close()
    rate = len(latencies) / (time.perf_counter() - started)
    return Capacity(rate, _nearest_rank(sorted(latencies), 0.99))


async def _send(
    pool: _ConnectionPool, started: float, scheduled: float, result: LoadResult
) -> None:
    try:
        status, headers = await pool.get()
    except (OSError, TimeoutError, asyncio.IncompleteReadError, ValueError):
        result.transport_errors += 1
        return

    latency = time.perf_counter() - scheduled
    result.statuses[status] += 1
    if status < 300:
        result.ok_samples.append((scheduled - started, latency))
    elif status == 503 and b"retry-after" not in headers:
        result.retry_after_missing += 1


Connection = tuple[asyncio.StreamReader, asyncio.StreamWriter]


class _ConnectionPool:
    """Keep-alive connections to one origin, opened on demand, never shared."""

    def __init__(self, url: str, timeout_seconds: float) -> None:
        parts = urlsplit(url)
        self._host = parts.hostname or "127.0.0.1"
        self._port = parts.port or 80
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        self._request = (
            f"GET {target} HTTP/1.1\r\nHost: {parts.netloc}\r\n"
            f"Accept: application/json\r\n\r\n"
        ).encode()
        self._timeout_seconds = timeout_seconds
        self._idle: list[Connection] = []
        self._open: set[asyncio.StreamWriter] = set()

    async def get(self) -> tuple[int, dict[bytes, bytes]]:
        """Send the GET request; return the status and lower-cased headers."""
        async with asyncio.timeout(self._timeout_seconds):
            reader, writer = await self._connection()
            try:
                writer.write(self._request)
                status, headers = await _read_response(reader)
            except BaseException:
                self._discard(writer)
                raise

        if headers.get(b"connection") == b"close":
            self._discard(writer)
        else:
            self._idle.append((reader, writer))
        return status, headers

    def close(self) -> None:
        for writer in list(self._open):
            self._discard(writer)

    async def _connection(self) -> Connection:
        if self._idle:
            return self._idle.pop()

        reader, writer = await asyncio.open_connection(self._host, self._port)
        self._open.add(writer)
        return reader, writer

    def _discard(self, writer: asyncio.StreamWriter) -> None:
        self._open.discard(writer)
        writer.close()


async def _read_response(
    reader: asyncio.StreamReader,
) -> tuple[int, dict[bytes, bytes]]:
    head = await reader.readuntil(b"\r\n\r\n")
    status_line, *header_lines = head[:-4].split(b"\r\n")
    status = int(status_line.split(b" ", 2)[1])
    headers = {}
    for line in header_lines:
        name, _, value = line.partition(b":")
        headers[name.strip().lower()] = value.strip()

    length = headers.get(b"content-length")
    if length is None:
        msg = f"response without Content-Length: {status_line!r}"
        raise ValueError(msg)

    await reader.readexactly(int(length))
    return status, headers


def _nearest_rank(ordered: list[float], quantile: float) -> float:
    """Return the nearest-rank quantile of sorted values, nan if there are none."""
    if not ordered:
        return math.nan

    rank = max(0, math.ceil(quantile * len(ordered)) - 1)
    return ordered[rank]
