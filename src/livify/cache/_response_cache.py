"""Replay cached responses to anonymous GETs before the router runs.

A hit costs a cache lookup and two ASGI messages, so the framework's
routing, dependency injection and validation run only on a miss. Only
requests without `Authorization` are served from here, and only `200`
responses are stored, so no caller ever receives another caller's view.

The caller supplies `tags_for(path, query_string)`, which returns the tags
of the response the path will produce, or None for paths never cached.
The tags are known before the application runs, so an invalidation that
races the miss is never lost (the cache reads tag versions first).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from livify.cache._cache import Cache
from livify.types import ASGIApp, Message, Receive, Scope, Send

TagsFor = Callable[[str, bytes], Sequence[str] | None]
# Per-request headers that must not be replayed to another caller.
UNSTORED_HEADERS = frozenset({b"set-cookie", b"date", b"x-request-id"})


@dataclass(frozen=True, slots=True)
class _RouteTemplate:
    """Stands in for the router's route on a hit, so metrics keep their label."""

    path: str


class _NotStored(Exception):
    """Carries a response that must not be stored out of the loader."""

    def __init__(self, start: Message, body: bytes) -> None:
        super().__init__("response not stored")
        self.start = start
        self.body = body


class ResponseCacheMiddleware:
    """Serve anonymous GETs from `cache`, keyed by path and query string."""

    def __init__(self, app: ASGIApp, *, cache: Cache, tags_for: TagsFor) -> None:
        self.app = app
        self.cache = cache
        self.tags_for = tags_for

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "GET":
            await self.app(scope, receive, send)
            return

        if any(name == b"authorization" for name, _ in scope["headers"]):
            await self.app(scope, receive, send)
            return

        tags = self.tags_for(scope["path"], scope["query_string"])
        if tags is None:
            await self.app(scope, receive, send)
            return

        key = f"{scope['path']}?{scope['query_string'].decode('latin-1')}"

        async def load() -> dict[str, Any]:
            return await self._run_app(scope, receive)

        try:
            stored = await self.cache.get_or_load(key, load, tags=tags)
        except _NotStored as skipped:
            await _send(send, skipped.start, skipped.body)
            return

        if stored["route"] is not None:
            scope["route"] = _RouteTemplate(stored["route"])

        start = {
            "type": "http.response.start",
            "status": stored["status"],
            "headers": [
                (name.encode("latin-1"), value.encode("latin-1"))
                for name, value in stored["headers"]
            ],
        }
        await _send(send, start, stored["body"].encode("latin-1"))

    async def _run_app(self, scope: Scope, receive: Receive) -> dict[str, Any]:
        start: Message | None = None
        chunks: list[bytes] = []

        async def capture(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        await self.app(scope, receive, capture)
        if start is None:
            msg = "the application sent no response"
            raise RuntimeError(msg)

        body = b"".join(chunks)
        if start["status"] != 200:
            raise _NotStored(start, body)

        route = getattr(scope.get("route"), "path", None)
        return {
            "status": start["status"],
            "headers": [
                [name.decode("latin-1"), value.decode("latin-1")]
                for name, value in start.get("headers", [])
                if name.lower() not in UNSTORED_HEADERS
            ],
            # latin-1 maps every byte to one character, so any body survives.
            "body": body.decode("latin-1"),
            "route": route if isinstance(route, str) else None,
        }


async def _send(send: Send, start: Message, body: bytes) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": start["status"],
            "headers": list(start.get("headers", [])),
        }
    )
    await send({"type": "http.response.body", "body": body, "more_body": False})
