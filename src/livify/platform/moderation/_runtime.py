"""The moderation parts of one application process, started and stopped together."""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client import CollectorRegistry

from livify.db import Database
from livify.platform.events import EventBus
from livify.platform.moderation._client import ModerationClient
from livify.platform.moderation._gate import Moderation
from livify.platform.moderation._metrics import ModerationMetrics
from livify.platform.moderation._queue import ModerationQueue
from livify.platform.moderation._worker import ModerationWorker
from livify.resilience import Dependency


@dataclass(frozen=True, slots=True)
class ModerationRuntime:
    """The check run by writes, the queue's worker and their HTTP client."""

    gate: Moderation
    worker: ModerationWorker
    dependency: Dependency

    @classmethod
    def build(
        cls,
        dependency: Dependency,
        database: Database,
        events: EventBus,
        registry: CollectorRegistry,
        *,
        retry_initial_seconds: float,
        retry_max_seconds: float,
        interval_seconds: float,
    ) -> ModerationRuntime:
        metrics = ModerationMetrics(registry)
        client = ModerationClient(dependency)
        worker = ModerationWorker(
            ModerationQueue(database),
            client,
            events,
            metrics=metrics,
            interval_seconds=interval_seconds,
            retry_initial_seconds=retry_initial_seconds,
            retry_max_seconds=retry_max_seconds,
        )
        return cls(Moderation(client, metrics=metrics), worker, dependency)

    def start(self) -> None:
        self.worker.start()

    async def aclose(self) -> None:
        await self.worker.aclose()
        await self.dependency.aclose()
