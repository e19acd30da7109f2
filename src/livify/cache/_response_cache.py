"""Replay cached responses to anonymous GETs before the framework runs.

The middleware sits outside compression and the HTTP cache headers, so it
stores the finished response (ETag, Cache-Control, Vary, gzip already
applied) and a hit costs one cache lookup and two ASGI messages: the
framework's routing, dependency injection and validation, the ETag hash and
the compression all run only on a miss. A hit responds to `If-None-Match`
with `304` itself. Responses are stored per variant: with and without gzip.

Only requests without `Authorization` are served from here, and only `200`
responses are stored, so no caller ever receives another caller's view.

The caller supplies `tags_for(path, query_string)`, which returns the tags
of the response the path will produce, or None for paths never cached. It
must depend on the URL alone, because its results are memoized.
The tags are known before the application runs, so an invalidation that
races the miss is never lost (the cache reads tag versions first).

When the application fails (an exception or a 5xx answer) and this process
still has a copy that expired within the cache's `stale_if_error_seconds`,
that copy is served, marked with a `Cache-Status` header (RFC 9211) and
`Cache-Control: no-store` so that no shared cache keeps it as fresh.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import orjson
import structlog

from livify.cache._cache import MAX_KEY_CHARS, Cache
from livify.cache._http_headers import (
    accepts_gzip,
    matches_if_none_match,
    not_modified_headers,
)
from livify.types import ASGIApp, Message, Receive, Scope, Send

logger = structlog.get_logger("livify.cache")

TagsFor = Callable[[str, bytes], Sequence[str] | None]
Headers = list[tuple[bytes, bytes]]
# Per-request headers that must not be replayed to another caller.
UNSTORED_HEADERS = frozenset({b"set-cookie", b"date", b"x-request-id"})
# Request headers that make the loaded response differ from the stored one.
CONDITIONAL_HEADERS = frozenset({b"if-none-match", b"if-modified-since"})
STALE_IF_ERROR_STATUS = b"livify; fwd=stale; detail=stale-if-error"
# Appended to the key of a gzip-encoded variant.
GZIP_KEY_SUFFIX = "#gzip"
# Parsed replays and tags kept per URL; past this many a memo starts over.
MAX_MEMOIZED_URLS = 4096


@dataclass(frozen=True, slots=True)
class _RouteTemplate:
    """Stands in for the router's route on a hit, so metrics keep their label."""

    path: str


@dataclass(frozen=True, slots=True)
class _Replay:
    """A stored response, parsed once and replayed to every hit."""

    status: int
    headers: Headers
    body: bytes
    etag: bytes | None
    route: _RouteTemplate | None

    @classmethod
    def parse(cls, stored: bytes) -> _Replay:
        # orjson escapes newlines, so the first one ends the JSON head.
        head, _, body = stored.partition(b"\n")
        status, headers, route = orjson.loads(head)
        encoded = [
            (name.encode("latin-1"), value.encode("latin-1")) for name, value in headers
        ]
        etag = next((value for name, value in encoded if name == b"etag"), None)
        return cls(
            status=status,
            headers=encoded,
            body=body,
            etag=etag,
            route=_RouteTemplate(route) if isinstance(route, str) else None,
        )


@dataclass(frozen=True, slots=True)
class _CachedUrl:
    """The cache key and the tags of one URL in one content coding."""

    key: str
    tags: Sequence[str]


class _NotStored(Exception):
    """Carries a response that must not be stored out of the loader."""

    def __init__(self, start: Message, body: bytes) -> None:
        super().__init__("response not stored")
        self.start = start
        self.body = body


