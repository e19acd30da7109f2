"""HTTP caching headers: strong ETags, 304 responses and Cache-Control.

A pure ASGI middleware buffers each successful GET or HEAD response (JSON
bodies of the API are small and bounded by its page size), gives it a strong
ETag made from a hash of the body, and returns `304 Not Modified` when the
request's `If-None-Match` lists that tag. It then sets `Cache-Control`:

- a request with `Authorization` gets `private, no-cache`, because its body
  may hold the caller's own flags, and no shared cache may keep it;
- an anonymous GET or HEAD answered 200 gets `public` with `max-age`,
  `s-maxage`, `stale-while-revalidate` and `stale-if-error`;
- everything else (writes, errors) gets `no-store`.

`Vary: Authorization` is added to every cacheable response, so a shared
cache that ignored `private` would still keep callers apart.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable
from dataclasses import dataclass

from livify.types import ASGIApp, Message, Receive, Scope, Send

CACHEABLE_METHODS = frozenset({"GET", "HEAD"})
ETAG_HASH_BYTES = 16
VARY_FIELDS = (b"Authorization", b"Accept-Encoding")


@dataclass(frozen=True, slots=True)
class CachePolicy:
    """How long anonymous public responses may be reused, in seconds.

    `max_age_seconds` applies to browsers, `shared_max_age_seconds` to shared
    caches such as Varnish, which livify purges on write and so may keep
    responses longer. `stale_while_revalidate_seconds` lets a cache respond
    with a stale copy while it fetches a new one, and
    `stale_if_error_seconds` lets it serve one while livify fails.
    """

    max_age_seconds: int = 5
    shared_max_age_seconds: int = 60
    stale_while_revalidate_seconds: int = 30
    stale_if_error_seconds: int = 300

    def public_header(self) -> bytes:
        return (
            f"public, max-age={self.max_age_seconds}, "
            f"s-maxage={self.shared_max_age_seconds}, "
            f"stale-while-revalidate={self.stale_while_revalidate_seconds}, "
            f"stale-if-error={self.stale_if_error_seconds}"
        ).encode()


PRIVATE = b"private, no-cache"
NO_STORE = b"no-store"


class HttpCacheHeadersMiddleware:
    """Add ETags, serve conditional GETs and set Cache-Control and Vary.

    `is_public_path(path)` returns False for paths that must never be cached
    publicly even when anonymous; by default every path may be.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        policy: CachePolicy | None = None,
        is_public_path: Callable[[str], bool] = lambda _path: True,
    ) -> None:
        self.app = app
        self.policy = policy or CachePolicy()
        self.is_public_path = is_public_path
        self._public_header = self.policy.public_header()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        headers = dict(scope["headers"])
        has_authorization = b"authorization" in headers
        if scope["method"] not in CACHEABLE_METHODS:
            await self.app(scope, receive, _with_cache_control(send, NO_STORE))
            return

        buffered = _BufferedResponse()
        await self.app(scope, receive, buffered.send)
        await self._send_buffered(scope, headers, has_authorization, buffered, send)

    async def _send_buffered(
        self,
        scope: Scope,
        request_headers: dict[bytes, bytes],
        has_authorization: bool,
        buffered: _BufferedResponse,
        send: Send,
    ) -> None:
        if buffered.start is None:
            return

        start = buffered.start
        response_headers = [
            (name, value)
            for name, value in start.get("headers", [])
            if name not in (b"cache-control", b"etag", b"vary")
        ]

        if start["status"] != 200:
            response_headers.append((b"cache-control", NO_STORE))
            await _replay(send, start, response_headers, buffered.body)
            return

        etag = _strong_etag(buffered.body)
        if has_authorization:
            cache_control = PRIVATE
        elif self.is_public_path(scope["path"]):
            cache_control = self._public_header
        else:
            cache_control = NO_STORE

        response_headers += [
            (b"etag", etag),
            (b"cache-control", cache_control),
            (b"vary", _merged_vary(start.get("headers", []))),
        ]
        if matches_if_none_match(request_headers.get(b"if-none-match"), etag):
            kept = not_modified_headers(response_headers)
            await _replay(send, {**start, "status": 304}, kept, b"")
            return

        await _replay(send, start, response_headers, buffered.body)


