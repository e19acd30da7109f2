"""HealthEndpoint: each readiness check reports ok, failed or error."""

from __future__ import annotations

import asyncio

import httpx

from livify.observability import HealthEndpoint


async def passes() -> bool:
    return True


async def finds_a_problem() -> bool:
    return False


async def raises() -> bool:
    raise ConnectionError("connection refused")


async def hangs() -> bool:
    await asyncio.sleep(10)
    return True


async def probe(endpoint: HealthEndpoint) -> httpx.Response:
    transport = httpx.ASGITransport(app=endpoint)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        return await client.get("/readyz")


async def test_all_checks_pass() -> None:
    response = await probe(HealthEndpoint({"database": passes}))

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": "ok"}}
    assert response.headers["cache-control"] == "no-store"


async def test_failed_and_error_are_told_apart() -> None:
    """A check that could not run is not reported as a problem it found."""
    endpoint = HealthEndpoint(
        {
            "database": passes,
            "migrations": finds_a_problem,
            "redis": raises,
            "queue": hangs,
        },
        timeout_seconds=0.05,
    )

    response = await probe(endpoint)

    assert response.status_code == 503
    assert response.json() == {
        "status": "unavailable",
        "checks": {
            "database": "ok",
            "migrations": "failed",
            "redis": "error",
            "queue": "error",
        },
    }


async def test_liveness_has_no_checks() -> None:
    response = await probe(HealthEndpoint())

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {}}
