"""The SLO object, its validation, and the rule file rendered from it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from prometheus_client.utils import floatToGoString

from livify.observability._metrics import LATENCY_BUCKETS_SECONDS
from livify.observability.slo import (
    DEFAULT_PAGE_WINDOWS,
    SLO,
    BurnRateWindow,
    build_rule_groups,
    main,
    render_rules,
)
from tests.deploy.tools import ALERTS_DOC, RULES_FILE

REGENERATE = (
    "python -m livify.observability.slo"
    " --output deploy/prometheus/rules/livify.rules.yml"
)


def rules_by_name(slo: SLO) -> dict[str, dict[str, Any]]:
    """Map each alert name to its rule, for the rule groups of `slo`."""
    return {
        rule["alert"]: rule
        for group in build_rule_groups(slo)["groups"]
        for rule in group["rules"]
        if "alert" in rule
    }


def test_committed_rules_match_generator() -> None:
    """The shipped rule file is the generator's output for the default SLO."""
    committed = RULES_FILE.read_text(encoding="utf-8")

    assert committed == render_rules(), f"rule file is stale, run `{REGENERATE}`"


def test_rendered_rules_parse_as_yaml() -> None:
    """The rendered text loads back into the same groups."""
    loaded = yaml.safe_load(render_rules())

    assert loaded == build_rule_groups(SLO())


def test_default_error_budgets() -> None:
    """Budgets are 1 minus the objective, without float noise."""
    slo = SLO()

    assert slo.availability_error_budget == 0.001
    assert slo.latency_error_budget == 0.01


def test_custom_slo_changes_thresholds() -> None:
    """Objectives and thresholds from the SLO object reach the expressions."""
    slo = SLO(
        availability_objective=0.995,
        latency_objective=0.95,
        latency_threshold_seconds=1.0,
        p99_alert_threshold_seconds=2.0,
        memory_limit_bytes=4 * 1024**3,
    )
    text = render_rules(slo)
    alerts = rules_by_name(slo)

    assert "(14.4 * 0.005)" in str(
        alerts["LivifyAvailabilityErrorBudgetFastBurn"]["expr"]
    )
    assert "(14.4 * 0.05)" in str(alerts["LivifyLatencyErrorBudgetFastBurn"]["expr"])
    assert 'le="1.0"' in text
    assert 'le="0.5"' not in text
    assert "> 2\n" in str(alerts["LivifyHighP99Latency"]["expr"])
    assert "> 4294967296" in str(alerts["LivifyMemoryGrowth"]["expr"])


@pytest.mark.parametrize("bound", LATENCY_BUCKETS_SECONDS)
def test_bucket_label_matches_exposition(bound: float) -> None:
    """The `le` value in the rules is the one prometheus_client exports."""
    text = render_rules(SLO(latency_threshold_seconds=bound))
    exported = floatToGoString(bound)  # type: ignore[no-untyped-call]

    assert f'le="{exported}"' in text


def test_custom_job_and_team_labels() -> None:
    """The job selector and the team label come from the SLO."""
    slo = SLO(job="api", team="platform")
    alerts = rules_by_name(slo)

    assert 'job="api"' in render_rules(slo)
    assert 'job="livify"' not in render_rules(slo)
    assert all(rule["labels"]["team"] == "platform" for rule in alerts.values())


def test_job_quotes_are_escaped() -> None:
    """A quote in the job name cannot end the label matcher early."""
    text = render_rules(SLO(job='we"ird'))

    assert 'job="we\\"ird"' in text


def test_every_alert_has_routing_labels() -> None:
    """Alerts carry a known severity, the team, and an anchored runbook URL."""
    for name, rule in rules_by_name(SLO()).items():
        labels = rule["labels"]
        annotations = rule["annotations"]

        assert labels["severity"] in {"critical", "warning", "info"}, name
        assert labels["team"] == "livify", name
        assert set(annotations) == {"summary", "description", "runbook_url"}, name
        assert annotations["runbook_url"] == f"docs/alerts.md#{name.lower()}"


def test_burn_rate_alerts_carry_slo_label() -> None:
    """Each burn-rate alert names its SLO for inhibition and routing."""
    alerts = rules_by_name(SLO())

    for objective in ("Availability", "Latency"):
        page = alerts[f"Livify{objective}ErrorBudgetFastBurn"]
        ticket = alerts[f"Livify{objective}ErrorBudgetSlowBurn"]

        assert page["labels"] == {
            "severity": "critical",
            "team": "livify",
            "slo": objective.lower(),
        }
        assert ticket["labels"] == {
            "severity": "warning",
            "team": "livify",
            "slo": objective.lower(),
        }


