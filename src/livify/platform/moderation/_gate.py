"""Moderate a post while it is written: approve, reject, or hold it as pending."""

from __future__ import annotations

import time
import uuid

import structlog

from livify.platform.errors import Unprocessable
from livify.platform.moderation._client import ModerationClient, Verdict
from livify.platform.moderation._exceptions import ModerationUnavailable
from livify.platform.moderation._metrics import INLINE, ModerationMetrics
from livify.platform.tables import APPROVED, PENDING

logger = structlog.get_logger(__name__)

# During an outage every write would log the same line; one per interval
# carries the count of the ones left out.
UNAVAILABLE_LOG_INTERVAL_SECONDS = 10.0


class Moderation:
    """The check that article and comment writes run before they commit."""

    def __init__(
        self, client: ModerationClient, *, metrics: ModerationMetrics | None = None
    ) -> None:
        self.client = client
        self.metrics = metrics
        self._last_logged = -UNAVAILABLE_LOG_INTERVAL_SECONDS
        self._unlogged = 0

    async def screen(self, kind: str, fields: dict[str, str]) -> str:
        """Return APPROVED, or PENDING when the service gave no verdict.

        Raises Unprocessable (422) naming each rejected field.
        """
        # A fresh key per write: the check is a pure read, and the key only
        # lets the client retry the POST.
        key = f"{kind}:new:{uuid.uuid4().hex}"
        try:
            verdict = await self.client.check(kind, fields, idempotency_key=key)
        except ModerationUnavailable as exc:
            self._record("unavailable")
            self._log_unavailable(kind, exc)
            return PENDING

        if not verdict.is_approved:
            self._record("rejected")
            raise _rejection(verdict)

        self._record("approved")
        return APPROVED

    def _record(self, outcome: str) -> None:
        if self.metrics is not None:
            self.metrics.record_check(INLINE, outcome)

    def _log_unavailable(self, kind: str, exc: ModerationUnavailable) -> None:
        now = time.monotonic()
        if now - self._last_logged < UNAVAILABLE_LOG_INTERVAL_SECONDS:
            self._unlogged += 1
            return

        logger.warning(
            "moderation.held_as_pending",
            kind=kind,
            error=str(exc),
            also_held_since_last_line=self._unlogged,
        )
        self._last_logged = now
        self._unlogged = 0


def _rejection(verdict: Verdict) -> Unprocessable:
    error = Unprocessable("moderation", "the content was rejected")
    error.errors = {
        field: [f"was rejected by moderation: {reason}" for reason in reasons]
        for field, reasons in verdict.reasons.items()
    }
    return error
