"""A short real run agrees with what the server's own /metrics counted."""

from __future__ import annotations

import math
import os
import re
import subprocess
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.live.server import LiveServer, livify_command, start_live_server
from tests.loadtest.conftest import by_name, run_loadtest

pytestmark = pytest.mark.live

DURATION_METRIC = "http_server_request_duration_seconds"
MIN_REQUESTS_FOR_PERCENTILES = 30
# The client also measures the network and its own scheduling, which on a
# shared two-core machine running other tests has added 30 ms and more. The
# bound is loose on purpose: it is there to catch a unit or a quantile mixed
# up (a thousandfold error), not to time the client.
CLIENT_OVERHEAD_SECONDS = 0.25


def normalise(route: str) -> str:
    """Name every path parameter alike: the spec says {id}, livify {comment_id}."""
    return re.sub(r"\{[^}]+\}", "{}", route)


def scrape(server: LiveServer) -> dict[tuple[str, str], dict[str, object]]:
    """Return, per (method, route): counts by status and summed buckets."""
    text = httpx.get(f"{server.origin}/metrics", timeout=10).text
    series: dict[tuple[str, str], dict[str, object]] = defaultdict(
        lambda: {"statuses": defaultdict(float), "buckets": defaultdict(float)}
    )
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            labels = sample.labels
            if "http_route" not in labels:
                continue
            key = (labels["http_request_method"], normalise(labels["http_route"]))
            if sample.name == f"{DURATION_METRIC}_count":
                status = labels["http_response_status_code"]
                series[key]["statuses"][status] += sample.value  # type: ignore[index]
            elif sample.name == f"{DURATION_METRIC}_bucket":
                bound = float(labels["le"])
                series[key]["buckets"][bound] += sample.value  # type: ignore[index]
    return series


def difference(after: dict, before: dict) -> dict:  # type: ignore[type-arg]
    changed = {}
    for key, now in after.items():
        then = before.get(key, {"statuses": {}, "buckets": {}})
        statuses = {
            status: count - then["statuses"].get(status, 0.0)
            for status, count in now["statuses"].items()
        }
        buckets = {
            bound: count - then["buckets"].get(bound, 0.0)
            for bound, count in now["buckets"].items()
        }
        if sum(statuses.values()) > 0:
            changed[key] = {"statuses": statuses, "buckets": buckets}
    return changed


def bucket_around(buckets: dict[float, float], quantile: float) -> tuple[float, float]:
    """Return the bounds (lower, upper] of the bucket holding the quantile."""
    bounds = sorted(buckets)
    rank = quantile * buckets[bounds[-1]]
    lower = 0.0
    for bound in bounds:
        if buckets[bound] >= rank:
            return lower, bound
        lower = bound
    return lower, math.inf


@pytest.fixture
def seeded_server(tmp_path: Path) -> Iterator[LiveServer]:
    """A live server on an SQLite file seeded with a small community."""
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    subprocess.run(
        [*livify_command(), "seed", "--scale", "0.01"],
        env={**os.environ, "LIVIFY_DATA_DIR": str(data_dir)},
        check=True,
        capture_output=True,
        timeout=120,
    )
    server = start_live_server(data_dir, None)
    try:
        yield server
    finally:
        server.stop()


def test_counts_and_percentiles_match_metrics(
    seeded_server: LiveServer, tmp_path: Path
) -> None:
    """Per endpoint, the JSON counts every response /metrics counted."""
    before = scrape(seeded_server)
    run = run_loadtest(
        [
            seeded_server.origin,
            "--users",
            "6",
            "--ramp",
            "1s",
            "--duration",
            "5s",
            "--think-time",
            "0.02-0.1",
            "--member-share",
            "40%",
            "--random-seed",
            "3",
            "--quiet",
        ],
        json_path=tmp_path / "result.json",
    )
    after = scrape(seeded_server)
    assert run.returncode == 0, run.stderr
    assert run.result is not None

    server = difference(after, before)
    client = {
        tuple(name.split(" ", 1)): summary
        for name, summary in by_name(run.result["endpoints"]).items()
    }
    client = {(method, normalise(route)): s for (method, route), s in client.items()}

    assert set(client) == set(server)
    for key, summary in client.items():
        server_statuses = {s: int(c) for s, c in server[key]["statuses"].items() if c}
        assert summary["statuses"] == server_statuses, key

    total_requests = sum(summary["requests"] for summary in client.values())
    assert run.result["total"]["requests"] == total_requests
    server_failures = sum(
        count
        for series in server.values()
        for status, count in series["statuses"].items()
        if not status.startswith("2")
    )
    assert run.result["total"]["failures"] == server_failures

    for key, summary in client.items():
        if summary["requests"] < MIN_REQUESTS_FOR_PERCENTILES:
            continue
        for quantile, field in ((0.5, "p50_seconds"), (0.95, "p95_seconds")):
            lower, upper = bucket_around(server[key]["buckets"], quantile)
            assert summary[field] >= lower * 0.999, (key, field, summary[field], lower)
            assert summary[field] <= 2 * upper + CLIENT_OVERHEAD_SECONDS, (
                key,
                field,
                summary[field],
                upper,
            )
