"""The JSON response class of the API, serialised by orjson."""

from __future__ import annotations

from typing import Any

import orjson
from starlette import responses


class JSONResponse(responses.JSONResponse):
    """Serialise with orjson; keys with None values are kept, as clients expect.

    Subclassing Starlette's JSONResponse makes FastAPI document each route's
    `response_model` in OpenAPI. With any other class, FastAPI documents the
    body as a string.
    """

    media_type = "application/json; charset=utf-8"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)