def test_recording_windows_cover_burn_windows() -> None:
    """Every window of a burn-rate pair has a recorded error ratio."""
    recorded = {
        rule["record"]
        for group in build_rule_groups(SLO())["groups"]
        for rule in group["rules"]
        if "record" in rule
    }

    for window in ("5m", "30m", "1h", "2h", "6h", "1d", "3d"):
        assert f"job:slo_errors:ratio_rate{window}" in recorded


def test_custom_windows_are_recorded() -> None:
    """A window pair outside the defaults gets its own recording rules."""
    slo = SLO(
        page_windows=(
            BurnRateWindow(
                long_window_seconds=2 * 3600, short_window_seconds=600, burn_rate=10
            ),
        )
    )
    text = render_rules(slo)

    assert "record: job:slo_errors:ratio_rate2h" in text
    assert "record: job:slo_errors:ratio_rate10m" in text
    assert 'job:slo_errors:ratio_rate10m{slo="latency"} > (10 * 0.01)' in text


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"availability_objective": 1.0}, "availability_objective"),
        ({"availability_objective": 99.9}, "availability_objective"),
        ({"latency_objective": 0}, "latency_objective"),
        ({"latency_threshold_seconds": 0.3}, "bucket bound"),
        ({"error_ratio_alert_threshold": 1.5}, "error_ratio_alert_threshold"),
        ({"db_pool_utilisation_alert_threshold": 0}, "db_pool_utilisation"),
        ({"p99_alert_threshold_seconds": 0}, "p99_alert_threshold_seconds"),
        ({"memory_limit_bytes": -1}, "memory_limit_bytes"),
        ({"symptom_min_request_rate": float("inf")}, "symptom_min_request_rate"),
        ({"job": ""}, "job"),
        ({"page_windows": ()}, "page_windows"),
        # 14.4 times a 10% budget is over 100% errors: the page could never fire.
        ({"availability_objective": 0.9}, "can never fire"),
    ],
)
def test_invalid_slo_raises(options: dict[str, Any], message: str) -> None:
    """Out-of-range targets raise ValueError naming the field."""
    with pytest.raises(ValueError, match=message):
        SLO(**options)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (
            {"long_window_seconds": 300, "short_window_seconds": 300, "burn_rate": 2},
            "longer than",
        ),
        (
            {"long_window_seconds": 3600, "short_window_seconds": 0, "burn_rate": 2},
            "short_window_seconds",
        ),
        (
            {"long_window_seconds": 3600, "short_window_seconds": 300, "burn_rate": 0},
            "burn_rate",
        ),
    ],
)
def test_invalid_burn_window_raises(options: dict[str, Any], message: str) -> None:
    """A burn window needs a shorter short window and a positive rate."""
    with pytest.raises(ValueError, match=message):
        BurnRateWindow(**options)


def test_odd_window_renders_in_seconds() -> None:
    """A window that is no whole number of minutes renders as seconds."""
    window = BurnRateWindow(
        long_window_seconds=3600, short_window_seconds=90, burn_rate=14.4
    )
    text = render_rules(SLO(page_windows=(window, *DEFAULT_PAGE_WINDOWS[1:])))

    assert "record: job:slo_errors:ratio_rate90s" in text


def test_main_writes_output_file(tmp_path: Path) -> None:
    """`main --output` writes the default rule file."""
    output = tmp_path / "livify.rules.yml"

    assert main(["--output", str(output)]) == 0
    assert output.read_text(encoding="utf-8") == render_rules()


def test_main_prints_to_stdout(capsys: pytest.CaptureFixture[str]) -> None:
    """`main` without options prints the default rule file."""
    assert main([]) == 0
    assert capsys.readouterr().out == render_rules()


def test_every_alert_has_runbook_section() -> None:
    """docs/alerts.md has a heading for each alert that its runbook URL targets."""
    headings = {
        line.removeprefix("### ").strip()
        for line in ALERTS_DOC.read_text(encoding="utf-8").splitlines()
        if line.startswith("### ")
    }

    for name in rules_by_name(SLO()):
        assert name in headings
