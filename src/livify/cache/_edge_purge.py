"""Purge edge caches by surrogate key after writes.

`EdgePurger.purge(keys)` only queues the keys and returns a future, so the
caller decides how long a write may wait for the edge. A background task
sends `PURGE /` with a `Surrogate-Key` header to every configured node,
retrying each with exponential backoff and jitter (stamina). A purge that
still fails is logged and counted, and the edge then serves the old copy
until its TTL, which `s-maxage` bounds.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import Iterable, Sequence
from typing import Protocol

import httpx
import stamina
import structlog

logger = structlog.get_logger(__name__)

DEFAULT_QUEUE_SIZE = 10_000
DEFAULT_TIMEOUT_SECONDS = 2.0
DEFAULT_ATTEMPTS = 3
DEFAULT_WAIT_INITIAL_SECONDS = 0.1
DEFAULT_WAIT_MAX_SECONDS = 2.0
# Keys go into a header and into the edge's ban expression, so they are kept
# to characters that need no escaping in either.
SURROGATE_KEY_PATTERN = re.compile(r"^[a-z0-9:]+$")


class PurgeHooks(Protocol):
    """Callbacks for purge outcomes, for metrics."""

    def on_purge_sent(self, node: str) -> None: ...

    def on_purge_failed(self, node: str) -> None: ...

    def on_purge_dropped(self, key_count: int) -> None: ...


class _NoHooks:
    def on_purge_sent(self, node: str) -> None:
        pass

    def on_purge_failed(self, node: str) -> None:
        pass

    def on_purge_dropped(self, key_count: int) -> None:
        pass


class EdgePurger:
    """Send surrogate-key purges to edge cache nodes in the background.

    `nodes` are base URLs such as `http://127.0.0.1:6081`. Call `start()`
    inside the event loop that serves requests and `aclose()` at shutdown,
    which sends what is queued for up to `drain_timeout_seconds`.
    """

    def __init__(
        self,
        nodes: Sequence[str],
        *,
        client: httpx.AsyncClient | None = None,
        queue_size: int = DEFAULT_QUEUE_SIZE,
        timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
        attempts: int = DEFAULT_ATTEMPTS,
        wait_initial_seconds: float = DEFAULT_WAIT_INITIAL_SECONDS,
        wait_max_seconds: float = DEFAULT_WAIT_MAX_SECONDS,
        hooks: PurgeHooks | None = None,
    ) -> None:
        if attempts < 1:
            msg = f"attempts must be at least 1, got {attempts!r}"
            raise ValueError(msg)

        self.nodes = [node.rstrip("/") for node in nodes]
        self.attempts = attempts
        self.wait_initial_seconds = wait_initial_seconds
        self.wait_max_seconds = wait_max_seconds
        self.hooks: PurgeHooks = hooks or _NoHooks()
        self._client = client or httpx.AsyncClient(timeout=timeout_seconds)
        self._owns_client = client is None
        self._queue: asyncio.Queue[tuple[tuple[str, ...], asyncio.Future[None]]] = (
            asyncio.Queue(queue_size)
        )
        self._task: asyncio.Task[None] | None = None

    def purge(self, keys: Iterable[str]) -> asyncio.Future[None]:
        """Queue a purge of every object tagged with any of `keys`.

        Return a future that is done once every node was purged or given up
        on. A caller may wait on it briefly, so that its own next read
        through the edge is fresh. Raises ValueError for a key outside
        `[a-z0-9:]`. When the queue is full the purge is dropped, logged and
        counted, never blocking.
        """
        batch = tuple(sorted(set(keys)))
        for key in batch:
            if not SURROGATE_KEY_PATTERN.match(key):
                msg = f"invalid surrogate key {key!r}; use [a-z0-9:] only"
                raise ValueError(msg)

        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        if not batch or not self.nodes:
            done.set_result(None)
            return done

        try:
            self._queue.put_nowait((batch, done))
        except asyncio.QueueFull:
            done.set_result(None)
            self.hooks.on_purge_dropped(len(batch))
            logger.error("edge.purge_dropped", keys=len(batch), reason="queue full")
        return done

    def start(self) -> None:
        if self._task is not None:
            msg = "the purger is already running"
            raise RuntimeError(msg)
        self._task = asyncio.create_task(self._run(), name="livify-edge-purger")

    async def join(self) -> None:
        """Wait until every queued purge was sent or given up on."""
        await self._queue.join()

    async def aclose(self, drain_timeout_seconds: float = 5.0) -> None:
        if self._task is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._queue.join(), drain_timeout_seconds)
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

        if self._owns_client:
            await self._client.aclose()

    async def _run(self) -> None:
        while True:
            keys, done = await self._queue.get()
            try:
                await asyncio.gather(*(self._send(node, keys) for node in self.nodes))
            finally:
                if not done.done():
                    done.set_result(None)
                self._queue.task_done()

    async def _send(self, node: str, keys: tuple[str, ...]) -> None:
        header = " ".join(keys)
        try:
            async for attempt in stamina.retry_context(
                on=httpx.HTTPError,
                attempts=self.attempts,
                wait_initial=self.wait_initial_seconds,
                wait_max=self.wait_max_seconds,
            ):
                with attempt:
                    response = await self._client.request(
                        "PURGE", f"{node}/", headers={"Surrogate-Key": header}
                    )
                    response.raise_for_status()
        except httpx.HTTPError as exc:
            self.hooks.on_purge_failed(node)
            logger.error(
                "edge.purge_failed",
                node=node,
                keys=header,
                attempts=self.attempts,
                error=repr(exc),
            )
            return

        self.hooks.on_purge_sent(node)
