"""The reference moderation service: a small ASGI app for demos and tests.

It approves text unless a field contains a banned word (whole words,
ignoring case). Fault switches make it slow, fail or hang, and can be
changed while it runs through `PUT /v1/faults`, so a test can take it
down and bring it back without restarting it.

Endpoints:

- `POST /v1/moderate` with `{"kind": "article" | "comment", "fields":
  {"<name>": "<text>", ...}}` returns 200 with `{"decision": "approved"}`
  or `{"decision": "rejected", "fields": {"<name>": ["<reason>", ...]}}`,
  and 400 for a malformed request. The fault switches apply here only.
- `GET /v1/faults` returns the switches; `PUT /v1/faults` changes the ones
  it names (`latency_ms`, `error_rate`, `hang_rate`) and returns them all.
- `GET /v1/stats` returns how many checks ended in each outcome.
- `GET /healthz` returns 200 while the process runs.
"""

from __future__ import annotations

import asyncio
import random
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any

import orjson
import structlog
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

logger = structlog.get_logger(__name__)

DEFAULT_BANNED_WORDS = ("spam", "scam", "viagra")
# A hung check responds only after this long, far past any client timeout,
# or ends sooner when the client disconnects.
HANG_SECONDS = 3600.0
DISCONNECT_POLL_SECONDS = 0.2
MAX_FIELDS = 16
# A delay longer than an hour is a hang; use hang_rate for that.
MAX_LATENCY_MS = 3_600_000.0


@dataclass(slots=True)
class Faults:
    """Injected faults of `POST /v1/moderate`.

    `latency_ms` delays every check. Then a check hangs with probability
    `hang_rate`, else fails with 503 with probability `error_rate`.
    """

    latency_ms: float = 0.0
    error_rate: float = 0.0
    hang_rate: float = 0.0

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        # `not 0 <= x` also rejects nan, which every comparison fails.
        if not 0 <= self.latency_ms <= MAX_LATENCY_MS:
            msg = (
                f"latency_ms must be between 0 and {MAX_LATENCY_MS:,.0f}, "
                f"got {self.latency_ms!r}"
            )
            raise ValueError(msg)

        for name in ("error_rate", "hang_rate"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                msg = f"{name} must be between 0 and 1, got {value!r}"
                raise ValueError(msg)

    def update(self, changes: dict[str, Any]) -> None:
        """Set the named switches, all or none: a bad value changes nothing."""
        unknown = set(changes) - {"latency_ms", "error_rate", "hang_rate"}
        if unknown:
            msg = f"unknown fault switches {sorted(unknown)!r}; use latency_ms, "
            msg += "error_rate or hang_rate"
            raise ValueError(msg)

        for name, value in changes.items():
            if isinstance(value, bool) or not isinstance(value, int | float):
                msg = f"{name} must be a number, got {value!r}"
                raise ValueError(msg)

        candidate = Faults(**{**asdict(self), **changes})
        self.latency_ms = candidate.latency_ms
        self.error_rate = candidate.error_rate
        self.hang_rate = candidate.hang_rate


class BannedWords:
    """The rule of the reference service: reject text with a banned word."""

    def __init__(self, words: Iterable[str]) -> None:
        self.words = tuple(sorted({word.casefold() for word in words if word}))
        alternatives = "|".join(re.escape(word) for word in self.words)
        self._pattern = (
            re.compile(rf"\b(?:{alternatives})\b", re.IGNORECASE)
            if alternatives
            else None
        )

    def reasons(self, fields: dict[str, str]) -> dict[str, list[str]]:
        """Return the rejected fields with one reason per banned word found."""
        if self._pattern is None:
            return {}

        rejected: dict[str, list[str]] = {}
        for name, text in fields.items():
            found = sorted({match.casefold() for match in self._pattern.findall(text)})
            if found:
                rejected[name] = [
                    f"contains the banned word {word!r}" for word in found
                ]

        return rejected


def create_moderation_app(
    *,
    banned_words: Iterable[str] = DEFAULT_BANNED_WORDS,
    faults: Faults | None = None,
    random_seed: int | None = None,
) -> Starlette:
    """Build the reference moderation service as an ASGI app.

    Raises ValueError when a fault switch is out of range.
    """
    rule = BannedWords(banned_words)
    switches = faults or Faults()
    rng = random.Random(random_seed)
    outcomes: Counter[str] = Counter()

    async def moderate(request: Request) -> Response:
        fields = _parse_check(await request.body())
        if isinstance(fields, str):
            return _json({"error": fields}, status_code=400)

        if switches.latency_ms:
            await asyncio.sleep(switches.latency_ms / 1000)

        draw = rng.random()
        if draw < switches.hang_rate:
            outcomes["hung"] += 1
            await _hang(request)
            return _json({"error": "injected hang"}, status_code=503)

        if draw < switches.hang_rate + switches.error_rate:
            outcomes["failed"] += 1
            return _json({"error": "injected fault"}, status_code=503)

        reasons = rule.reasons(fields)
        if reasons:
            outcomes["rejected"] += 1
            return _json({"decision": "rejected", "fields": reasons})

        outcomes["approved"] += 1
        return _json({"decision": "approved"})

    async def get_faults(_request: Request) -> Response:
        return _json(asdict(switches))

    async def put_faults(request: Request) -> Response:
        try:
            changes = orjson.loads(await request.body())
            if not isinstance(changes, dict):
                msg = 'send a JSON object such as {"hang_rate": 1}'
                raise ValueError(msg)

            switches.update(changes)
        except ValueError as exc:
            return _json({"error": str(exc)}, status_code=400)

        logger.info("moderation.faults_changed", **asdict(switches))
        return _json(asdict(switches))

    async def stats(_request: Request) -> Response:
        return _json(dict(outcomes))

    async def health(_request: Request) -> Response:
        return Response("ok", media_type="text/plain")

    return Starlette(
        routes=[
            Route("/v1/moderate", moderate, methods=["POST"]),
            Route("/v1/faults", get_faults, methods=["GET"]),
            Route("/v1/faults", put_faults, methods=["PUT"]),
            Route("/v1/stats", stats, methods=["GET"]),
            Route("/healthz", health, methods=["GET"]),
        ]
    )


async def _hang(request: Request) -> None:
    """Wait until the client disconnects, or HANG_SECONDS at most."""
    for _ in range(int(HANG_SECONDS / DISCONNECT_POLL_SECONDS)):
        if await request.is_disconnected():
            return

        await asyncio.sleep(DISCONNECT_POLL_SECONDS)


def _parse_check(body: bytes) -> dict[str, str] | str:
    """Return the fields to check, or a message saying what is malformed."""
    try:
        payload = orjson.loads(body)
    except orjson.JSONDecodeError:
        return "the body is not valid JSON"

    fields = payload.get("fields") if isinstance(payload, dict) else None
    if not isinstance(fields, dict) or not fields:
        return 'send {"kind": ..., "fields": {"<name>": "<text>", ...}}'

    if len(fields) > MAX_FIELDS:
        return f"at most {MAX_FIELDS} fields, got {len(fields)}"

    if not all(isinstance(text, str) for text in fields.values()):
        return "every field must be a string"

    return fields


def _json(body: Any, *, status_code: int = 200) -> Response:
    return Response(
        orjson.dumps(body), status_code=status_code, media_type="application/json"
    )
