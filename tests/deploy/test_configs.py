"""The example Prometheus and Alertmanager configs are valid and stay local."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from tests.deploy.tools import (
    ALERTMANAGER_FILE,
    PROMETHEUS_DIR,
    describe,
    run_tool,
)

PROMETHEUS_FILE = PROMETHEUS_DIR / "prometheus.yml"
URL_HOST = re.compile(r"https?://([^/:\s]+)")
LOOPBACK_HOSTS = {"127.0.0.1", "localhost"}


def test_prometheus_config_passes_promtool(promtool: str) -> None:
    """`promtool check config` accepts the config and the rules it loads."""
    result = run_tool(promtool, "check", "config", PROMETHEUS_FILE)

    assert result.returncode == 0, describe(result)
    assert "1 rule files found" in result.stdout


def test_prometheus_scrapes_local_livify() -> None:
    """The example scrapes job livify on 127.0.0.1:8000 and loads the rules."""
    config = yaml.safe_load(PROMETHEUS_FILE.read_text(encoding="utf-8"))
    (job,) = config["scrape_configs"]

    assert job["job_name"] == "livify"
    assert job["metrics_path"] == "/metrics"
    assert job["static_configs"] == [{"targets": ["127.0.0.1:8000"]}]
    assert config["rule_files"] == ["rules/livify.rules.yml"]
    assert (PROMETHEUS_DIR / config["rule_files"][0]).is_file()


def test_prometheus_alertmanager_is_local() -> None:
    """Alerts go to an Alertmanager on 127.0.0.1."""
    config = yaml.safe_load(PROMETHEUS_FILE.read_text(encoding="utf-8"))
    targets = [
        target
        for manager in config["alerting"]["alertmanagers"]
        for static in manager["static_configs"]
        for target in static["targets"]
    ]

    assert targets == ["127.0.0.1:9093"]


def test_alertmanager_config_passes_amtool(amtool: str) -> None:
    """`amtool check-config` accepts the example Alertmanager config."""
    result = run_tool(amtool, "check-config", ALERTMANAGER_FILE)

    assert result.returncode == 0, describe(result)
    assert "SUCCESS" in result.stdout


@pytest.mark.parametrize(
    ("labels", "receiver"),
    [
        (["severity=critical", "slo=availability"], "page"),
        (["severity=warning", "slo=latency"], "ticket"),
        (["severity=warning", "alertname=LivifyMemoryGrowth"], "ticket"),
        (["severity=info", "alertname=LivifyNoTraffic"], "null"),
        (["alertname=SomethingWithoutSeverity"], "ticket"),
    ],
)
def test_alertmanager_routes_by_severity(
    amtool: str, labels: list[str], receiver: str
) -> None:
    """critical pages, warning opens a ticket, and info goes nowhere."""
    result = run_tool(
        amtool,
        "config",
        "routes",
        "test",
        f"--config.file={ALERTMANAGER_FILE}",
        *labels,
    )

    assert result.returncode == 0, describe(result)
    assert result.stdout.strip() == receiver, describe(result)


@pytest.mark.parametrize("path", [PROMETHEUS_FILE, ALERTMANAGER_FILE])
def test_config_urls_are_loopback(path: Path) -> None:
    """Every URL in the example configs points at this machine."""
    hosts = set(URL_HOST.findall(path.read_text(encoding="utf-8")))

    assert hosts <= LOOPBACK_HOSTS


def test_alertmanager_receivers_are_placeholders() -> None:
    """Receivers are local webhooks or the null receiver, with no secrets."""
    config = yaml.safe_load(ALERTMANAGER_FILE.read_text(encoding="utf-8"))
    receivers = {receiver["name"]: receiver for receiver in config["receivers"]}

    assert set(receivers) == {"page", "ticket", "null"}
    assert set(receivers["null"]) == {"name"}

    for name in ("page", "ticket"):
        assert set(receivers[name]) == {"name", "webhook_configs"}
        for webhook in receivers[name]["webhook_configs"]:
            assert set(webhook) == {"url"}
            assert webhook["url"].startswith("http://127.0.0.1:")
