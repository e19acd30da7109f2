"""OpenTelemetry tracing, off unless configured.

When tracing is off nothing is instrumented, so requests pay nothing for it.
When it is on, the ASGI app continues an incoming W3C `traceparent`, and
SQLAlchemy, httpx and redis-py calls made while serving a request become
child spans of the request's span.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from opentelemetry.instrumentation.asgi import OpenTelemetryMiddleware
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter
from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased
from sqlalchemy.ext.asyncio import AsyncEngine

DEFAULT_SERVICE_NAME = "livify"


def create_tracer_provider(
    *,
    service_name: str = DEFAULT_SERVICE_NAME,
    otlp_endpoint: str | None = None,
    sample_ratio: float = 1.0,
    exporter: SpanExporter | None = None,
) -> TracerProvider:
    """Build a provider that exports to `exporter`, or over OTLP/HTTP.

    `sample_ratio` (0.0 to 1.0) applies to traces that start here; a request
    that arrives with a sampled `traceparent` is always traced, so a trace
    is never cut in the middle.
    """
    if not 0.0 <= sample_ratio <= 1.0:
        msg = f"sample_ratio must be in [0, 1], got {sample_ratio!r}"
        raise ValueError(msg)

    if exporter is None:
        if otlp_endpoint is None:
            msg = "pass an exporter or an otlp_endpoint such as http://127.0.0.1:4318"
            raise ValueError(msg)

        from opentelemetry.exporter.otlp.proto.http.trace_exporter import (
            OTLPSpanExporter,
        )

        exporter = OTLPSpanExporter(endpoint=f"{otlp_endpoint.rstrip('/')}/v1/traces")

    provider = TracerProvider(
        resource=Resource.create({SERVICE_NAME: service_name}),
        sampler=ParentBased(TraceIdRatioBased(sample_ratio)),
    )
    provider.add_span_processor(BatchSpanProcessor(exporter))
    return provider


class Tracing:
    """Instrument an app and its clients with one provider; undo it on close.

    Add `Tracing.middleware` to the ASGI app with `tracer_provider=provider`;
    it continues an incoming `traceparent` and opens the request's span.
    """

    middleware = OpenTelemetryMiddleware

    def __init__(self, provider: TracerProvider) -> None:
        self.provider = provider
        self._instrumentors: list[Any] = []

    def instrument_clients(self, engines: Sequence[AsyncEngine]) -> None:
        """Trace SQL on `engines`, and every httpx and redis-py client.

        redis-py is traced only when it is installed (the `redis` extra).
        """
        from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
        from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor

        sqlalchemy = SQLAlchemyInstrumentor()
        sqlalchemy.instrument(
            engines=[engine.sync_engine for engine in engines],
            tracer_provider=self.provider,
            enable_commenter=False,
            # NOTE: the instrumentation (0.66b2) declares SQLAlchemy < 2.1 and
            # refuses 2.1 otherwise; it hooks engine events that 2.1 still has,
            # and a test checks that SQL spans are produced.
            skip_dep_check=True,
        )
        httpx = HTTPXClientInstrumentor()
        httpx.instrument(tracer_provider=self.provider)
        self._instrumentors = [sqlalchemy, httpx]

        try:
            from opentelemetry.instrumentation.redis import RedisInstrumentor
        except ImportError:
            return

        redis = RedisInstrumentor()
        redis.instrument(tracer_provider=self.provider)
        self._instrumentors.append(redis)

    def shutdown(self) -> None:
        """Remove the instrumentation and flush spans that are still queued."""
        for instrumentor in self._instrumentors:
            instrumentor.uninstrument()
        self._instrumentors = []
        self.provider.shutdown()
