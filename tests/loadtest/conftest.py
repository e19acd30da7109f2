"""Helpers that run `livify loadtest` as a separate process.

Locust patches the standard library for gevent when it is imported, so no
load-test run happens inside the pytest process.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.live.server import livify_command

RUN_TIMEOUT_SECONDS = 180.0


@dataclass
class LoadTestRun:
    returncode: int
    stdout: str
    stderr: str
    result: dict[str, Any] | None


def start_loadtest(
    arguments: Sequence[str], *, log_path: Path
) -> subprocess.Popen[bytes]:
    """Start `livify loadtest` with `arguments`; output goes to `log_path`."""
    with log_path.open("wb") as log:
        return subprocess.Popen(
            [*livify_command(), "loadtest", *arguments],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "LIVIFY_LOG_LEVEL": "warning"},
        )


def run_loadtest(
    arguments: Sequence[str],
    *,
    json_path: Path,
    timeout_seconds: float = RUN_TIMEOUT_SECONDS,
) -> LoadTestRun:
    """Run `livify loadtest` to the end and read its JSON result if written."""
    completed = subprocess.run(
        [*livify_command(), "loadtest", *arguments, "--json", str(json_path)],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout_seconds,
        env={**os.environ, "LIVIFY_LOG_LEVEL": "warning"},
        check=False,
    )
    result = json.loads(json_path.read_text()) if json_path.exists() else None
    return LoadTestRun(completed.returncode, completed.stdout, completed.stderr, result)


def by_name(summaries: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {summary["name"]: summary for summary in summaries}