class ResponseCacheMiddleware:
    """Serve anonymous GETs from `cache`, keyed by path, query and encoding."""

    def __init__(self, app: ASGIApp, *, cache: Cache, tags_for: TagsFor) -> None:
        self.app = app
        self.cache = cache
        self.tags_for = tags_for
        self._parsed: dict[str, tuple[bytes, _Replay]] = {}
        self._urls: dict[tuple[str, bytes, bool], _CachedUrl | None] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "GET":
            await self.app(scope, receive, send)
            return

        takes_gzip = False
        if_none_match: bytes | None = None
        for name, value in scope["headers"]:
            if name == b"authorization":
                await self.app(scope, receive, send)
                return

            if name == b"accept-encoding":
                takes_gzip = accepts_gzip(value)
            elif name == b"if-none-match":
                if_none_match = value

        url = self._url(scope["path"], scope["query_string"], takes_gzip)
        if url is None:
            await self.app(scope, receive, send)
            return

        stored = self.cache.peek(url.key)
        if isinstance(stored, bytes):
            replay = self._parse(url.key, stored)
        else:
            found = await self._lookup(url.key, url.tags, scope, receive, send)
            if found is None:
                return
            replay = found

        if replay.route is not None:
            scope["route"] = replay.route

        if replay.etag is not None and matches_if_none_match(
            if_none_match, replay.etag
        ):
            await _send(send, 304, not_modified_headers(replay.headers), b"")
            return

        # A copy: middleware outside may add headers to the list in place.
        await _send(send, replay.status, list(replay.headers), replay.body)

    async def _lookup(
        self, key: str, tags: Sequence[str], scope: Scope, receive: Receive, send: Send
    ) -> _Replay | None:
        """Return the replay for `key`, or None when a response was already sent."""

        async def load() -> bytes:
            return await self._run_app(scope, receive)

        try:
            stored: bytes = await self.cache.get_or_load(key, load, tags=tags)
        except _NotStored as skipped:
            status = skipped.start["status"]
            if status < 500 or not await self._send_stale(
                key, send, f"status {status}"
            ):
                await _send(
                    send,
                    status,
                    list(skipped.start.get("headers", [])),
                    skipped.body,
                )
            return None
        except Exception as exc:
            if not await self._send_stale(key, send, repr(exc)):
                raise
            return None

        return self._parse(key, stored)

    def _url(
        self, path: str, query_string: bytes, takes_gzip: bool
    ) -> _CachedUrl | None:
        # A URL too long for a cache key goes to the application, unmemoized
        # so that long URLs cannot fill the memo.
        if len(path) + len(query_string) + len(GZIP_KEY_SUFFIX) + 1 > MAX_KEY_CHARS:
            return None

        # tags_for is a function of the URL alone, so its results are memoized.
        memo_key = (path, query_string, takes_gzip)
        try:
            return self._urls[memo_key]
        except KeyError:
            pass

        if len(self._urls) >= MAX_MEMOIZED_URLS:
            self._urls.clear()
        tags = self.tags_for(path, query_string)
        url = None
        if tags is not None:
            key = f"{path}?{query_string.decode('latin-1')}"
            url = _CachedUrl(
                key=key + GZIP_KEY_SUFFIX if takes_gzip else key, tags=tags
            )
        self._urls[memo_key] = url
        return url

    def _parse(self, key: str, stored: bytes) -> _Replay:
        # The cache hands out the same bytes object until the entry changes,
        # so an identity check shows whether the parsed copy is current.
        memo = self._parsed.get(key)
        if memo is not None and memo[0] is stored:
            return memo[1]

        if len(self._parsed) >= MAX_MEMOIZED_URLS:
            self._parsed.clear()
        replay = _Replay.parse(stored)
        self._parsed[key] = (stored, replay)
        return replay

    async def _send_stale(self, key: str, send: Send, error: str) -> bool:
        """Send the copy kept for stale-if-error; return False when there is none."""
        stored = self.cache.get_stale(key)
        if not isinstance(stored, bytes):
            return False

        logger.warning("cache.stale_if_error", key=key, error=error)
        replay = self._parse(key, stored)
        headers = [
            (name, value)
            for name, value in replay.headers
            if name not in (b"cache-control", b"cache-status")
        ]
        headers += [
            (b"cache-control", b"no-store"),
            (b"cache-status", STALE_IF_ERROR_STATUS),
        ]
        await _send(send, replay.status, headers, replay.body)
        return True

    async def _run_app(self, scope: Scope, receive: Receive) -> bytes:
        start: Message | None = None
        chunks: list[bytes] = []

        async def capture(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        # Concurrent misses share this load, so it must produce the full
        # response whatever conditional headers one caller sent.
        unconditional = {
            **scope,
            "headers": [
                (name, value)
                for name, value in scope["headers"]
                if name not in CONDITIONAL_HEADERS
            ],
        }
        await self.app(unconditional, receive, capture)
        if start is None:
            msg = "the application sent no response"
            raise RuntimeError(msg)

        if "route" in unconditional:
            scope["route"] = unconditional["route"]

        body = b"".join(chunks)
        if start["status"] != 200:
            raise _NotStored(start, body)

        return _encode(start, body, getattr(scope.get("route"), "path", None))


def _encode(start: Message, body: bytes, route: object) -> bytes:
    """Encode a response as a JSON head line followed by the raw body."""
    headers = [
        [name.decode("latin-1"), value.decode("latin-1")]
        for name, value in start.get("headers", [])
        if name.lower() not in UNSTORED_HEADERS
    ]
    head = orjson.dumps(
        [start["status"], headers, route if isinstance(route, str) else None]
    )
    return head + b"\n" + body


async def _send(send: Send, status: int, headers: Headers, body: bytes) -> None:
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body, "more_body": False})
