"""The Grafana dashboard is well formed and queries only known series."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.deploy.promql import exported_metric_names, metric_names
from tests.deploy.tools import DASHBOARD_FILE, RULES_FILE, describe, run_tool

GRID_COLUMNS = 24

# Values that stand in for the dashboard variables when promtool parses a
# panel query, as Grafana would substitute them.
VARIABLE_VALUES = {
    "$__rate_interval": "1m",
    "$route": ".*",
    "$instance": ".*",
}

REQUIRED_TITLE_WORDS = [
    "p50",
    "p95",
    "p99",
    "requests per second by route",
    "error ratio",
    "in flight",
    "event-loop lag",
    "database pool",
    "memory",
    "cpu",
    "availability error budget burn rate",
    "latency error budget burn rate",
]


def load_dashboard() -> dict[str, Any]:
    return json.loads(DASHBOARD_FILE.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def graph_panels() -> list[dict[str, Any]]:
    """Every panel of the dashboard that is not a row."""
    return [panel for panel in load_dashboard()["panels"] if panel["type"] != "row"]


def panel_queries() -> list[tuple[str, str]]:
    """Pairs of panel title and PromQL expression for every target."""
    return [
        (panel["title"], target["expr"])
        for panel in graph_panels()
        for target in panel["targets"]
    ]


def recorded_names() -> set[str]:
    groups = yaml.safe_load(RULES_FILE.read_text(encoding="utf-8"))["groups"]
    return {
        rule["record"]
        for group in groups
        for rule in group["rules"]
        if "record" in rule
    }


def test_dashboard_metadata() -> None:
    """The dashboard has a stable uid, a title and schema version 39."""
    dashboard = load_dashboard()

    assert dashboard["uid"] == "livify-golden-signals"
    assert dashboard["title"] == "livify golden signals"
    assert dashboard["schemaVersion"] == 39


def test_dashboard_variables() -> None:
    """Data source, route and instance variables exist."""
    variables = {item["name"]: item for item in load_dashboard()["templating"]["list"]}

    assert set(variables) == {"datasource", "route", "instance"}
    assert variables["datasource"]["type"] == "datasource"
    assert variables["datasource"]["query"] == "prometheus"
    assert variables["route"]["includeAll"] is True
    assert variables["route"]["multi"] is True
    assert "http_route" in variables["route"]["definition"]


def test_panels_have_unique_ids() -> None:
    """No two panels share an id."""
    ids = [panel["id"] for panel in load_dashboard()["panels"]]

    assert len(ids) == len(set(ids))


def test_panels_fit_the_grid() -> None:
    """Every panel lies inside the 24-column grid and no two overlap."""
    occupied: set[tuple[int, int]] = set()

    for panel in load_dashboard()["panels"]:
        grid = panel["gridPos"]
        cells = {
            (grid["x"] + column, grid["y"] + row)
            for column in range(grid["w"])
            for row in range(grid["h"])
        }

        assert grid["x"] + grid["w"] <= GRID_COLUMNS, panel["title"]
        assert not cells & occupied, panel["title"]
        occupied |= cells


def test_panels_use_datasource_variable() -> None:
    """Panels and targets query the data source chosen in the variable."""
    for panel in graph_panels():
        assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}
        assert panel["targets"], panel["title"]
        for target in panel["targets"]:
            assert target["datasource"] == panel["datasource"], panel["title"]


def test_golden_signal_panels_present() -> None:
    """Latency, traffic, errors, saturation and burn-rate panels exist."""
    titles = " | ".join(panel["title"].lower() for panel in graph_panels())

    for words in REQUIRED_TITLE_WORDS:
        assert words in titles


def test_queries_read_known_series() -> None:
    """Each query reads only exported metrics and recorded rules."""
    known = exported_metric_names() | recorded_names()

    for title, expr in panel_queries():
        names = metric_names(expr)

        assert names, f"{title}: no metric found in {expr!r}"
        assert names <= known, f"{title}: unknown {sorted(names - known)}"


def test_route_queries_filter_by_route() -> None:
    """A query that reads per-route series applies the route variable."""
    for title, expr in panel_queries():
        if "http_route" in expr:
            assert 'http_route=~"$route"' in expr, title


def test_queries_pass_promtool(promtool: str, tmp_path: Path) -> None:
    """promtool parses every panel query, with the variables filled in."""
    rules = []
    for index, (_, expr) in enumerate(panel_queries()):
        for variable, value in VARIABLE_VALUES.items():
            expr = expr.replace(variable, value)

        assert "$" not in expr
        rules.append({"record": f"dashboard:query_{index}:check", "expr": expr})

    path = tmp_path / "dashboard-queries.yml"
    path.write_text(
        yaml.safe_dump({"groups": [{"name": "dashboard", "rules": rules}]}),
        encoding="utf-8",
    )
    result = run_tool(promtool, "check", "rules", path)

    assert result.returncode == 0, describe(result)


@pytest.mark.parametrize("variable", ["route", "instance"])
def test_variable_queries_read_known_series(variable: str) -> None:
    """The variables list values from series that exist."""
    variables = {item["name"]: item for item in load_dashboard()["templating"]["list"]}
    query = variables[variable]["definition"]
    match = re.fullmatch(r"label_values\((.+), (\w+)\)", query)

    assert match is not None, query
    assert metric_names(match.group(1)) <= exported_metric_names() | recorded_names()
