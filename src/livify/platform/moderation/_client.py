"""Ask the moderation service for a verdict on a post's text."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

import httpx
import orjson

from livify.platform.moderation._exceptions import ModerationUnavailable
from livify.resilience import DependencyUnavailable

MODERATE_PATH = "/v1/moderate"


class OutboundDependency(Protocol):
    """The part of `livify.resilience.Dependency` that moderation uses."""

    async def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = ...,
        idempotency_key: str | None = ...,
    ) -> httpx.Response: ...


@dataclass(frozen=True, slots=True)
class Verdict:
    """The service's decision; `reasons` maps rejected fields to messages."""

    is_approved: bool
    reasons: dict[str, list[str]] = field(default_factory=dict)


class ModerationClient:
    """Send `POST /v1/moderate` through a resilient outbound dependency."""

    def __init__(self, dependency: OutboundDependency) -> None:
        self.dependency = dependency

    async def check(
        self, kind: str, fields: dict[str, str], *, idempotency_key: str
    ) -> Verdict:
        """Return the verdict on `fields` of a post of `kind`.

        A check only reads, so the key lets the client retry the POST.
        Raises ModerationUnavailable when no verdict came back.
        """
        try:
            response = await self.dependency.request(
                "POST",
                MODERATE_PATH,
                json={"kind": kind, "fields": fields},
                idempotency_key=idempotency_key,
            )
        except DependencyUnavailable as exc:
            msg = f"moderation of {idempotency_key!r} failed: {exc}"
            raise ModerationUnavailable(msg) from exc

        return _parse_verdict(response, fields)


def _parse_verdict(response: httpx.Response, fields: dict[str, str]) -> Verdict:
    if response.status_code != 200:
        msg = f"moderation answered {response.status_code}: {response.text[:200]!r}"
        raise ModerationUnavailable(msg)

    try:
        payload = orjson.loads(response.content)
    except orjson.JSONDecodeError as exc:
        msg = f"moderation answered with invalid JSON: {response.text[:200]!r}"
        raise ModerationUnavailable(msg) from exc

    decision = payload.get("decision") if isinstance(payload, dict) else None
    if decision == "approved":
        return Verdict(is_approved=True)

    if decision != "rejected":
        msg = f"moderation answered an unknown decision {decision!r}"
        raise ModerationUnavailable(msg)

    return Verdict(is_approved=False, reasons=_reasons(payload.get("fields"), fields))


def _reasons(raw: Any, fields: dict[str, str]) -> dict[str, list[str]]:
    """Keep reasons for the fields that were sent; name the post otherwise."""
    reasons: dict[str, list[str]] = {}
    if isinstance(raw, dict):
        for name, messages in raw.items():
            if name in fields and isinstance(messages, list):
                texts = [str(message) for message in messages if message]
                if texts:
                    reasons[name] = texts

    return reasons or {"moderation": ["the content was rejected"]}
