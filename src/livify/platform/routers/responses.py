"""OpenAPI descriptions of the error responses, shared by the routers."""

from __future__ import annotations

from typing import Any

from livify.platform.caching import CachedRead
from livify.platform.responses import JSONResponse
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


def cached_response(read: CachedRead) -> JSONResponse:
    """Return the body with a `Surrogate-Key` header naming what it shows.

    Edge caches index the response by these keys, and livify purges them
    after the writes that change it.
    """
    return JSONResponse(
        read.body, headers={"Surrogate-Key": " ".join(sorted(read.keys))}
    )
