"""OpenAPI descriptions of the error responses, shared by the routers."""

from __future__ import annotations

from typing import Any

from livify.platform.schemas import ErrorResponse

_DESCRIPTIONS = {
    401: "Token missing, invalid or expired",
    403: "Only the author may change this resource",
    404: "No such resource",
    413: "Request body too large",
    422: "Invalid request",
}


def errors(*status_codes: int) -> dict[int | str, dict[str, Any]]:
    """Document error responses in the `{"errors": {...}}` format."""
    codes = sorted({422, 413, *status_codes})
    return {
        code: {"model": ErrorResponse, "description": _DESCRIPTIONS[code]}
        for code in codes
    }
