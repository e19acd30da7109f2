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


def test_uvicorn_exception_gets_event_name(capsys: pytest.CaptureFixture[str]) -> None:
    """An exception logged by uvicorn gets an event name and keeps its traceback."""
    configure_logging(level="info", json=True)
    try:
        raise RuntimeError("handler broke")
    except RuntimeError as exc:
        logging.getLogger("uvicorn.error").error(
            "Exception in ASGI application\n", exc_info=exc
        )

    line = json.loads(capsys.readouterr().err.strip().splitlines()[-1])

    assert line["event"] == "http.unhandled_exception"
    assert line["logger"] == "uvicorn.error"
    assert line["level"] == "error"
    assert "Traceback" in line["exception"]
    assert "RuntimeError: handler broke" in line["exception"]


def test_uvicorn_arguments_become_fields(capsys: pytest.CaptureFixture[str]) -> None:
    """The arguments of a known uvicorn message become named fields."""
    configure_logging(level="info", json=True)
    logging.getLogger("uvicorn.error").info(
        "Uvicorn running on %s://%s:%d (Press CTRL+C to quit)",
        "http",
        "127.0.0.1",
        8000,
    )

    line = json.loads(capsys.readouterr().err.strip().splitlines()[-1])

    assert line["event"] == "server.listening"
    assert line["scheme"] == "http"
    assert line["host"] == "127.0.0.1"
    assert line["port"] == 8000


def test_other_library_lines_unchanged(capsys: pytest.CaptureFixture[str]) -> None:
    """A message from another logger keeps its text as the event and no extra fields."""
    configure_logging(level="info", json=True)
    logging.getLogger("alembic").info("Shutting down")
    logging.getLogger("alembic").info("Running upgrade %s -> %s", "a1", "b2")

    lines = [json.loads(text) for text in capsys.readouterr().err.splitlines()]

    assert lines[-2]["event"] == "Shutting down"
    assert lines[-1]["event"] == "Running upgrade a1 -> b2"
    assert set(lines[-1]) == {"event", "logger", "level", "timestamp"}
