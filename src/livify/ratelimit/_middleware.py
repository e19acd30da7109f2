"""The ASGI middleware that applies a `RateLimiter` to HTTP requests."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeAlias

import orjson

from livify.ratelimit._client_ip import ClientIP
from livify.ratelimit._headers import Headers, build_admitted_headers, build_headers
from livify.ratelimit._limiter import (
    Charged,
    Decision,
    LimitResult,
    RateLimiter,
    Request,
)
from livify.ratelimit._policy import ANONYMOUS_TIER
from livify.types import ASGIApp, Message, Receive, Scope, Send


@dataclass(frozen=True, slots=True)
class Identity:
    """The caller as the application knows it: a user id and the user's tier."""

    user: str
    tier: str = "authenticated"


Identify: TypeAlias = Callable[[Scope], Identity | Awaitable[Identity | None] | None]
ErrorBody: TypeAlias = Callable[[Decision], bytes]
# The scope key under which `report_results` lists the results of limits
# that the application checked itself.
APP_RESULTS_KEY = "livify.ratelimit.app_results"


def report_results(scope: Scope, decision: Decision) -> None:
    """Add a limit the application checked itself to the response's fields.

    Use it for limits the middleware cannot check, such as login attempts
    per account, whose key is in the request body. Call it with the scope
    the middleware passed in (not a copy) before the response starts.
    """
    results: list[LimitResult] = scope.setdefault(APP_RESULTS_KEY, [])
    results.extend(decision.results)


def default_error_body(decision: Decision) -> bytes:
    """Return the API's error format: `{"errors": {"rate_limit": [message]}}`."""
    message = f"too many requests; retry after {decision.retry_after_header} seconds"
    return orjson.dumps({"errors": {"rate_limit": [message]}})


class RateLimitMiddleware:
    """Count HTTP requests against `limiter` and answer 429 past a limit.

    `client_ip` finds the caller's address (default: the socket peer, with
    no trusted proxies). `identify` returns the caller's `Identity` from the
    scope, for example from a bearer token, or None for anonymous callers,
    and may be async. `error_body` builds the 429 body. Every counted
    response gets the rate limit headers unless `include_headers` is False
    or the app answers 429 with a `RateLimit` field of its own. Limits the
    app reports with `report_results` join the middleware's own in those
    fields. Other scope types pass straight through.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        limiter: RateLimiter,
        client_ip: Callable[[Scope], str] | None = None,
        identify: Identify | None = None,
        error_body: ErrorBody = default_error_body,
        include_headers: bool = True,
    ) -> None:
        self.app = app
        self.limiter = limiter
        self.client_ip = client_ip or ClientIP()
        self.identify = identify
        self.error_body = error_body
        self.include_headers = include_headers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        path = scope["path"]
        client_ip = self.client_ip(scope)
        limiter = self.limiter
        if limiter.is_exempt(path, client_ip):
            await self.app(scope, receive, send)
            return

        result = self.identify(scope) if self.identify is not None else None
        # The cheap checks first: most callers are anonymous or identified
        # synchronously, and awaiting costs more.
        if result is None or isinstance(result, Identity):
            identity = result
        else:
            identity = await _resolve(result)

        if identity is None:
            user, tier = None, ANONYMOUS_TIER
        else:
            user, tier = identity.user, identity.tier

        if limiter.is_synchronous:
            charged = limiter.charge_now(client_ip, scope["method"], path, user, tier)
            if charged is None or (charged.is_allowed and not self.include_headers):
                await self.app(scope, receive, send)
                return

            if charged.is_allowed:
                headers = build_admitted_headers(charged)
                await self.app(
                    scope, receive, self._add_headers(send, scope, headers, charged)
                )
                return

            decision = await limiter.settle(charged)
        else:
            request = Request(client_ip, scope["method"], path, user, tier)
            decision = await limiter.decide(request)

        await self._finish(decision, scope, receive, send)

    async def _finish(
        self, decision: Decision, scope: Scope, receive: Receive, send: Send
    ) -> None:
        if not decision.is_allowed:
            await self._reject(decision, send)
            return

        if not self.include_headers or not decision.results:
            await self.app(scope, receive, send)
            return

        headers = build_headers(decision)
        await self.app(
            scope, receive, self._add_headers(send, scope, headers, decision)
        )

    def _add_headers(
        self, send: Send, scope: Scope, headers: Headers, own: Charged | Decision
    ) -> Send:
        """Wrap `send` so the response start carries `headers` as well.

        The app may respond 429 with a `RateLimit` field of its own, for a
        limit it checks itself such as `login-account`. That response gets
        none of `headers`, because a second set would describe a limit that
        did not reject the request and give the client two
        `X-RateLimit-Limit` values. On other responses, limits the app
        reported with `report_results` are added to the middleware's own.
        """
        limiter = self.limiter

        # A plain function that returns the server's awaitable: an async one
        # would add a coroutine per message.
        def send_with_headers(message: Message) -> Awaitable[None]:
            if message["type"] == "http.response.start" and (
                message["status"] != 429 or not _has_ratelimit_field(message)
            ):
                reported = scope.get(APP_RESULTS_KEY)
                fields = headers
                if reported:
                    fields = _with_reported(limiter, own, reported)
                message["headers"] = [*message.get("headers", ()), *fields]
            return send(message)

        return send_with_headers

    async def _reject(self, decision: Decision, send: Send) -> None:
        body = self.error_body(decision)
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            (b"cache-control", b"no-store"),
            *build_headers(decision),
        ]
        await send({"type": "http.response.start", "status": 429, "headers": headers})
        await send({"type": "http.response.body", "body": body})


async def _resolve(
    result: Awaitable[Identity | None] | Identity | None,
) -> Identity | None:
    return await result if inspect.isawaitable(result) else result


def _with_reported(
    limiter: RateLimiter, own: Charged | Decision, reported: list[LimitResult]
) -> Headers:
    decision = limiter.decision_of(own) if isinstance(own, Charged) else own
    combined = Decision(True, decision.outcome, (*decision.results, *reported))
    return build_headers(combined)


def _has_ratelimit_field(start: Message) -> bool:
    return any(name == b"ratelimit" for name, _ in start.get("headers", ()))
