"""The rule file passes promtool, and its unit tests prove every alert.

The unit tests live in deploy/prometheus/tests/. Each one feeds synthetic
series to the real rule engine of promtool and states which alerts fire at
which times. The mutation tests below render weaker rules and check that the
unit tests then fail, so a quiet case cannot pass by testing nothing.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from livify.observability.slo import (
    SLO,
    BurnRateWindow,
    build_rule_groups,
    render_rules,
)
from tests.deploy.promql import exported_metric_names, metric_names
from tests.deploy.tools import RULE_TESTS_DIR, RULES_FILE, describe, run_tool

RULE_TEST_FILES = sorted(RULE_TESTS_DIR.glob("*_test.yml"))


def alert_names() -> set[str]:
    """Names of all alerts that the default SLO renders."""
    return {
        rule["alert"]
        for group in build_rule_groups(SLO())["groups"]
        for rule in group["rules"]
        if "alert" in rule
    }


def alert_rule_tests() -> list[dict[str, Any]]:
    """Every `alert_rule_test` entry of every unit-test file."""
    entries = []
    for path in RULE_TEST_FILES:
        for group in yaml.safe_load(path.read_text(encoding="utf-8"))["tests"]:
            entries.extend(group.get("alert_rule_test", []))

    return entries


def test_rules_pass_promtool_check(promtool: str) -> None:
    """`promtool check rules` accepts the shipped rule file."""
    result = run_tool(promtool, "check", "rules", RULES_FILE)

    assert result.returncode == 0, describe(result)
    assert "SUCCESS" in result.stdout


def test_rule_test_files_exist() -> None:
    """The unit-test folder holds the expected test files."""
    names = {path.name for path in RULE_TEST_FILES}

    assert names == {
        "saturation_test.yml",
        "slo_fast_burn_test.yml",
        "slo_slow_burn_test.yml",
        "symptoms_test.yml",
    }


@pytest.mark.parametrize("path", RULE_TEST_FILES, ids=lambda path: path.name)
def test_rule_unit_tests_pass(promtool: str, path: Path) -> None:
    """`promtool test rules` passes for each unit-test file."""
    result = run_tool(promtool, "test", "rules", path)

    assert result.returncode == 0, describe(result)


def test_every_alert_fires_in_a_test() -> None:
    """Each alert has a unit test that expects it to fire."""
    firing = {entry["alertname"] for entry in alert_rule_tests() if entry["exp_alerts"]}

    assert alert_names() - firing == set()


def test_every_alert_stays_quiet_in_a_test() -> None:
    """Each alert has a unit test that expects no alert."""
    quiet = {
        entry["alertname"] for entry in alert_rule_tests() if not entry["exp_alerts"]
    }

    assert alert_names() - quiet == set()


def test_unit_tests_name_only_known_alerts() -> None:
    """No unit test checks an alert that the rules no longer have."""
    tested = {entry["alertname"] for entry in alert_rule_tests()}

    assert tested - alert_names() == set()


def without_memory_growth_guard() -> str:
    text = render_rules()
    guard = (
        '\n      and\n      livify_process_resident_memory_bytes{job="livify"} - '
        'livify_process_resident_memory_bytes{job="livify"} offset 30m > 0\n'
        '      and\n      livify_process_resident_memory_bytes{job="livify"} '
        'offset 30m - livify_process_resident_memory_bytes{job="livify"} '
        "offset 1h > 0"
    )
    assert guard in text
    return text.replace(guard, "")


# Each case renders rules that are weaker than the shipped ones, names the
# unit-test file that must catch it, and the alert whose test must fail.
WEAKER_RULES: list[tuple[str, Callable[[], str], str, str]] = [
    (
        "symptom for 2m",
        lambda: render_rules(SLO(symptom_for_seconds=120)),
        "symptoms_test.yml",
        "LivifyHighP99Latency",
    ),
    (
        "page on a 10m long window",
        lambda: render_rules(
            SLO(
                page_windows=(
                    BurnRateWindow(
                        long_window_seconds=600,
                        short_window_seconds=300,
                        burn_rate=14.4,
                    ),
                )
            )
        ),
        "slo_fast_burn_test.yml",
        "LivifyAvailabilityErrorBudgetFastBurn",
    ),
    (
        "ticket on a 2h long window",
        lambda: render_rules(
            SLO(
                ticket_windows=(
                    BurnRateWindow(
                        long_window_seconds=7200,
                        short_window_seconds=3600,
                        burn_rate=3,
                    ),
                )
            )
        ),
        "slo_slow_burn_test.yml",
        "LivifyAvailabilityErrorBudgetSlowBurn",
    ),
    (
        "saturation for 4m",
        lambda: render_rules(SLO(saturation_for_seconds=240)),
        "saturation_test.yml",
        "LivifyInFlightRequestsHigh",
    ),
    (
        "memory growth without the guard",
        without_memory_growth_guard,
        "saturation_test.yml",
        "LivifyMemoryGrowth",
    ),
]


@pytest.mark.parametrize(
    ("render", "test_file", "alertname"),
    [case[1:] for case in WEAKER_RULES],
    ids=[case[0] for case in WEAKER_RULES],
)
def test_unit_tests_catch_weaker_rules(
    promtool: str,
    tmp_path: Path,
    render: Callable[[], str],
    test_file: str,
    alertname: str,
) -> None:
    """A weaker rule file makes the matching unit tests fail on that alert."""
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "livify.rules.yml").write_text(render(), encoding="utf-8")
    shutil.copytree(RULE_TESTS_DIR, tmp_path / "tests")

    result = run_tool(promtool, "test", "rules", tmp_path / "tests" / test_file)

    assert result.returncode != 0, describe(result)
    assert f"alertname: {alertname}," in result.stdout + result.stderr, describe(result)


def test_rules_read_known_series() -> None:
    """Rule expressions read only exported metrics and recorded rules."""
    groups = build_rule_groups(SLO())["groups"]
    rules = [rule for group in groups for rule in group["rules"]]
    known = exported_metric_names() | {
        rule["record"] for rule in rules if "record" in rule
    }

    for rule in rules:
        name = rule.get("record") or rule["alert"]
        names = metric_names(rule["expr"])

        assert names <= known, f"{name}: unknown {sorted(names - known)}"
