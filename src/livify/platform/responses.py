"""The JSON response class of the API, serialised by orjson."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.responses import Response


class JSONResponse(Response):
    """Serialise with orjson; keys with None values are kept, as clients expect."""

    media_type = "application/json; charset=utf-8"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)
