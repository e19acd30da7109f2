"""Respond to HEAD requests with the headers a GET would get.

RFC 9110 (9.3.2) requires every general-purpose server to support HEAD, and
FastAPI routes declared for GET reject HEAD with 405. This middleware runs
a HEAD request as a GET, so routing, caching and rate limits treat it as
one, and drops the body. The method is switched back before the response
starts, because the server reads it to know that no body follows the
headers.
"""

from __future__ import annotations

from livify.types import ASGIApp, Message, Receive, Scope, Send

EMPTY_BODY: Message = {"type": "http.response.body", "body": b"", "more_body": False}


class HeadMiddleware:
    """Serve HEAD as GET without a body; other requests pass through."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        async def send_headers_only(message: Message) -> None:
            if message["type"] == "http.response.start":
                scope["method"] = "HEAD"
                await send(message)
            elif message["type"] == "http.response.body":
                if not message.get("more_body", False):
                    await send(dict(EMPTY_BODY))
            else:
                await send(message)

        # In place, not a copy, so what the router adds to the scope (the
        # matched route, for metrics) reaches the layers outside.
        scope["method"] = "GET"
        try:
            await self.app(scope, receive, send_headers_only)
        finally:
            scope["method"] = "HEAD"
