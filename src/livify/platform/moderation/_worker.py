"""The background worker that re-checks posts held as pending.

Each application process runs one. It claims a batch of due posts, sends
each to the moderation service, and publishes the approved ones with
the same domain events a direct write emits, so caches and edge caches
drop what the new post changes. When the service is unavailable, the rest
of the batch is released with exponential backoff and jitter, so an outage
costs one failed call per batch, not one per post.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

import structlog

from livify.platform.events import ArticleChanged, CommentAdded, Event, EventBus
from livify.platform.moderation._client import ModerationClient
from livify.platform.moderation._exceptions import ModerationUnavailable
from livify.platform.moderation._metrics import QUEUE, ModerationMetrics
from livify.platform.moderation._queue import (
    ARTICLE,
    ModerationQueue,
    Published,
    QueuedPost,
)
from livify.platform.tables import APPROVED, REJECTED, utcnow

logger = structlog.get_logger(__name__)

DEFAULT_INTERVAL_SECONDS = 1.0
DEFAULT_BATCH_SIZE = 10
DEFAULT_RETRY_INITIAL_SECONDS = 5.0
DEFAULT_RETRY_MAX_SECONDS = 300.0
ERROR_LOG_INTERVAL_SECONDS = 30.0


class ModerationWorker:
    """Drain the moderation queue in the background of one process.

    `clock`, `sleep` and `rng` are injectable so tests need no wall clock.
    """

    def __init__(
        self,
        queue: ModerationQueue,
        client: ModerationClient,
        events: EventBus,
        *,
        metrics: ModerationMetrics | None = None,
        interval_seconds: float = DEFAULT_INTERVAL_SECONDS,
        batch_size: int = DEFAULT_BATCH_SIZE,
        retry_initial_seconds: float = DEFAULT_RETRY_INITIAL_SECONDS,
        retry_max_seconds: float = DEFAULT_RETRY_MAX_SECONDS,
        clock: Callable[[], datetime] = utcnow,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        rng: random.Random | None = None,
    ) -> None:
        if batch_size < 1:
            msg = f"batch_size must be at least 1, got {batch_size!r}"
            raise ValueError(msg)

        if not 0 < retry_initial_seconds <= retry_max_seconds:
            msg = (
                f"need 0 < retry_initial_seconds <= retry_max_seconds, got "
                f"{retry_initial_seconds!r} and {retry_max_seconds!r}"
            )
            raise ValueError(msg)

        self.queue = queue
        self.client = client
        self.events = events
        self.metrics = metrics
        self.interval_seconds = interval_seconds
        self.batch_size = batch_size
        self.retry_initial_seconds = retry_initial_seconds
        self.retry_max_seconds = retry_max_seconds
        self._clock = clock
        self._sleep = sleep
        self._rng = rng or random.Random()
        self._task: asyncio.Task[None] | None = None
        self._last_error_logged = -ERROR_LOG_INTERVAL_SECONDS

    def start(self) -> None:
        """Start the loop as a task of the running event loop."""
        if self._task is not None:
            msg = "the moderation worker is already running"
            raise RuntimeError(msg)

        self._task = asyncio.create_task(self._run(), name="moderation-worker")
        logger.info("moderation.worker_started", batch_size=self.batch_size)

    async def aclose(self) -> None:
        """Stop the loop and give back the posts it claimed but did not check.

        Posts whose release fails are claimed again when their lease ends.
        """
        if self._task is None:
            return

        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self._task = None
        logger.info("moderation.worker_stopped")

    async def run_once(self) -> int:
        """Claim one batch and check it; return how many posts got a verdict."""
        now = self._clock()
        posts = await self.queue.claim(self.batch_size, now)
        for index, post in enumerate(posts):
            try:
                await self._check(post)
            except ModerationUnavailable as exc:
                self._record("unavailable")
                retries = [
                    (left, self._next_attempt(left, now)) for left in posts[index:]
                ]
                await self.queue.release(retries)
                logger.info(
                    "moderation.recheck_postponed",
                    posts=len(retries),
                    error=str(exc),
                    next_attempt_at=retries[0][1].isoformat(),
                )
                return index
            except asyncio.CancelledError:
                # Stopping: hand the unchecked posts back at once, so that the
                # next start or another worker need not wait out the lease.
                await self._release_on_stop(posts[index:], now)
                raise

        return len(posts)

    async def _release_on_stop(self, posts: list[QueuedPost], now: datetime) -> None:
        try:
            await self.queue.release([(post, now) for post in posts])
        except Exception as exc:  # the lease still frees them, so only log
            self._log_error(exc)

    async def _run(self) -> None:
        while True:
            checked = 0
            try:
                if self.metrics is not None:
                    self.metrics.queue_depth.set(await self.queue.depth())
                checked = await self.run_once()
            except Exception as exc:  # logged, because the loop must survive
                self._log_error(exc)

            if checked < self.batch_size:
                await self._sleep(self.interval_seconds)

    async def _check(self, post: QueuedPost) -> None:
        fields = await self.queue.load_fields(post)
        if fields is None:
            await self.queue.complete(post, None)
            return

        verdict = await self.client.check(
            post.kind, fields, idempotency_key=post.idempotency_key
        )
        status = APPROVED if verdict.is_approved else REJECTED
        published = await self.queue.complete(post, status)
        self._record(status)
        logger.info(
            "moderation.rechecked",
            kind=post.kind,
            id=post.target_id,
            revision=post.revision,
            status=status,
            attempts=post.attempts,
        )
        if published is not None:
            await self.events.publish(_event(published))

    def _next_attempt(self, post: QueuedPost, now: datetime) -> datetime:
        """Back off exponentially in the post's attempts, with jitter in [1/2, 1]."""
        exponent = min(post.attempts - 1, 32)
        delay = min(self.retry_max_seconds, self.retry_initial_seconds * 2**exponent)
        return now + timedelta(seconds=delay * self._rng.uniform(0.5, 1.0))

    def _record(self, outcome: str) -> None:
        if self.metrics is not None:
            self.metrics.record_check(QUEUE, outcome)

    def _log_error(self, exc: Exception) -> None:
        now = time.monotonic()
        if now - self._last_error_logged < ERROR_LOG_INTERVAL_SECONDS:
            return

        self._last_error_logged = now
        logger.error("moderation.worker_failed", error=repr(exc), exc_info=exc)


def _event(published: Published) -> Event:
    if published.kind == ARTICLE:
        return ArticleChanged(
            published.target_id, published.slug, published.author_id, published.tags
        )

    return CommentAdded(
        published.target_id, published.article_id, published.slug, published.author_id
    )
