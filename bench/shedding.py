"""Goodput and p99 under 2x and 3x overload, with load shedding on and off.

Two `livify serve` processes (one worker each, uvicorn) serve copies of one
seeded SQLite file with the application cache off, so every
`GET /api/articles` runs its queries. They differ only in
`LIVIFY_SHEDDING_ENABLED`. The script measures the capacity of the
shedding server with a closed loop of 8 connections, then offers each
server an open-loop load of 2x and 3x that rate, in alternating rounds so
both face the same machine load. It prints, per case:

- 2xx responses per second, and goodput: the 2xx responses per second that
  finished within the SLO's latency threshold (0.5 s);
- p50 and p99 of the 2xx responses, measured from each request's scheduled
  send time, leaving out the first second while the limit settles;
- the share of requests answered 503, of other 5xx (504 when a request
  ran past the 3 s read deadline) and of arrivals never sent because 400
  requests were already outstanding;

and the ratios of shedding on to shedding off. The load generator runs in
this process on the same two cores as the server, so absolute numbers are
lower than on separate machines; the ratios are the result.

Run: .venv/bin/python bench/shedding.py [--seconds 6 --rounds 1]
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.live.overload import LoadResult, measure_capacity, run_open_loop
from tests.live.server import LiveServer, livify_command, start_live_server

from livify.observability.slo import SLO

FACTORS = (2.0, 3.0)
MODES = {"on": "true", "off": "false"}
SEED_SCALE = "0.01"
CAPACITY_CONCURRENCY = 8
CAPACITY_SECONDS = 3.0
WARMUP_SECONDS = 1.0
SLO_SECONDS = SLO().latency_threshold_seconds


def seed(data_dir: Path) -> None:
    environment = {
        **os.environ,
        "LIVIFY_DATA_DIR": str(data_dir),
        "LIVIFY_LOG_LEVEL": "warning",
    }
    subprocess.run(
        [*livify_command(), "seed", "--scale", SEED_SCALE],
        env=environment,
        check=True,
        capture_output=True,
        timeout=300,
    )


def start_servers(work_dir: Path) -> dict[str, LiveServer]:
    seeded = work_dir / "seeded"
    seed(seeded)
    servers = {}
    for mode, enabled in MODES.items():
        data_dir = work_dir / mode
        shutil.copytree(seeded, data_dir)
        servers[mode] = start_live_server(
            data_dir,
            None,
            extra_environment={
                "LIVIFY_CACHE_URL": "",
                "LIVIFY_LOG_LEVEL": "warning",
                "LIVIFY_SHEDDING_ENABLED": enabled,
            },
        )
    return servers


async def measure(
    servers: dict[str, LiveServer], seconds: float, rounds: int
) -> tuple[float, dict[tuple[str, float], list[LoadResult]]]:
    measured = await measure_capacity(
        f"{servers['on'].api_url}/articles",
        concurrency=CAPACITY_CONCURRENCY,
        duration_seconds=CAPACITY_SECONDS,
    )
    capacity = measured.requests_per_second
    results: dict[tuple[str, float], list[LoadResult]] = {}
    for _ in range(rounds):
        for factor in FACTORS:
            for mode, server in servers.items():
                result = await run_open_loop(
                    f"{server.api_url}/articles",
                    rate_per_second=capacity * factor,
                    duration_seconds=seconds,
                )
                results.setdefault((mode, factor), []).append(result)
                # Let the backlog of the previous case drain before the next.
                await asyncio.sleep(2.0)

    return capacity, results


def median(values: list[float]) -> float:
    ordered = sorted(value for value in values if not math.isnan(value))
    return ordered[len(ordered) // 2] if ordered else math.nan


def share(count: int, result: LoadResult) -> float:
    offered = result.sent + result.not_sent
    return count / offered if offered else math.nan


def case_row(results: list[LoadResult]) -> dict[str, float]:
    return {
        "ok": median([result.goodput_per_second for result in results]),
        "goodput": median([result.goodput_within(SLO_SECONDS) for result in results]),
        "p50": median(
            [
                result.ok_quantile(0.5, after_seconds=WARMUP_SECONDS)
                for result in results
            ]
        ),
        "p99": median(
            [
                result.ok_quantile(0.99, after_seconds=WARMUP_SECONDS)
                for result in results
            ]
        ),
        "shed": median([share(result.statuses[503], result) for result in results]),
        "other_5xx": median(
            [share(sum(result.other_5xx().values()), result) for result in results]
        ),
        "not_sent": median([share(result.not_sent, result) for result in results]),
    }


def render(capacity: float, results: dict[tuple[str, float], list[LoadResult]]) -> str:
    lines = [
        f"capacity (closed loop, {CAPACITY_CONCURRENCY} connections): "
        f"{capacity:.0f} req/s",
        "",
        "| load | shedding | offered req/s | 2xx req/s | goodput req/s "
        "| p50 ms | p99 ms | 503 | other 5xx | not sent |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    rows = {key: case_row(value) for key, value in results.items()}
    for factor in FACTORS:
        for mode in MODES:
            row = rows[mode, factor]
            lines.append(
                f"| {factor:g}x | {mode} | {capacity * factor:.0f} "
                f"| {row['ok']:.0f} | {row['goodput']:.0f} | {row['p50'] * 1000:.0f} "
                f"| {row['p99'] * 1000:.0f} | {row['shed']:.0%} "
                f"| {row['other_5xx']:.0%} | {row['not_sent']:.0%} |"
            )

    lines.append("")
    for factor in FACTORS:
        on, off = rows["on", factor], rows["off", factor]
        lines.append(
            f"{factor:g}x: goodput on/off {_ratio(on['goodput'], off['goodput'])}, "
            f"p99 off/on {_ratio(off['p99'], on['p99'])}"
        )
    return "\n".join(lines)


def _ratio(numerator: float, denominator: float) -> str:
    return f"{numerator / denominator:.1f}" if denominator > 0 else "inf"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=6.0, help="per case")
    parser.add_argument("--rounds", type=int, default=1, help="rounds of all cases")
    arguments = parser.parse_args()

    work_dir = Path(tempfile.mkdtemp(prefix="livify-bench-shedding-"))
    servers: dict[str, LiveServer] = {}
    try:
        servers = start_servers(work_dir)
        capacity, results = asyncio.run(
            measure(servers, arguments.seconds, arguments.rounds)
        )
    finally:
        for server in servers.values():
            server.stop()
        shutil.rmtree(work_dir, ignore_errors=True)

    print(render(capacity, results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
