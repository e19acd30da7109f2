"""A background task that samples saturation signals on an interval.

Each sample measures event-loop lag (how late a timer fired), the process's
resident memory, CPU time and open file descriptors, and the state of every
registered connection pool.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import resource
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import structlog

from livify.observability._metrics import RuntimeMetrics

logger = structlog.get_logger(__name__)

DEFAULT_SAMPLE_INTERVAL_SECONDS = 1.0
PAGE_SIZE_BYTES = os.sysconf("SC_PAGE_SIZE")


@dataclass(frozen=True, slots=True)
class PoolStatus:
    """A snapshot of one connection pool."""

    name: str
    size: int
    checked_out: int
    waiting: int


PoolProbe = Callable[[], Sequence[PoolStatus]]


class RuntimeSampler:
    """Update `RuntimeMetrics` every `interval_seconds` until stopped.

    Each tick also calls `flushes`, such as `HttpServerMetrics.flush`, so
    counts kept in the process reach the shared metrics files in time.
    """

    def __init__(
        self,
        metrics: RuntimeMetrics,
        *,
        pool_probes: Sequence[PoolProbe] = (),
        flushes: Sequence[Callable[[], None]] = (),
        interval_seconds: float = DEFAULT_SAMPLE_INTERVAL_SECONDS,
    ) -> None:
        self.metrics = metrics
        self.pool_probes = list(pool_probes)
        self.flushes = list(flushes)
        self.interval_seconds = interval_seconds
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._task is not None:
            msg = "the sampler is already running"
            raise RuntimeError(msg)
        self._task = asyncio.create_task(self._run(), name="livify-runtime-sampler")

    async def aclose(self) -> None:
        if self._task is None:
            return
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self._task = None

    def sample_once(self, loop_lag_seconds: float = 0.0) -> None:
        """Record one sample; the loop lag is measured by the running task."""
        self.metrics.event_loop_lag.set(loop_lag_seconds)
        for flush in self.flushes:
            flush()

        self._sample_process()
        for probe in self.pool_probes:
            for status in probe():
                self.metrics.pool_size.labels(status.name).set(status.size)
                self.metrics.pool_checked_out.labels(status.name).set(
                    status.checked_out
                )
                self.metrics.pool_waiting.labels(status.name).set(status.waiting)

    async def _run(self) -> None:
        while True:
            expected = time.perf_counter() + self.interval_seconds
            await asyncio.sleep(self.interval_seconds)
            lag = max(0.0, time.perf_counter() - expected)
            try:
                self.sample_once(lag)
            except Exception:
                logger.exception("metrics.sample_failed")

    def _sample_process(self) -> None:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        self.metrics.cpu_seconds.set(usage.ru_utime + usage.ru_stime)
        self.metrics.resident_memory.set(_resident_memory_bytes())
        self.metrics.open_fds.set(_open_fd_count())


def _resident_memory_bytes() -> int:
    """Return current RSS from /proc (Linux); ru_maxrss is only the peak."""
    try:
        fields = Path("/proc/self/statm").read_text().split()
        return int(fields[1]) * PAGE_SIZE_BYTES
    except (OSError, IndexError, ValueError):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _open_fd_count() -> int:
    try:
        return len(os.listdir("/proc/self/fd"))
    except OSError:
        return 0
