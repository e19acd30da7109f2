"""Golden signals, probes and logs of the livify application itself."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from asgi_lifespan import LifespanManager
from opentelemetry.sdk.trace.export.in_memory_span_exporter import (
    InMemorySpanExporter,
)
from prometheus_client.parser import text_string_to_metric_families

from livify.app import create_app
from livify.settings import Settings

ROOT = "http://testserver"
TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
TRACEPARENT = f"00-{TRACE_ID}-00f067aa0ba902b7-01"


def scraped_counts(text: str) -> dict[tuple[str, str, str], float]:
    """Map (method, route, status) to the request count in a scrape."""
    counts = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "http_server_request_duration_seconds_count":
                key = (
                    sample.labels["http_request_method"],
                    sample.labels["http_route"],
                    sample.labels["http_response_status_code"],
                )
                counts[key] = sample.value
    return counts


async def test_metrics_count_known_request_mix(client: httpx.AsyncClient) -> None:
    """Each route template and status has exactly the requests sent."""
    for _ in range(3):
        await client.get("/tags")
    for slug in ("missing-one", "missing-two"):
        await client.get(f"/articles/{slug}")
    await client.post("/users", json={"user": {}})
    await client.get(f"{ROOT}/livez")

    response = await client.get(f"{ROOT}/metrics")
    counts = scraped_counts(response.text)

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    assert counts[("GET", "/api/tags", "200")] == 3
    assert counts[("GET", "/api/articles/{slug}", "404")] == 2
    assert counts[("POST", "/api/users", "422")] == 1
    assert len(counts) == 3


async def test_probes_answer_ready(client: httpx.AsyncClient) -> None:
    """Liveness and readiness return 200 while the database is up."""
    live = await client.get(f"{ROOT}/livez")
    ready = await client.get(f"{ROOT}/readyz")

    assert live.status_code == 200
    assert ready.status_code == 200
    assert ready.json()["checks"] == {"database": "ok", "migrations": "ok"}
    assert ready.headers["cache-control"] == "no-store"


async def test_readiness_fails_without_database(tmp_path: Path) -> None:
    """Readiness returns 503 naming the check when the database is down."""
    settings = Settings(
        data_dir=tmp_path,
        # Nothing listens on port 1 of the loopback address.
        database_url="postgresql://postgres@127.0.0.1:1/none",
        secret_key="s" * 40,
        migrate_on_start=False,
    )
    app = create_app(settings)
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url=ROOT) as http:
            live = await http.get("/livez")
            ready = await http.get("/readyz")

    assert live.status_code == 200
    assert ready.status_code == 503
    assert ready.json()["checks"] == {"database": "error", "migrations": "error"}


async def test_traceparent_continued_into_sql(settings: Settings) -> None:
    """The request span and its SQL spans continue the caller's trace."""
    exporter = InMemorySpanExporter()
    app = create_app(settings, span_exporter=exporter)
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url=ROOT) as http:
            response = await http.get("/api/tags", headers={"traceparent": TRACEPARENT})

    # The lifespan's shutdown flushed the batch exporter. Migrations at
    # start-up run SQL outside any request, in traces of their own.
    spans = exporter.get_finished_spans()
    in_trace = [
        span for span in spans if format(span.context.trace_id, "032x") == TRACE_ID
    ]
    server_spans = [span for span in in_trace if span.kind.name == "SERVER"]
    sql_spans = [span for span in in_trace if span.kind.name == "CLIENT"]

    assert response.status_code == 200
    assert len(server_spans) == 1
    assert server_spans[0].name == "GET /api/tags"
    assert server_spans[0].attributes is not None
    assert server_spans[0].attributes["http.route"] == "/api/tags"
    assert sql_spans, [span.name for span in spans]


async def test_access_log_has_request_and_trace_ids(
    settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    """At full sampling a request logs a JSON line with request and trace ids."""
    full = settings.model_copy(update={"access_log_sample_ratio": 1.0})
    app = create_app(full, span_exporter=InMemorySpanExporter())
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url=ROOT) as http:
            await http.get(
                "/api/tags",
                headers={"traceparent": TRACEPARENT, "X-Request-ID": "req-42"},
            )

    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    access = [line for line in lines if line.get("event") == "http.request"]

    assert len(access) == 1
    assert access[0]["request_id"] == "req-42"
    assert access[0]["trace_id"] == TRACE_ID
    assert access[0]["route"] == "/api/tags"
    assert access[0]["status"] == 200


async def test_secrets_never_reach_logs(
    client: httpx.AsyncClient, capsys: pytest.CaptureFixture[str]
) -> None:
    """Registering and logging in leave no password or token in the logs."""
    password = "a-very-private-password"
    response = await client.post(
        "/users",
        json={
            "user": {
                "username": "logcheck",
                "email": "l@example.com",
                "password": password,
            }
        },
    )
    token = response.json()["user"]["token"]
    await client.get("/user", headers={"Authorization": f"Token {token}"})

    output = capsys.readouterr()
    assert password not in output.err + output.out
    assert token not in output.err + output.out
