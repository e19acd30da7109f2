"""Paths of the deploy configs and helpers to run the real Prometheus tools.

`promtool` comes from the Debian package `prometheus` and `amtool` from
`prometheus-alertmanager`. A test that needs one skips when it is missing,
except under CI (`CI=true`), where a missing tool fails the test.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
DEPLOY_DIR = REPO_ROOT / "deploy"
PROMETHEUS_DIR = DEPLOY_DIR / "prometheus"
RULES_FILE = PROMETHEUS_DIR / "rules" / "livify.rules.yml"
RULE_TESTS_DIR = PROMETHEUS_DIR / "tests"
ALERTMANAGER_FILE = DEPLOY_DIR / "alertmanager" / "alertmanager.yml"
DASHBOARD_FILE = DEPLOY_DIR / "grafana" / "livify-golden-signals.json"
ALERTS_DOC = REPO_ROOT / "docs" / "alerts.md"

TOOL_TIMEOUT_SECONDS = 300
DEBIAN_PACKAGES = {
    "prometheus": "prometheus",
    "promtool": "prometheus",
    "amtool": "prometheus-alertmanager",
}


def require_tool(name: str) -> str:
    """Return the path of `name`, or skip the test (fail it under CI) if missing."""
    path = shutil.which(name)
    if path is not None:
        return path

    msg = (
        f"{name} not found on PATH. Install it with "
        f"`apt-get install -y {DEBIAN_PACKAGES[name]}`"
    )
    if os.environ.get("CI") == "true":
        pytest.fail(msg)
    pytest.skip(msg)


def run_tool(
    *args: str | Path, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """Run a command with a time limit and return its result, output included."""
    return subprocess.run(
        [str(arg) for arg in args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=TOOL_TIMEOUT_SECONDS,
        check=False,
    )


def describe(result: subprocess.CompletedProcess[str]) -> str:
    """Format a finished command for an assertion message."""
    return (
        f"{' '.join(result.args)} exited with {result.returncode}\n"
        f"--- stdout ---\n{result.stdout}\n--- stderr ---\n{result.stderr}"
    )
