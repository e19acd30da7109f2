"""Starlette's gzip middleware, choosing by a parsed `Accept-Encoding`.

Starlette compresses when the header contains the substring "gzip", so a
client that refuses gzip (`gzip;q=0`) gets it, and one that writes `GZIP`
does not. This middleware rewrites the request's `Accept-Encoding` to
`gzip` or removes it, by `accepts_gzip`, before Starlette reads it.
"""

from __future__ import annotations

from starlette.middleware.gzip import GZipMiddleware as StarletteGZipMiddleware

from livify.cache._http_headers import accepts_gzip
from livify.types import Receive, Scope, Send

ACCEPT_ENCODING = b"accept-encoding"


class GZipMiddleware(StarletteGZipMiddleware):
    """Compress responses for clients whose `Accept-Encoding` admits gzip."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            scope["headers"] = _normalized(scope["headers"])
        await super().__call__(scope, receive, send)


def _normalized(headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    values = [value for name, value in headers if name == ACCEPT_ENCODING]
    if not values:
        return headers

    # Several header lines form one list (RFC 9110, 5.3).
    others = [(name, value) for name, value in headers if name != ACCEPT_ENCODING]
    if accepts_gzip(b",".join(values)):
        others.append((ACCEPT_ENCODING, b"gzip"))
    return others