class _BufferedResponse:
    def __init__(self) -> None:
        self.start: Message | None = None
        self.chunks: list[bytes] = []

    @property
    def body(self) -> bytes:
        return b"".join(self.chunks)

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.start = message
        elif message["type"] == "http.response.body":
            self.chunks.append(message.get("body", b""))


def _merged_vary(headers: list[tuple[bytes, bytes]]) -> bytes:
    """Return `Vary` naming Authorization, Accept-Encoding and the app's own.

    A compression middleware inside this one may already have added
    `Accept-Encoding`; each field is named once.
    """
    fields = list(VARY_FIELDS)
    seen = {field.lower() for field in fields}
    for name, value in headers:
        if name != b"vary":
            continue
        for field in (part.strip() for part in value.split(b",")):
            if field and field.lower() not in seen:
                seen.add(field.lower())
                fields.append(field)
    return b", ".join(fields)


def _with_cache_control(send: Send, value: bytes) -> Send:
    async def send_with_header(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = [
                (name, header_value)
                for name, header_value in message.get("headers", [])
                if name != b"cache-control"
            ]
            message["headers"] = [*headers, (b"cache-control", value)]
        await send(message)

    return send_with_header


async def _replay(
    send: Send, start: Message, headers: list[tuple[bytes, bytes]], body: bytes
) -> None:
    await send({**start, "headers": headers})
    await send({"type": "http.response.body", "body": body, "more_body": False})


def _strong_etag(body: bytes) -> bytes:
    digest = hashlib.blake2b(body, digest_size=ETAG_HASH_BYTES).hexdigest()
    return f'"{digest}"'.encode()


def not_modified_headers(
    headers: list[tuple[bytes, bytes]],
) -> list[tuple[bytes, bytes]]:
    """Return the headers of a 304 made from those of the full response."""
    return [
        (name, value)
        for name, value in headers
        if name not in (b"content-length", b"content-type")
    ]


def matches_if_none_match(if_none_match: bytes | None, etag: bytes) -> bool:
    """Apply RFC 9110 section 13.1.2: `*` or any listed tag, weak or strong."""
    if if_none_match is None:
        return False

    candidates = [candidate.strip() for candidate in if_none_match.split(b",")]
    # If-None-Match uses weak comparison, so W/"x" matches "x".
    return any(
        candidate == b"*" or candidate.removeprefix(b"W/") == etag
        for candidate in candidates
    )


@functools.lru_cache(maxsize=256)
def accepts_gzip(accept_encoding: bytes) -> bool:
    """Return whether an `Accept-Encoding` value admits gzip (RFC 9110, 12.5.3).

    Coding names are case-insensitive and `x-gzip` is gzip. A coding with
    `q=0` is refused, and `*` stands for every coding the value does not
    name. A `q` that does not parse counts as a refusal, so a garbled header
    never gets a body the client may not decode. Clients send few distinct
    values, so results are memoized.
    """
    wildcard_q: float | None = None
    for item in accept_encoding.lower().split(b","):
        name, *parameters = (part.strip() for part in item.split(b";"))
        q = _quality(parameters)
        if name in (b"gzip", b"x-gzip"):
            return q > 0
        if name == b"*":
            wildcard_q = q
    return wildcard_q is not None and wildcard_q > 0


def _quality(parameters: list[bytes]) -> float:
    for parameter in parameters:
        key, _, value = parameter.partition(b"=")
        if key.strip() == b"q":
            try:
                q = float(value.strip())
            except ValueError:
                return 0.0
            return q if 0.0 <= q <= 1.0 else 0.0
    return 1.0
