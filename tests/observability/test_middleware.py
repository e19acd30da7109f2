"""ObservabilityMiddleware on a small Starlette app with a fake clock."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from prometheus_client import CollectorRegistry
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from livify.observability import HttpServerMetrics, ObservabilityMiddleware
from livify.observability._middleware import REQUEST_ID_PATTERN


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


@pytest.fixture
def client(registry: CollectorRegistry) -> Iterator[httpx.AsyncClient]:
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
    )
    transport = httpx.ASGITransport(app=middleware, raise_app_exceptions=False)
    yield httpx.AsyncClient(transport=transport, base_url="http://testserver")


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


async def test_request_id_echoed_or_generated(client: httpx.AsyncClient) -> None:
    """A plain caller id is echoed back; an unsafe one is replaced."""
    echoed = await client.get("/items/1", headers={"X-Request-ID": "abc-123"})
    replaced = await client.get("/items/1", headers={"X-Request-ID": "bad id\t!"})

    assert echoed.headers["x-request-id"] == "abc-123"
    assert replaced.headers["x-request-id"] != "bad id\t!"
    assert REQUEST_ID_PATTERN.match(replaced.headers["x-request-id"].encode())
    assert replaced.headers["x-request-id"] != echoed.headers["x-request-id"]


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
