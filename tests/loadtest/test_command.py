"""Options of `livify loadtest` and its exit status for an unreachable target."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from livify.loadtest._command import parse_duration, parse_share, parse_think_time
from tests.live.server import find_free_port
from tests.loadtest.conftest import run_loadtest


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("30", 30.0), ("30s", 30.0), ("500ms", 0.5), ("2m", 120.0), ("1h", 3600.0)],
)
def test_parse_duration(text: str, seconds: float) -> None:
    """Durations accept seconds and the units ms, s, m and h."""
    assert parse_duration(text) == pytest.approx(seconds)


def test_parse_duration_rejects_other_units() -> None:
    """An unknown unit names the accepted forms."""
    with pytest.raises(argparse.ArgumentTypeError, match="500ms, 30s, 2m"):
        parse_duration("3 days")


def test_parse_share_and_think_time() -> None:
    """Shares take percent or a ratio; think time takes MIN-MAX or one value."""
    assert parse_share("30%") == pytest.approx(0.3)
    assert parse_share("0.25") == pytest.approx(0.25)
    with pytest.raises(argparse.ArgumentTypeError, match="0% to 100%"):
        parse_share("150%")

    assert parse_think_time("0.5-2s") == (0.5, 2.0)
    assert parse_think_time("100ms") == (0.1, 0.1)
    with pytest.raises(argparse.ArgumentTypeError, match="below the minimum"):
        parse_think_time("2-1")


def test_unreachable_target_exits_with_two(tmp_path: Path) -> None:
    """A target that accepts no connection fails at once with exit status 2."""
    url = f"http://127.0.0.1:{find_free_port()}"
    run = run_loadtest(
        [url, "--users", "2", "--ramp", "0", "--duration", "1s", "--quiet"],
        json_path=tmp_path / "result.json",
    )
    assert run.returncode == 2
    assert f"cannot reach {url}" in run.stderr
    assert run.result is None


@pytest.mark.parametrize("url", ["ftp://127.0.0.1:1", "localhost:8000"])
def test_non_http_url_rejected(url: str, tmp_path: Path) -> None:
    """Only http:// and https:// targets are accepted."""
    run = run_loadtest([url, "--quiet"], json_path=tmp_path / "result.json")

    assert run.returncode == 2
    assert "must start with http:// or https://" in run.stderr


def test_missing_output_directory_rejected(tmp_path: Path) -> None:
    """An output path in a missing directory fails before any load is sent."""
    url = f"http://127.0.0.1:{find_free_port()}"
    run = run_loadtest([url, "--quiet"], json_path=tmp_path / "missing" / "r.json")

    assert run.returncode == 2
    assert "its directory does not exist" in run.stderr


def test_bad_load_rejected_before_local_server(tmp_path: Path) -> None:
    """A bad load fails with exit 2 before a local target server is started."""
    run = run_loadtest(["--users", "-5", "--quiet"], json_path=tmp_path / "r.json")

    assert run.returncode == 2
    assert "load must be positive" in run.stderr
    assert "starting a seeded local" not in run.stderr
