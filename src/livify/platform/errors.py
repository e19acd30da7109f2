"""API errors and their rendering as `{"errors": {field: [message, ...]}}`.

ApiError
 ├── Unauthorized     401: token missing, malformed or expired
 ├── Forbidden        403: the caller may not change this resource
 ├── NotFound         404: no such user, article or comment
 ├── Unprocessable    422: the request is well formed but breaks a rule
 └── TooManyRequests  429: past a rate limit that the app checks itself
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson
import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from livify.db import DatabaseUnavailable
from livify.platform.responses import JSONResponse
from livify.resilience import RequestBodyTooLarge

logger = structlog.get_logger(__name__)

DATABASE_RETRY_AFTER_SECONDS = 5


class ApiError(Exception):
    """An error with an HTTP status and field messages for the client."""

    status_code = 400
    headers: dict[str, str] | None = None

    def __init__(self, field: str, *messages: str) -> None:
        super().__init__(f"{field}: {', '.join(messages)}")
        self.errors = {field: list(messages)}


class Unauthorized(ApiError):
    status_code = 401


class Forbidden(ApiError):
    status_code = 403


class NotFound(ApiError):
    status_code = 404


class Unprocessable(ApiError):
    status_code = 422


class TooManyRequests(ApiError):
    """The 429 of a limit that the app checks itself.

    `headers` are that limit's rate limit fields, `Retry-After` included.
    """

    status_code = 429

    def __init__(self, field: str, message: str, *, headers: Mapping[str, str]) -> None:
        super().__init__(field, message)
        self.headers = dict(headers)


def error_response(
    status_code: int,
    errors: dict[str, list[str]],
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    return JSONResponse({"errors": errors}, status_code=status_code, headers=headers)


def overloaded_body(retry_after_seconds: int) -> bytes:
    """Return the 503 body that load shedding sends, in the API's format."""
    message = f"is overloaded, retry after {retry_after_seconds} seconds"
    return orjson.dumps({"errors": {"server": [message]}})


def deadline_exceeded_body(timeout_seconds: float) -> bytes:
    """Return the 504 body sent when a request runs past its deadline."""
    message = f"did not finish within {timeout_seconds:g} seconds"
    return orjson.dumps({"errors": {"request": [message]}})


def install_error_handlers(app: FastAPI) -> None:
    """Render every expected error in the API's error format."""
    app.add_exception_handler(ApiError, _handle_api_error)
    app.add_exception_handler(RequestValidationError, _handle_validation_error)
    app.add_exception_handler(StarletteHTTPException, _handle_http_exception)
    app.add_exception_handler(DatabaseUnavailable, _handle_database_unavailable)


async def _handle_api_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    headers = {"WWW-Authenticate": "Token"} if isinstance(exc, Unauthorized) else None
    return error_response(exc.status_code, exc.errors, headers or exc.headers)


async def _handle_validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors: dict[str, list[str]] = {}
    for error in exc.errors():
        field, message = describe_validation_error(error)
        errors.setdefault(field, []).append(message)

    return error_response(422, errors)


async def _handle_http_exception(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    if isinstance(exc, RequestBodyTooLarge):
        return error_response(413, {"body": [str(exc.detail)]})

    if exc.status_code == 400 and isinstance(
        exc.__cause__, UnicodeDecodeError | RecursionError | ValueError
    ):
        # FastAPI returns 400 when the body is not UTF-8 or nests too deeply
        # for its JSON parser, and 422 for every other body that is not JSON,
        # so these get 422 too.
        return error_response(422, {"body": ["is not valid JSON"]})

    message = str(exc.detail).lower() if exc.detail else "request failed"
    return error_response(exc.status_code, {"request": [message]}, exc.headers)


async def _handle_database_unavailable(
    _request: Request, exc: Exception
) -> JSONResponse:
    logger.error("db.unavailable", error=str(exc))
    return error_response(
        503,
        {"database": ["is unavailable, retry later"]},
        {"Retry-After": str(DATABASE_RETRY_AFTER_SECONDS)},
    )


def describe_validation_error(error: dict[str, Any]) -> tuple[str, str]:
    """Turn one pydantic error into a field name and a short message.

    The field is the last named part of the location (`user.email` gives
    `email`), so clients see the field they sent. A body that is missing or
    not JSON is reported under `body`.
    """
    location = [part for part in error.get("loc", ()) if isinstance(part, str)]
    field = location[-1] if location else "body"
    kind = error.get("type", "")
    context = error.get("ctx") or {}

    if kind == "json_invalid":
        return "body", "is not valid JSON"

    if kind == "missing":
        return field, "is missing"

    if kind == "string_too_short":
        minimum = context.get("min_length", 1)
        if minimum <= 1:
            return field, "can't be empty"
        return field, f"is too short (minimum is {minimum} characters)"

    if kind == "string_too_long":
        maximum = context.get("max_length")
        return field, f"is too long (maximum is {maximum} characters)"

    if kind == "too_long":
        maximum = context.get("max_length")
        return field, f"has too many items (maximum is {maximum})"

    message = str(error.get("msg", "is invalid"))
    message = message.removeprefix("Value error, ")
    return field, message[:1].lower() + message[1:]
