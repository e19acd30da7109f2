"""Settings from the environment and database URL handling."""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytest

from livify.app import create_app
from livify.cli import main
from livify.settings import Settings


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgresql://u@h/db", "postgresql+asyncpg://u@h/db"),
        ("postgres://u@h/db", "postgresql+asyncpg://u@h/db"),
        ("sqlite:///x.db", "sqlite+aiosqlite:///x.db"),
        ("postgresql+asyncpg://u@h/db", "postgresql+asyncpg://u@h/db"),
    ],
)
def test_database_url_gets_async_driver(given: str, expected: str) -> None:
    """Plain URLs are given the async driver livify uses."""
    assert Settings(database_url=given).resolved_database_url() == expected


def test_default_store_is_sqlite_file(tmp_path: Path) -> None:
    """With no URL the store is a SQLite file in the data directory."""
    settings = Settings(data_dir=tmp_path)

    assert settings.resolved_database_url() == (
        f"sqlite+aiosqlite:///{tmp_path / 'livify.sqlite3'}"
    )


def test_environment_sets_fields(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """LIVIFY_* variables fill the matching fields."""
    monkeypatch.setenv("LIVIFY_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("LIVIFY_MAX_BODY_BYTES", "2048")
    monkeypatch.setenv("LIVIFY_TOKEN_TTL_SECONDS", "60")

    settings = Settings()

    assert settings.data_dir == tmp_path
    assert settings.max_body_bytes == 2048
    assert settings.token_ttl_seconds == 60


@pytest.mark.parametrize("url", ["notaurl", "ftp://x", "http://"])
def test_moderation_url_must_be_http(url: str) -> None:
    """A moderation URL that no HTTP client can call is refused at start."""
    with pytest.raises(ValueError, match="http:// or https://"):
        Settings(moderation_url=url)


@pytest.mark.parametrize(
    "options",
    [
        ["--port", "99999"],
        ["--port", "http"],
        ["--latency-ms", "nan"],
        ["--latency-ms", "inf"],
        ["--latency-ms", "-1"],
        ["--error-rate", "2"],
    ],
)
def test_moderation_service_rejects_bad_switches(
    options: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    """Bad options of `livify moderation serve` exit 2 with one line, no traceback."""
    with contextlib.suppress(SystemExit):
        status = main(["moderation", "serve", *options])
        assert status == 2

    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert "LIVIFY_PORT" not in err
    assert err.strip()


def test_shedding_bounds_follow_a_lone_maximum(tmp_path: Path) -> None:
    """Setting only the maximum limit keeps the default minimum and start inside it."""
    settings = Settings(data_dir=tmp_path, secret_key="k" * 40, shedding_max_limit=2)

    create_app(settings)


@pytest.mark.parametrize(
    "command", ["serve", "seed", "migrate", "loadtest", "moderation serve"]
)
def test_unknown_option_shows_the_subcommand_usage(
    command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """The usage printed lists the options the subcommand does accept."""
    with pytest.raises(SystemExit) as exited:
        main([*command.split(), "--no-such-option"])

    err = capsys.readouterr().err
    assert exited.value.code == 2
    assert err.startswith(f"usage: livify {command} ")
    assert f"livify {command}: error: unrecognized arguments: --no-such-option" in err


def usage_error(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    """Run the CLI on `argv`, check it exits 2, and return what it wrote to stderr."""
    with pytest.raises(SystemExit) as exited:
        main(argv)

    assert exited.value.code == 2
    return capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "usage"),
    [
        (["--nope"], "usage: livify "),
        (["moderation", "--nope"], "usage: livify moderation "),
    ],
)
def test_unknown_option_before_subcommand_named(
    argv: list[str], usage: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """An unknown option before a missing subcommand is named, with its usage."""
    err = usage_error(argv, capsys)

    assert err.startswith(usage)
    assert "error: unrecognized arguments: --nope" in err
    assert "required" not in err


@pytest.mark.parametrize(
    ("argv", "usage"),
    [([], "usage: livify "), (["moderation"], "usage: livify moderation ")],
)
def test_missing_subcommand_reported(
    argv: list[str], usage: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """A command line without its subcommand names the missing command."""
    err = usage_error(argv, capsys)

    assert err.startswith(usage)
    assert "error: the following arguments are required: command" in err


def test_bad_option_is_named_as_given(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """An invalid --port is reported as --port, not as its environment variable."""
    # main() exports the option, so the variable goes back to its old state.
    monkeypatch.setenv("LIVIFY_PORT", "8000")
    status = main(["serve", "--port", "70000"])

    err = capsys.readouterr().err
    assert status == 2
    assert "--port '70000'" in err
    assert "LIVIFY_PORT" not in err
