"""A background task that receives invalidation messages over Redis pub/sub."""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import Callable
from typing import Any

from livify.cache._log import RateLimitedLogger, logger
from livify.cache._redis import RedisStore
from livify.cache._types import Sleep

DEFAULT_RECONNECT_INITIAL_SECONDS = 0.1
DEFAULT_RECONNECT_MAX_SECONDS = 5.0
# How long one wait for a message lasts before the loop checks for stop.
POLL_SECONDS = 1.0
# `start` waits at most this long for the first subscription.
START_WAIT_SECONDS = 2.0


class InvalidationListener:
    """Subscribe to the invalidation channel and pass each message on.

    `on_message` gets the raw message bytes. `on_subscribed` runs after each
    successful subscription, the first one included, because messages sent
    while no subscription was active are lost. After a failure the listener
    waits `reconnect_initial_seconds`, doubling up to `reconnect_max_seconds`
    with jitter, and subscribes again, until `stop`.
    """

    def __init__(
        self,
        store: RedisStore,
        *,
        on_message: Callable[[bytes], None],
        on_subscribed: Callable[[], None],
        on_error: Callable[[BaseException], None],
        log: RateLimitedLogger,
        sleep: Sleep = asyncio.sleep,
        reconnect_initial_seconds: float = DEFAULT_RECONNECT_INITIAL_SECONDS,
        reconnect_max_seconds: float = DEFAULT_RECONNECT_MAX_SECONDS,
    ) -> None:
        self._store = store
        self._on_message = on_message
        self._on_subscribed = on_subscribed
        self._on_error = on_error
        self._log = log
        self._sleep = sleep
        self.reconnect_initial_seconds = reconnect_initial_seconds
        self.reconnect_max_seconds = reconnect_max_seconds
        self._task: asyncio.Task[None] | None = None
        self._subscribed = asyncio.Event()

    @property
    def is_running(self) -> bool:
        return self._task is not None and not self._task.done()

    @property
    def is_subscribed(self) -> bool:
        return self._subscribed.is_set()

    async def start(self) -> None:
        """Start listening and wait up to 2 s for the first subscription.

        When Redis is unreachable the listener keeps retrying in the
        background and `start` returns without error.
        """
        if self.is_running:
            msg = "the invalidation listener is already running"
            raise RuntimeError(msg)

        self._task = asyncio.create_task(self._run(), name="livify-cache-listener")
        logger.info("cache.listener_started", channel=self._store.channel)
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(START_WAIT_SECONDS):
                await self._subscribed.wait()

    async def stop(self) -> None:
        """Stop listening and wait for the task to end."""
        task, self._task = self._task, None
        if task is None:
            return

        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        self._subscribed.clear()
        logger.info("cache.listener_stopped", channel=self._store.channel)

    async def _run(self) -> None:
        delay = self.reconnect_initial_seconds
        while True:
            try:
                await self._listen()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if not self._store.is_connection_error(exc):
                    raise
                self._on_error(exc)

            if self._subscribed.is_set():
                delay = self.reconnect_initial_seconds
            self._subscribed.clear()
            self._log.warning(
                "cache.listener_reconnecting",
                channel=self._store.channel,
                delay_seconds=round(delay, 3),
            )
            await self._sleep(delay * random.uniform(0.5, 1.0))
            delay = min(delay * 2, self.reconnect_max_seconds)

    async def _listen(self) -> None:
        pubsub: Any = self._store.pubsub()
        try:
            await pubsub.subscribe(self._store.channel)
            # The confirmation proves the subscription is active on the server.
            confirmation = await pubsub.get_message(
                timeout=self._store.timeout_seconds * 10
            )
            if confirmation is None:
                msg = (
                    f"Redis did not confirm the subscription to {self._store.channel!r}"
                )
                raise TimeoutError(msg)

            self._subscribed.set()
            self._on_subscribed()
            while True:
                message = await pubsub.get_message(
                    ignore_subscribe_messages=True, timeout=POLL_SECONDS
                )
                if message is not None and message["type"] == "message":
                    self._on_message(message["data"])
        finally:
            with contextlib.suppress(Exception):
                await pubsub.aclose()
