"""A bare ASGI app that returns one fixed small JSON body, for the ceiling.

`bench/run.py` serves it with uvicorn exactly as `livify serve` serves
livify, so the ratio of a livify endpoint to this app is what livify's own
code costs on top of the server stack.
"""

from __future__ import annotations

from typing import Any

BODY = b'{"tags":["python","webdev","programming","rust","devops"]}'
HEADERS = [
    (b"content-type", b"application/json"),
    (b"content-length", str(len(BODY)).encode()),
]


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return

    await send({"type": "http.response.start", "status": 200, "headers": HEADERS})
    await send({"type": "http.response.body", "body": BODY})
