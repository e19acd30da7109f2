"""The open model shows a server stall as queueing delay instead of hiding it."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.loadtest.conftest import run_loadtest
from tests.loadtest.fake_realworld import FakeRealWorld

pytestmark = pytest.mark.live

RATE = 40.0
STALL_AFTER_SECONDS = 2.0
STALL_SECONDS = 1.5
# Few senders, as a closed-loop tool has few connections: enough for the
# rate while the server responds in milliseconds, and all stuck in a stall.
POOL = 4


def test_stall_shows_in_open_model_latency(tmp_path: Path) -> None:
    """Requests due during a 1.5 s stall report up to 1.5 s of waiting."""
    with FakeRealWorld(
        stall_after_seconds=STALL_AFTER_SECONDS, stall_seconds=STALL_SECONDS
    ) as server:
        run = run_loadtest(
            [
                server.url,
                "--model",
                "open",
                "--rate",
                str(RATE),
                "--ramp",
                "0",
                "--duration",
                "6s",
                "--member-share",
                "0",
                "--pool",
                str(POOL),
                "--quiet",
            ],
            json_path=tmp_path / "result.json",
        )
        assert server.stalled_at is not None

    assert run.returncode == 0, run.stderr
    result = run.result
    assert result is not None
    total, service = result["total"], result["service"]

    # Every arrival of the plan was sent: none was skipped during the stall.
    assert total["requests"] >= 0.95 * RATE * 6

    # About RATE * STALL_SECONDS = 60 arrivals fell due during the stall and
    # each waited for part of it, so several percent of 240 requests took
    # 0.75 s or more when measured from their intended send time.
    assert total["max_seconds"] >= 0.9 * STALL_SECONDS
    assert total["p95_seconds"] >= 0.5
    assert total["p90_seconds"] >= 0.2

    # Measured from the actual send, only the POOL requests in flight saw
    # the stall, so this view, the one with coordinated omission, hides it.
    assert service["p95_seconds"] < 0.1
    assert service["max_seconds"] >= 0.9 * STALL_SECONDS
