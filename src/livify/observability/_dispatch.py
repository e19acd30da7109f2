"""Serve a few fixed paths before the application sees the request."""

from __future__ import annotations

from collections.abc import Mapping

from livify.types import ASGIApp, Receive, Scope, Send


class PathDispatchMiddleware:
    """Send requests for exact `paths` to their own ASGI apps.

    Probes and `/metrics` are dispatched here, in front of rate limiting,
    caching and the router, so that they stay cheap and are never limited
    or cached.
    """

    def __init__(self, app: ASGIApp, *, paths: Mapping[str, ASGIApp]) -> None:
        self.app = app
        self.paths = dict(paths)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            endpoint = self.paths.get(scope["path"])
            if endpoint is not None:
                await endpoint(scope, receive, send)
                return

        await self.app(scope, receive, send)
