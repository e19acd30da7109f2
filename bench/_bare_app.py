"""A bare ASGI app that returns one fixed response, for the ceiling.

`bench/run.py` serves it with uvicorn exactly as `livify serve` serves
livify, so the ratio of a livify endpoint to this app is what livify's own
code costs on top of the server stack. By default the response is a small
JSON body. With `LIVIFY_BENCH_REPLAY` naming a file written by `bench/run.py`
(a JSON line of headers, then the body), it sends those exact headers and
body instead, so a larger response is compared with the same bytes.

Two controls measure what a requirement costs before any livify code runs.
`LIVIFY_BENCH_CONTROL=send-wrapper` puts one pure ASGI layer in front that
does nothing but wrap `send` and read the status: the least any middleware
that measures responses can do. `LIVIFY_BENCH_CONTROL=ratelimit-headers`
adds the five rate-limit header fields that livify sends on every limited
response, with values of the size livify's default limits give.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

BODY = b'{"tags":["python","webdev","programming","rust","devops"]}'
RATELIMIT_HEADERS = [
    (b"ratelimit-policy", b'"anonymous";q=100;w=60, "endpoint";q=600;w=60'),
    (b"ratelimit", b'"anonymous";r=99;t=60'),
    (b"x-ratelimit-limit", b"100"),
    (b"x-ratelimit-remaining", b"99"),
    (b"x-ratelimit-reset", b"60"),
]
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


CONTROL = os.environ.get("LIVIFY_BENCH_CONTROL", "")
if CONTROL == "ratelimit-headers":
    HEADERS = [*HEADERS, *RATELIMIT_HEADERS]


async def fixed_response(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return

    await send({"type": "http.response.start", "status": 200, "headers": HEADERS})
    await send({"type": "http.response.body", "body": BODY})


class SendWrapper:
    """A layer that only wraps `send` and reads the status, as metrics must."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.last_status = 0

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        async def send_with_status(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                self.last_status = message["status"]
            await send(message)

        await self.inner(scope, receive, send_with_status)


app: Any = SendWrapper(fixed_response) if CONTROL == "send-wrapper" else fixed_response
