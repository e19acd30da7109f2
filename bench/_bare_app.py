"""A bare ASGI app that returns one fixed response, for the ceiling.

`bench/run.py` serves it with uvicorn exactly as `livify serve` serves
livify, so the ratio of a livify endpoint to this app is what livify's own
code costs on top of the server stack. By default the response is a small
JSON body. With `LIVIFY_BENCH_REPLAY` naming a file written by `bench/run.py`
(a JSON line of headers, then the body), it sends those exact headers and
body instead, so a larger response is compared with the same bytes.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

BODY = b'{"tags":["python","webdev","programming","rust","devops"]}'
HEADERS = [
    (b"content-type", b"application/json"),
    (b"content-length", str(len(BODY)).encode()),
]


def load_replay(path: Path) -> tuple[list[tuple[bytes, bytes]], bytes]:
    """Read the headers and body that `bench/run.py` captured."""
    head, _, body = path.read_bytes().partition(b"\n")
    headers = [
        (name.encode("latin-1"), value.encode("latin-1"))
        for name, value in json.loads(head)
    ]
    return headers, body


if os.environ.get("LIVIFY_BENCH_REPLAY"):
    HEADERS, BODY = load_replay(Path(os.environ["LIVIFY_BENCH_REPLAY"]))


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return

    await send({"type": "http.response.start", "status": 200, "headers": HEADERS})
    await send({"type": "http.response.body", "body": BODY})
