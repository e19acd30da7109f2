"""One master and two workers on loopback run one test and merge its results."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import pytest

from tests.live.server import find_free_port
from tests.loadtest.conftest import start_loadtest
from tests.loadtest.fake_realworld import FakeRealWorld

pytestmark = pytest.mark.live

PROCESS_TIMEOUT_SECONDS = 120.0


def run_distributed(tmp_path: Path, url: str, load: Sequence[str]) -> dict:  # type: ignore[type-arg]
    """Run a master with two workers and return the master's JSON result."""
    port = str(find_free_port())
    result_path = tmp_path / "result.json"
    address = ["--master-host", "127.0.0.1", "--master-port", port]
    master = start_loadtest(
        [
            url,
            "--master",
            "--expect-workers",
            "2",
            *address,
            *load,
            "--quiet",
            "--json",
            str(result_path),
        ],
        log_path=tmp_path / "master.log",
    )
    workers = [
        start_loadtest(["--worker", *address], log_path=tmp_path / f"worker{i}.log")
        for i in range(2)
    ]
    processes = [master, *workers]
    try:
        for process in processes:
            process.wait(timeout=PROCESS_TIMEOUT_SECONDS)
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.wait()

    log = (tmp_path / "master.log").read_text()
    assert master.returncode == 0, log
    assert all(worker.returncode == 0 for worker in workers), [
        (tmp_path / f"worker{i}.log").read_text()[-2000:] for i in range(2)
    ]
    result: dict = json.loads(result_path.read_text())  # type: ignore[type-arg]
    return result


def test_closed_model_merges_both_workers(tmp_path: Path) -> None:
    """Every request both workers sent is in the master's result, once."""
    with FakeRealWorld() as server:
        result = run_distributed(
            tmp_path,
            server.url,
            [
                "--users",
                "6",
                "--ramp",
                "1s",
                "--duration",
                "4s",
                "--think-time",
                "0.05-0.1",
                "--member-share",
                "50%",
            ],
        )
        served = sum(server.counts.values())
        signed_up = server.counts["POST /api/users"]

    assert result["workers"] == 2
    assert result["total"]["requests"] == served
    assert result["total"]["failures"] == 0
    steps = {summary["name"]: summary for summary in result["steps"]}
    assert steps["member.sign_up"]["requests"] == signed_up == 3
    # Each worker loads its own catalogue.
    assert server.counts["GET /api/tags"] >= 2


def test_open_model_workers_share_the_rate(tmp_path: Path) -> None:
    """Two workers together send the plan's arrivals, not twice as many."""
    rate, seconds = 30.0, 4.0
    with FakeRealWorld() as server:
        result = run_distributed(
            tmp_path,
            server.url,
            [
                "--model",
                "open",
                "--rate",
                str(rate),
                "--ramp",
                "0",
                "--duration",
                f"{seconds}s",
                "--member-share",
                "0",
                "--pool",
                "10",
            ],
        )

    setup = {s["name"]: s["requests"] for s in result["steps"]}["setup.catalogue"]
    arrivals = result["total"]["requests"] - setup
    assert rate * seconds * 0.9 <= arrivals <= rate * seconds
