"""The RealWorld Postman collection, run by newman against a live server.

The collection is the upstream RealWorld conformance suite and is not part of
this repository. The test looks for it at `LIVIFY_TEST_POSTMAN_COLLECTION`,
then at `../shared/realworld/` beside this checkout, then beside the local
repository this checkout was cloned from.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.live.conftest import REPO_ROOT, find_executable, require_tool
from tests.live.server import LiveServer

pytestmark = pytest.mark.live

COLLECTION_PATH = Path("shared", "realworld", "Conduit.postman_collection.json")
# Read at import time: an autouse fixture removes LIVIFY_* variables from tests.
COLLECTION_OVERRIDE = os.environ.get("LIVIFY_TEST_POSTMAN_COLLECTION")
NEWMAN_TIMEOUT_SECONDS = 180
REQUEST_TIMEOUT_MILLISECONDS = 10_000
OUTPUT_TAIL_CHARS = 6_000


def find_collection() -> Path | None:
    """Return the Postman collection file, or None when it is nowhere to be found."""
    candidates = []
    if COLLECTION_OVERRIDE:
        candidates.append(Path(COLLECTION_OVERRIDE))

    candidates.append(REPO_ROOT.parent / COLLECTION_PATH)
    origin = _local_origin()
    if origin is not None:
        candidates.append(origin.parent / COLLECTION_PATH)

    return next((path for path in candidates if path.is_file()), None)


def _local_origin() -> Path | None:
    try:
        result = subprocess.run(
            ["git", "-C", str(REPO_ROOT), "config", "--get", "remote.origin.url"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None

    url = result.stdout.strip().removeprefix("file://")
    if not url.startswith("/"):
        return None

    return Path(url)


def describe_failures(report: dict[str, Any]) -> str:
    """List each failed request or assertion of a newman JSON report, one a line."""
    lines = []
    for failure in report["run"]["failures"]:
        source = failure.get("source", {}).get("name", "?")
        error = failure.get("error", {})
        check = f"{error['test']}: " if error.get("test") else ""
        lines.append(f"{source}: {check}{error.get('message')}")

    return "\n".join(lines)


def test_postman_collection_passes(live_server: LiveServer, tmp_path: Path) -> None:
    """Every request and assertion of the RealWorld collection passes."""
    newman = require_tool(
        find_executable("newman", REPO_ROOT / ".tools/node_modules/.bin/newman"),
        "newman",
        "run `bash scripts/ensure-newman.sh` or `make test`, which install it",
    )
    collection = require_tool(
        str(path) if (path := find_collection()) else None,
        "the RealWorld Postman collection",
        "set LIVIFY_TEST_POSTMAN_COLLECTION to Conduit.postman_collection.json",
    )
    username = f"u{secrets.token_hex(6)}"
    report_path = tmp_path / "newman.json"
    command = [
        newman,
        "run",
        collection,
        "--global-var",
        f"APIURL={live_server.api_url}",
        "--global-var",
        f"USERNAME={username}",
        "--global-var",
        f"EMAIL={username}@mail.com",
        "--global-var",
        "PASSWORD=password",
        "--timeout-request",
        str(REQUEST_TIMEOUT_MILLISECONDS),
        "--reporters",
        "cli,json",
        "--reporter-json-export",
        str(report_path),
        "--color",
        "off",
        "--disable-unicode",
    ]

    result = subprocess.run(
        command,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=NEWMAN_TIMEOUT_SECONDS,
        check=False,
    )
    output = (result.stdout + result.stderr)[-OUTPUT_TAIL_CHARS:]

    assert result.returncode == 0, output
    # newman exits 0 when it rejects an option, without running anything.
    assert report_path.is_file(), f"newman wrote no JSON report:\n{output}"
    report = json.loads(report_path.read_text(encoding="utf-8"))
    stats = report["run"]["stats"]
    assert stats["requests"]["total"] > 0, output
    assert stats["assertions"]["total"] > 0, output
    assert stats["requests"]["failed"] == 0, describe_failures(report)
    assert stats["assertions"]["failed"] == 0, describe_failures(report)
    assert stats["testScripts"]["failed"] == 0, describe_failures(report)
    assert report["run"]["failures"] == [], describe_failures(report)
