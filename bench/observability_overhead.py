"""CPU cost of the observability middleware on the cheapest endpoints.

Two apps are built by `create_app` on one SQLite file, with metrics on and
off. A minimal ASGI client drives them in-process, so the server and the
network add nothing and the middleware's share of the cost is as large as
it can look. The endpoints are response-cache hits (the tag list and an
article), the cheapest requests livify serves. Each round measures both
apps back to back in CPU time per request; the table gives medians and the
median of the per-round ratios.

Run: .venv/bin/python bench/observability_overhead.py [--rounds 9 --requests 3000]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
from pathlib import Path

import asgi_driver
import httpx
from asgi_lifespan import LifespanManager

from livify.app import create_app
from livify.settings import Settings

USER = {"username": "bench", "email": "bench@example.com", "password": "p" * 12}


async def create_article(app: object) -> str:
    """Sign up and post one article through `app`; return its path."""
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://b") as client:
        user = await client.post("/api/users", json={"user": USER})
        token = user.json()["user"]["token"]
        article = {"title": "Bench", "description": "d", "body": "b" * 2000}
        created = await client.post(
            "/api/articles",
            json={"article": article},
            headers={"Authorization": f"Token {token}"},
        )
    return f"/api/articles/{created.json()['article']['slug']}"


async def main(rounds: int, count: int) -> None:
    data_dir = Path(tempfile.mkdtemp(prefix="livify-bench-"))
    base = {"data_dir": data_dir, "secret_key": "b" * 40, "ratelimit_enabled": False}
    on = create_app(Settings(**base, metrics_enabled=True))
    off = create_app(Settings(**base, metrics_enabled=False))

    async with LifespanManager(on) as on_manager, LifespanManager(off) as off_manager:
        apps = {"on": on_manager.app, "off": off_manager.app}
        paths = ["/api/tags", await create_article(apps["on"])]
        print(f"rounds={rounds} requests/round={count} cpus={os.cpu_count()}")
        print("endpoint (cache hit)       off µs   on µs   on/off   throughput cost")
        for path in paths:
            await report(apps, path, rounds, count)


async def report(apps: dict[str, object], path: str, rounds: int, count: int) -> None:
    cost: dict[str, list[float]] = {"on": [], "off": []}
    for app in apps.values():
        await asgi_driver.cpu_microseconds_per_request(app, path, count // 4)

    for _ in range(rounds):
        for name, app in apps.items():
            cost[name].append(
                await asgi_driver.cpu_microseconds_per_request(app, path, count)
            )

    ratios = [on / off for on, off in zip(cost["on"], cost["off"], strict=True)]
    ratio = statistics.median(ratios)
    name = "GET /api/tags" if path == "/api/tags" else "GET /api/articles/{slug}"
    print(
        f"{name:26} {statistics.median(cost['off']):6.1f}  "
        f"{statistics.median(cost['on']):6.1f}   {ratio:6.3f}   {1 - 1 / ratio:6.1%}"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--requests", type=int, default=3000)
    arguments = parser.parse_args()
    # Access log lines go to stderr; keep them off the terminal.
    sys.stderr = open(os.devnull, "w")  # noqa: SIM115
    asyncio.run(main(arguments.rounds, arguments.requests))
