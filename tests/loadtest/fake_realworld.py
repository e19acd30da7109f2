"""A tiny RealWorld-shaped HTTP server on loopback, for load-test tests.

It serves the paths the journeys use with small fixed bodies, counts the
requests it served, and can stall: the first request after
`stall_after_seconds` holds a lock for `stall_seconds`, and every request
takes that lock, so the whole server stops responding meanwhile, as during
a long garbage-collection pause or a blocked event loop.
"""

from __future__ import annotations

import itertools
import json
import re
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

HOST = "127.0.0.1"
ARTICLES = [
    {
        "slug": f"article-{number}",
        "title": f"Article {number}",
        "favoritesCount": 100 - number,
        "tagList": ["python", "web"] if number % 2 else ["python"],
        "author": {"username": f"author{number % 5}"},
    }
    for number in range(30)
]
_TEMPLATES = (
    (
        re.compile(r"^/api/articles/[^/]+/comments/[^/]+$"),
        "/api/articles/{slug}/comments/{id}",
    ),
    (re.compile(r"^/api/articles/[^/]+/comments$"), "/api/articles/{slug}/comments"),
    (re.compile(r"^/api/articles/[^/]+/favorite$"), "/api/articles/{slug}/favorite"),
    (re.compile(r"^/api/articles/feed$"), "/api/articles/feed"),
    (re.compile(r"^/api/articles/[^/]+$"), "/api/articles/{slug}"),
    (re.compile(r"^/api/profiles/[^/]+/follow$"), "/api/profiles/{username}/follow"),
    (re.compile(r"^/api/profiles/[^/]+$"), "/api/profiles/{username}"),
)


def route_of(path: str) -> str:
    for pattern, template in _TEMPLATES:
        if pattern.match(path):
            return template
    return path


class FakeRealWorld:
    """The server, started in a thread by `with FakeRealWorld() as server`."""

    def __init__(
        self, *, stall_after_seconds: float | None = None, stall_seconds: float = 0.0
    ) -> None:
        self.counts: Counter[str] = Counter()
        self.stall_after_seconds = stall_after_seconds
        self.stall_seconds = stall_seconds
        self.stalled_at: float | None = None
        self.started_at = time.monotonic()
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._server = ThreadingHTTPServer((HOST, 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self._server.server_address[1]}"

    def __enter__(self) -> FakeRealWorld:
        self.started_at = time.monotonic()
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def answer(self, method: str, path: str) -> tuple[int, Any]:
        """Count the request, stall if due, and return status and body."""
        self._maybe_stall()
        with self._lock:
            self.counts[f"{method} {route_of(path)}"] += 1
            next_id = next(self._ids)
        return _body(method, path, next_id)

    def _maybe_stall(self) -> None:
        due = self.stall_after_seconds
        if due is None or time.monotonic() - self.started_at < due:
            return

        with self._lock:
            if self.stalled_at is None:
                self.stalled_at = time.monotonic()
                time.sleep(self.stall_seconds)

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _respond(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    self.rfile.read(length)
                status, body = fake.answer(self.command, urlsplit(self.path).path)
                payload = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_PUT = do_DELETE = _respond

        return Handler


def _body(method: str, path: str, next_id: int) -> tuple[int, Any]:
    route = route_of(path)
    if method == "GET" and path == "/api/tags":
        return 200, {"tags": ["python", "web", "rust"]}
    if method == "GET" and path in {"/api/articles", "/api/articles/feed"}:
        return 200, {"articles": ARTICLES, "articlesCount": len(ARTICLES)}
    if method == "POST" and path == "/api/users":
        return 201, {"user": {"username": f"user{next_id}", "token": f"token{next_id}"}}
    if method == "POST" and path == "/api/articles":
        return 201, {"article": {"slug": f"new-{next_id}"}}
    if method == "POST" and route == "/api/articles/{slug}/comments":
        return 201, {"comment": {"id": next_id, "body": "ok"}}
    if method == "GET" and route == "/api/articles/{slug}/comments":
        return 200, {"comments": []}
    if method == "DELETE":
        return 200, {}
    return 200, {"article": ARTICLES[0], "profile": {"username": "author0"}}
