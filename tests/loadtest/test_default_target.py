"""`livify loadtest` without a URL tests a throwaway local livify serve."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

from tests.live.server import livify_command

pytestmark = pytest.mark.live


def test_default_target_runs_and_stops(tmp_path: Path) -> None:
    """The summary is printed, the server is stopped and its data deleted."""
    json_path = tmp_path / "result.json"
    completed = subprocess.run(
        [
            *livify_command(),
            "loadtest",
            "--users",
            "4",
            "--ramp",
            "1s",
            "--duration",
            "3s",
            "--seed-scale",
            "0.01",
            "--quiet",
            "--json",
            str(json_path),
            "--threshold",
            "errors < 1%",
        ],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=180,
        env={**os.environ, "TMPDIR": str(tmp_path), "LIVIFY_LOG_LEVEL": "warning"},
        check=False,
    )

    assert completed.returncode == 0, completed.stderr
    assert "by endpoint" in completed.stdout
    assert "PASS  threshold  errors < 1%" in completed.stdout
    assert "127.0.0.1" in completed.stdout

    started = re.search(r"livify serve \(pid (\d+)\) is up", completed.stderr)
    assert started is not None, completed.stderr
    assert f"stopped livify serve (pid {started[1]})" in completed.stderr
    with pytest.raises(ProcessLookupError):
        os.kill(int(started[1]), 0)

    assert not list(tmp_path.glob("livify-loadtest-*"))
    assert json_path.exists()
