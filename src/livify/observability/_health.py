"""Liveness and readiness probes.

`/livez` says only that the process serves requests. `/readyz` runs each
readiness check with a timeout and returns 503 naming the checks that did
not pass, so a load balancer stops sending traffic until they do. A check
that returns False reports "failed": it ran and found a problem. One that
raises or times out reports "error": it could not tell, for example when
the database it queries is down. Neither probe is cached.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping

import orjson
import structlog

from livify.types import Receive, Scope, Send

logger = structlog.get_logger(__name__)

ReadinessCheck = Callable[[], Awaitable[bool]]
DEFAULT_CHECK_TIMEOUT_SECONDS = 2.0


class HealthEndpoint:
    """ASGI app for a liveness probe (no checks) or a readiness probe."""

    def __init__(
        self,
        checks: Mapping[str, ReadinessCheck] | None = None,
        *,
        timeout_seconds: float = DEFAULT_CHECK_TIMEOUT_SECONDS,
    ) -> None:
        self.checks = dict(checks or {})
        self.timeout_seconds = timeout_seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        results = {
            name: await self._run(name, check) for name, check in self.checks.items()
        }
        is_ready = all(result == "ok" for result in results.values())
        body = orjson.dumps(
            {"status": "ok" if is_ready else "unavailable", "checks": results}
        )
        await send(
            {
                "type": "http.response.start",
                "status": 200 if is_ready else 503,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"cache-control", b"no-store"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})

    async def _run(self, name: str, check: ReadinessCheck) -> str:
        try:
            async with asyncio.timeout(self.timeout_seconds):
                passed = await check()
        except Exception as exc:
            logger.warning("health.check_error", check=name, error=repr(exc))
            return "error"

        if not passed:
            logger.warning("health.check_failed", check=name)
            return "failed"
        return "ok"
