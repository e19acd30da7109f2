"""Metrics of a real `livify serve`: several workers, and a real Prometheus."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
import yaml

from livify.observability._tally import DEFAULT_FLUSH_INTERVAL_SECONDS
from tests.deploy.tools import RULES_FILE, require_tool
from tests.live.server import HOST, LiveServer, find_free_port, start_live_server
from tests.observability.test_app_signals import scraped_counts

pytestmark = pytest.mark.live

REQUESTS = 200
CLIENT_THREADS = 16
PROMETHEUS_READY_TIMEOUT_SECONDS = 60.0


def send_requests(server: LiveServer, count: int) -> None:
    """Send `count` GET /api/tags on new connections from several threads."""

    def one(_index: int) -> int:
        # A fresh connection each time lets the kernel hand it to any worker.
        return httpx.get(f"{server.api_url}/tags", timeout=10.0).status_code

    with ThreadPoolExecutor(CLIENT_THREADS) as pool:
        statuses = list(pool.map(one, range(count)))

    assert statuses == [200] * count


@pytest.fixture
def two_workers(tmp_path: Path) -> Iterator[LiveServer]:
    server = start_live_server(tmp_path / "data", None, extra_args=["--workers", "2"])
    try:
        yield server
    finally:
        server.stop()


def test_two_workers_report_summed_totals(
    two_workers: LiveServer, tmp_path: Path
) -> None:
    """Every scrape, whichever worker answers it, counts all workers' requests."""
    key = ("GET", "/api/tags", "200")
    # The start-up probe has already sent GET /api/tags at least once.
    before = scraped_counts(httpx.get(f"{two_workers.origin}/metrics").text)[key]
    send_requests(two_workers, REQUESTS)
    # Each worker adds its counts to the shared files at least once a flush
    # interval (RequestTally), so wait for the last one.
    time.sleep(DEFAULT_FLUSH_INTERVAL_SECONDS * 2)

    totals = []
    for _ in range(6):
        text = httpx.get(f"{two_workers.origin}/metrics", timeout=10.0).text
        totals.append(scraped_counts(text)[key] - before)

    metric_files = list((tmp_path / "data" / "metrics").glob("histogram_*.db"))

    assert totals == [REQUESTS] * 6
    # One histogram file per worker process that served requests.
    assert len(metric_files) == 2


def test_separate_metrics_port_reports_one_worker(tmp_path: Path) -> None:
    """With LIVIFY_METRICS_PORT and one worker, the metrics port counts its requests."""
    metrics_port = find_free_port()
    server = start_live_server(
        tmp_path / "data",
        None,
        extra_environment={"LIVIFY_METRICS_PORT": str(metrics_port)},
    )
    try:
        send_requests(server, 5)
        time.sleep(DEFAULT_FLUSH_INTERVAL_SECONDS * 2)
        text = httpx.get(f"http://{HOST}:{metrics_port}/metrics", timeout=10.0).text
    finally:
        server.stop()

    assert scraped_counts(text).get(("GET", "/api/tags", "200"), 0) >= 5


@pytest.fixture
def one_worker(tmp_path: Path) -> Iterator[LiveServer]:
    server = start_live_server(tmp_path / "data", None)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def prometheus(one_worker: LiveServer, tmp_path: Path) -> Iterator[str]:
    """A real Prometheus on a loopback port that scrapes the server every second."""
    binary = require_tool("prometheus")
    config = {
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
        "rule_files": [str(RULES_FILE)],
        "scrape_configs": [
            {
                "job_name": "livify",
                "static_configs": [{"targets": [f"{HOST}:{one_worker.port}"]}],
            }
        ],
    }
    config_path = tmp_path / "prometheus.yml"
    config_path.write_text(yaml.safe_dump(config), encoding="utf-8")
    port = find_free_port()
    log_path = tmp_path / "prometheus.log"

    with log_path.open("wb") as log_file:
        process = subprocess.Popen(
            [
                binary,
                f"--config.file={config_path}",
                f"--storage.tsdb.path={tmp_path / 'tsdb'}",
                f"--web.listen-address={HOST}:{port}",
            ],
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
    try:
        yield f"http://{HOST}:{port}"
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def query_until_data(base_url: str, promql: str) -> list[dict[str, object]]:
    """Poll the query API until the result is not empty, or fail at the deadline."""
    deadline = time.monotonic() + PROMETHEUS_READY_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        try:
            response = httpx.get(
                f"{base_url}/api/v1/query", params={"query": promql}, timeout=5.0
            )
        except httpx.TransportError:
            time.sleep(0.5)
            continue

        result: list[dict[str, object]] = response.json()["data"]["result"]
        if response.status_code == 200 and result:
            return result
        time.sleep(0.5)

    pytest.fail(f"Prometheus returned no data for {promql!r} in time")


def test_prometheus_scrapes_route_histogram(
    one_worker: LiveServer, prometheus: str
) -> None:
    """Prometheus stores the route-labelled histogram and evaluates the rules."""
    send_requests(one_worker, 20)

    buckets = query_until_data(
        prometheus,
        'http_server_request_duration_seconds_bucket{http_route="/api/tags"}',
    )
    # Recording rules need two scrapes with traffic between them.
    send_requests(one_worker, 20)
    p99 = query_until_data(
        prometheus, "http_route:http_server_request_duration_seconds:p99_rate5m"
    )
    rules = httpx.get(f"{prometheus}/api/v1/rules", timeout=5.0).json()
    health = {
        rule["name"]: rule["health"]
        for group in rules["data"]["groups"]
        for rule in group["rules"]
    }

    assert len(buckets) == 17  # 16 bounds and +Inf
    assert p99
    assert set(health.values()) == {"ok"}, health
