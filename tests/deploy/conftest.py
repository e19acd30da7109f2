"""Fixtures that locate the real Prometheus tools for the deploy tests."""

from __future__ import annotations

import pytest

from tests.deploy.tools import require_tool


@pytest.fixture(scope="session")
def promtool() -> str:
    """Path of promtool (Debian package `prometheus`)."""
    return require_tool("promtool")


@pytest.fixture(scope="session")
def amtool() -> str:
    """Path of amtool (Debian package `prometheus-alertmanager`)."""
    return require_tool("amtool")
