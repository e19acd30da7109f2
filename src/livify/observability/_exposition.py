"""The `/metrics` endpoint in the Prometheus text format."""

from __future__ import annotations

import os

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector

from livify.types import Receive, Scope, Send

MULTIPROCESS_DIR_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"


def is_multiprocess() -> bool:
    """Return whether prometheus_client keeps values in per-process files."""
    return bool(os.environ.get(MULTIPROCESS_DIR_VARIABLE))


class MetricsEndpoint:
    """ASGI app that renders a registry, or every worker's merged values.

    In multiprocess mode each scrape reads the files of all workers, so any
    worker that receives the scrape reports the totals of all of them.
    """

    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        body = generate_latest(self._collecting_registry())
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [
                    (b"content-type", CONTENT_TYPE_LATEST.encode()),
                    (b"content-length", str(len(body)).encode()),
                    (b"cache-control", b"no-store"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})

    def _collecting_registry(self) -> CollectorRegistry:
        if not is_multiprocess():
            return self.registry

        merged = CollectorRegistry()
        MultiProcessCollector(merged)  # type: ignore[no-untyped-call]
        return merged
