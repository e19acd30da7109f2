"""Schemathesis against the OpenAPI document that the live server serves.

Every operation is called with generated valid and invalid input, as an
anonymous client and as a registered user. The run must find no 5xx and no
response that breaks the documented status codes, content types or schemas.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.live.conftest import find_executable, require_tool
from tests.live.server import LiveServer, register_user

pytestmark = pytest.mark.live

CHECKS = [
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
]
# About 1,000 generated requests per run. A run took 12 to 35 s on 2 cores.
MAX_EXAMPLES_PER_OPERATION = 25
# A fixed seed makes a failure repeatable, so change it to explore other inputs.
SEED = 20_261_204
REQUEST_TIMEOUT_SECONDS = 10
RUN_TIMEOUT_SECONDS = 240
OUTPUT_TAIL_LINES = 300


def schemathesis_command() -> str:
    bin_dir = Path(sys.executable).parent
    path = find_executable("st", bin_dir / "st", bin_dir / "schemathesis")
    return require_tool(
        path, "schemathesis", "install the dev extra: pip install -e '.[dev]'"
    )


def run_schemathesis(
    server: LiveServer, work_dir: Path, headers: dict[str, str]
) -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
    """Run `st run` on the server's schema and return the result and JSON report."""
    report_path = work_dir / "schemathesis.json"
    command = [
        schemathesis_command(),
        "run",
        f"{server.api_url}/openapi.json",
        "--checks",
        ",".join(CHECKS),
        "--max-examples",
        str(MAX_EXAMPLES_PER_OPERATION),
        "--seed",
        str(SEED),
        "--workers",
        "1",
        "--request-timeout",
        str(REQUEST_TIMEOUT_SECONDS),
        "--generation-database",
        "none",
        "--no-color",
        "--report",
        "json",
        "--report-json-path",
        str(report_path),
    ]
    for name, value in headers.items():
        command += ["--header", f"{name}: {value}"]

    result = subprocess.run(
        command,
        cwd=work_dir,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT_SECONDS,
        check=False,
    )
    assert report_path.is_file(), f"schemathesis wrote no report:\n{result.stdout}"
    report: dict[str, Any] = json.loads(report_path.read_text(encoding="utf-8"))
    return result, report


@pytest.mark.parametrize("caller", ["anonymous", "registered"])
def test_schemathesis_finds_no_failures(
    live_server: LiveServer, tmp_path: Path, caller: str
) -> None:
    """Generated requests get documented, schema-valid responses and no 5xx."""
    headers = {}
    if caller == "registered":
        token = register_user(live_server)["token"]
        headers["Authorization"] = f"Token {token}"

    result, report = run_schemathesis(live_server, tmp_path, headers)
    output = "\n".join(result.stdout.splitlines()[-OUTPUT_TAIL_LINES:])
    server_log = live_server.log_tail()

    assert report["failures"] == [], f"{output}\n--- server log ---\n{server_log}"
    assert report["errors"] == [], output
    assert report["operations"]["tested"] == report["operations"]["selected"], output
    assert report["operations"]["tested"] > 0, output
    assert report["test_cases"]["generated"] > 0, output
    assert result.returncode == 0, output
