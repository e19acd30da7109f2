"""ObservabilityMiddleware on a small Starlette app with a fake clock."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from prometheus_client import CollectorRegistry
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from livify.observability import (
    HttpServerMetrics,
    ObservabilityMiddleware,
    configure_logging,
)
from livify.observability._request_id import REQUEST_ID_PATTERN


class FakeClock:
    """A clock that advances by a fixed step each time it is read."""

    def __init__(self, step_seconds: float) -> None:
        self.now = 0.0
        self.step_seconds = step_seconds

    def __call__(self) -> float:
        self.now += self.step_seconds
        return self.now


async def item(request: Request) -> Response:
    return PlainTextResponse(request.path_params["item_id"])


async def broken(_request: Request) -> Response:
    return PlainTextResponse("down", status_code=503)


async def crash(_request: Request) -> Response:
    msg = "boom"
    raise LookupError(msg)


@pytest.fixture
def registry() -> CollectorRegistry:
    return CollectorRegistry()


def make_client(registry: CollectorRegistry, **options: Any) -> httpx.AsyncClient:
    app = Starlette(
        routes=[
            Route("/items/{item_id}", item),
            Route("/broken", broken),
            Route("/crash", crash),
        ]
    )
    middleware = ObservabilityMiddleware(
        app,
        metrics=HttpServerMetrics(registry),
        excluded_paths={"/metrics"},
        clock=FakeClock(step_seconds=0.25),
        sample=lambda: 0.0,
        **options,
    )
    transport = httpx.ASGITransport(app=middleware, raise_app_exceptions=False)
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


@pytest.fixture
def client(registry: CollectorRegistry) -> httpx.AsyncClient:
    return make_client(registry)


def sample(registry: CollectorRegistry, name: str, **labels: str) -> float:
    value = registry.get_sample_value(name, labels)
    return 0.0 if value is None else value


async def test_counts_by_route_template(
    client: httpx.AsyncClient, registry: CollectorRegistry
) -> None:
    """Requests to different paths of one route share its template label."""
    for item_id in ("1", "2", "3"):
        await client.get(f"/items/{item_id}")

    labels = {
        "http_request_method": "GET",
        "http_route": "/items/{item_id}",
        "http_response_status_code": "200",
    }
    count = sample(registry, "http_server_request_duration_seconds_count", **labels)
    total = sample(registry, "http_server_request_duration_seconds_sum", **labels)

    assert count == 3
    # The fake clock advances 0.25 s per read, and each request reads it twice.
    assert total == pytest.approx(0.75)


async def test_unmatched_paths_share_one_label(
    client: httpx.AsyncClient, registry: CollectorRegistry
) -> None:
    """Paths no route matches are counted under a single fixed label."""
    await client.get("/nope/1")
    await client.get("/nope/2")

    count = sample(
        registry,
        "http_server_request_duration_seconds_count",
        http_request_method="GET",
        http_route="unmatched",
        http_response_status_code="404",
    )
    assert count == 2


async def test_server_errors_are_counted(
    client: httpx.AsyncClient, registry: CollectorRegistry
) -> None:
    """A 5xx status and an exception each add one error with their type."""
    await client.get("/broken")
    await client.get("/crash")

    by_status = sample(
        registry,
        "http_server_errors_total",
        http_request_method="GET",
        http_route="/broken",
        error_type="503",
    )
    by_exception = sample(
        registry,
        "http_server_errors_total",
        http_request_method="GET",
        http_route="/crash",
        error_type="LookupError",
    )
    assert by_status == 1
    assert by_exception == 1


async def test_excluded_path_not_measured(
    client: httpx.AsyncClient, registry: CollectorRegistry
) -> None:
    """Excluded paths such as /metrics leave no series behind."""
    await client.get("/metrics")

    assert (
        registry.get_sample_value(
            "http_server_request_duration_seconds_count",
            {
                "http_request_method": "GET",
                "http_route": "unmatched",
                "http_response_status_code": "404",
            },
        )
        is None
    )


async def test_in_flight_returns_to_zero(
    client: httpx.AsyncClient, registry: CollectorRegistry
) -> None:
    """The in-flight gauge goes back to zero after success and failure."""
    await client.get("/items/1")
    await client.get("/crash")

    assert (
        sample(registry, "http_server_active_requests", http_request_method="GET") == 0
    )


async def test_request_id_echoed_or_generated(registry: CollectorRegistry) -> None:
    """With ids on every response, a plain caller id is echoed, others replaced."""
    client = make_client(registry, request_id_header="always")
    echoed = await client.get("/items/1", headers={"X-Request-ID": "abc-123"})
    replaced = await client.get("/items/1", headers={"X-Request-ID": "bad id\t!"})

    assert echoed.headers["x-request-id"] == "abc-123"
    assert replaced.headers["x-request-id"] != "bad id\t!"
    assert REQUEST_ID_PATTERN.match(replaced.headers["x-request-id"].encode())
    assert replaced.headers["x-request-id"] != echoed.headers["x-request-id"]


async def test_request_id_only_on_server_errors_by_default(
    client: httpx.AsyncClient,
) -> None:
    """By default a 200 carries no request id and a 5xx carries the caller's."""
    ok = await client.get("/items/1", headers={"X-Request-ID": "abc-123"})
    failed = await client.get("/broken", headers={"X-Request-ID": "abc-123"})

    assert "x-request-id" not in ok.headers
    assert failed.status_code == 503
    assert failed.headers["x-request-id"] == "abc-123"


async def test_failed_request_id_matches_log(
    client: httpx.AsyncClient, capsys: pytest.CaptureFixture[str]
) -> None:
    """The id a 5xx response shows is the one on its log line."""
    configure_logging(level="info", json=True)
    failed = await client.get("/broken")

    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    logged = [line for line in lines if line.get("event") == "http.request_failed"]

    assert len(logged) == 1
    assert logged[0]["request_id"] == failed.headers["x-request-id"]
    assert REQUEST_ID_PATTERN.match(failed.headers["x-request-id"].encode())


def test_request_id_header_choice_checked(registry: CollectorRegistry) -> None:
    """An unknown choice of which responses carry the id raises ValueError."""
    with pytest.raises(ValueError, match="request_id_header"):
        make_client(registry, request_id_header="sometimes")


async def test_unknown_method_gets_other_label(
    client: httpx.AsyncClient, registry: CollectorRegistry
) -> None:
    """Methods outside the HTTP standard set are grouped as _OTHER."""
    await client.request("BREW", "/items/1")

    count = sample(
        registry,
        "http_server_request_duration_seconds_count",
        http_request_method="_OTHER",
        http_route="/items/{item_id}",
        http_response_status_code="405",
    )
    assert count == 1


def test_sample_ratio_out_of_range_rejected(registry: CollectorRegistry) -> None:
    """A sample ratio outside [0, 1] raises ValueError."""
    with pytest.raises(ValueError, match="access_log_sample_ratio"):
        ObservabilityMiddleware(
            Starlette(), metrics=HttpServerMetrics(registry), access_log_sample_ratio=2
        )
