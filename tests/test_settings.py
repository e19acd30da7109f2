"""Settings from the environment and database URL handling."""

from __future__ import annotations

from pathlib import Path

import pytest

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
