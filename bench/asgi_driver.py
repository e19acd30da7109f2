"""Drive an ASGI app in-process with a bare GET, for benchmarks.

No HTTP client and no server sit in between, so the app's own cost is all
that is measured.
"""

from __future__ import annotations

import time
from typing import Any


async def get(app: Any, path: str) -> int:
    """Send one GET for `path` through the ASGI interface; return the status."""
    status = 0

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"bench")],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
    }
    await app(scope, receive, send)
    return status


async def requests_per_second(app: Any, path: str, count: int) -> float:
    """Send `count` GETs for `path` one after another; return their rate.

    Raises RuntimeError on any status other than 200, so an error page is
    never timed as if it were the real response.
    """
    started = time.perf_counter()
    for _ in range(count):
        status = await get(app, path)
        if status != 200:
            msg = f"GET {path} returned {status}"
            raise RuntimeError(msg)
    return count / (time.perf_counter() - started)


async def cpu_microseconds_per_request(app: Any, path: str, count: int) -> float:
    """Send `count` GETs for `path`; return this thread's CPU time per request.

    CPU time leaves out the time other processes on the machine take the
    core away, so it drifts less than a rate measured on the wall clock.
    Only for requests whose work stays on this thread (a cache hit, no
    database call in a worker thread). Raises RuntimeError on a status
    other than 200.
    """
    started = time.thread_time()
    for _ in range(count):
        status = await get(app, path)
        if status != 200:
            msg = f"GET {path} returned {status}"
            raise RuntimeError(msg)
    return (time.thread_time() - started) / count * 1e6
