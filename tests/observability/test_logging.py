"""configure_logging: JSON lines with secrets redacted."""

from __future__ import annotations

import json
import logging

import pytest
import structlog

from livify.observability import configure_logging


def test_json_lines_redact_secret_fields(capsys: pytest.CaptureFixture[str]) -> None:
    """Fields named like secrets are replaced before the line is written."""
    configure_logging(level="info", json=True)
    structlog.get_logger("test").info("user.login", password="hunter22", user_id=7)

    line = json.loads(capsys.readouterr().err.strip().splitlines()[-1])

    assert line["event"] == "user.login"
    assert line["password"] == "[redacted]"
    assert line["user_id"] == 7
    assert line["level"] == "info"
    assert "timestamp" in line


def test_standard_library_logs_become_json(capsys: pytest.CaptureFixture[str]) -> None:
    """Records from stdlib loggers, such as uvicorn's, share the JSON format."""
    configure_logging(level="info", json=True)
    logging.getLogger("uvicorn.error").warning("port %d in use", 8000)

    line = json.loads(capsys.readouterr().err.strip().splitlines()[-1])

    assert line["event"] == "port 8000 in use"
    assert line["logger"] == "uvicorn.error"


def test_unknown_level_rejected() -> None:
    """An unknown level name raises ValueError naming the accepted ones."""
    with pytest.raises(ValueError, match="debug, info, warning or error"):
        configure_logging(level="loud")
