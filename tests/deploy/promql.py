"""Find the metric names that a PromQL expression reads.

This is a small scanner for the expressions in the rules and the dashboard,
not a PromQL parser. It drops strings, label matchers, range and offset
durations, and label lists after `by`, `without`, `on`, `ignoring` and
`group_*`. Of the words left, it keeps those that are not keywords and not
followed by "(" (a function or an aggregation).
"""

from __future__ import annotations

import re

from prometheus_client import CollectorRegistry

from livify.observability import HttpServerMetrics, RuntimeMetrics

STRING = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'')
MATCHERS = re.compile(r"\{[^}]*\}")
RANGE = re.compile(r"\[[^\]]*\]")
OFFSET = re.compile(r"\boffset\s+\S+")
LABEL_LIST = re.compile(
    r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)"
)
WORD = re.compile(r"(?<![\w.$])[a-zA-Z_:][a-zA-Z0-9_:]*")
KEYWORDS = {"and", "or", "unless", "bool", "inf", "nan"}

SUFFIXES_BY_TYPE = {
    "histogram": ("_bucket", "_count", "_sum"),
    "counter": ("_total",),
}


def metric_names(expr: str) -> set[str]:
    """Return the metric and recording-rule names that `expr` selects."""
    text = STRING.sub('""', expr)
    text = MATCHERS.sub("", text)
    text = RANGE.sub("", text)
    text = OFFSET.sub("", text)
    text = LABEL_LIST.sub("", text)

    names = set()
    for match in WORD.finditer(text):
        word = match.group(0)
        is_call = text[match.end() :].lstrip().startswith("(")
        if not is_call and word.lower() not in KEYWORDS:
            names.add(word)

    return names


def exported_metric_names() -> set[str]:
    """Return the series names that livify's metrics export, plus `up`.

    The names come from the metric classes of the observability package, so
    a renamed metric fails the rule and dashboard tests. Prometheus adds `up`
    for every scrape target.
    """
    registry = CollectorRegistry()
    HttpServerMetrics(registry)
    RuntimeMetrics(registry)

    names = {"up"}
    for family in registry.collect():
        suffixes = SUFFIXES_BY_TYPE.get(family.type, ("",))
        names.update(family.name + suffix for suffix in suffixes)

    return names
