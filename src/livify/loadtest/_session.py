"""The HTTP interface journeys use, independent of the load generator."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True, slots=True)
class Reply:
    """A response as journeys see it: the status (None if none came) and JSON body."""

    status: int | None
    body: Any = None

    @property
    def is_success(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


class Session(Protocol):
    """Send one request and record it under its endpoint and journey step.

    `endpoint` is the method and route template (`GET /api/articles/{slug}`),
    so every article counts under one name. `intended_at` is the
    `time.perf_counter()` value at which the open model meant to send the
    request; latency is then measured from it. A response outside 2xx, or
    none at all, counts as a failure.
    """

    def request(
        self,
        method: str,
        path: str,
        *,
        endpoint: str,
        step: str,
        json: Any = None,
        token: str | None = None,
        intended_at: float | None = None,
    ) -> Reply: ...
