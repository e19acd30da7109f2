"""Throughput of GET /api/tags with the observability middleware on and off.

Both apps are built by `create_app` on one SQLite file and driven in-process
by a minimal ASGI client, so the server and the network add nothing and the
middleware's share of the cost is as large as it can look. Rounds alternate
between the two apps, so a slower or busier machine affects both alike; the
ratio of the medians is the result.

Run: .venv/bin/python bench/observability_overhead.py [--rounds 15 --requests 2000]
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
from asgi_lifespan import LifespanManager

from livify.app import create_app
from livify.settings import Settings

PATH = "/api/tags"


async def main(rounds: int, count: int) -> None:
    data_dir = Path(tempfile.mkdtemp(prefix="livify-bench-"))
    base = {"data_dir": data_dir, "secret_key": "b" * 40, "ratelimit_enabled": False}
    on = create_app(Settings(**base, metrics_enabled=True))
    off = create_app(Settings(**base, metrics_enabled=False))
    results: dict[str, list[float]] = {"on": [], "off": []}

    async with LifespanManager(on) as on_manager, LifespanManager(off) as off_manager:
        apps = {"on": on_manager.app, "off": off_manager.app}
        for app in apps.values():
            await asgi_driver.requests_per_second(
                app, "/api/tags", count // 4
            )  # warm-up

        for _ in range(rounds):
            for name, app in apps.items():
                results[name].append(
                    await asgi_driver.requests_per_second(app, "/api/tags", count)
                )

    on_median = statistics.median(results["on"])
    off_median = statistics.median(results["off"])
    # Each round measures both apps back to back, so the ratio within a round
    # is less exposed to load that other processes put on the machine.
    ratios = [on / off for on, off in zip(results["on"], results["off"], strict=True)]
    ratio = statistics.median(ratios)
    print(f"rounds={rounds} requests/round={count} cpus={os.cpu_count()}")
    print(f"middleware off: {off_median:9.0f} req/s (median)")
    print(f"middleware on:  {on_median:9.0f} req/s (median)")
    print(f"on/off ratio:   {ratio:9.3f} (median of per-round ratios)")
    print(f"overhead:       {1 - ratio:9.1%}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--requests", type=int, default=2000)
    arguments = parser.parse_args()
    # Access log lines go to stderr; keep them off the terminal.
    sys.stderr = open(os.devnull, "w")  # noqa: SIM115
    asyncio.run(main(arguments.rounds, arguments.requests))
