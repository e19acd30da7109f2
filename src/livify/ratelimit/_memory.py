"""The in-process store: counters in a dict, private to one process.

With several workers (processes) each keeps its own counters, so a limit of
N per minute admits up to N per worker, and a client spread over W workers
gets up to W x N. Use `redis://` to share counters between workers and
instances.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from livify.ratelimit._algorithms import ALGORITHMS
from livify.ratelimit._types import Hit, Usage, UsageValues

DEFAULT_MAX_KEYS = 100_000


class MemoryStore:
    """Keep counters in memory, at most `max_keys` of them.

    Expired counters are swept when the dict is full; if it is still full
    the oldest inserted counters are dropped, which forgets those clients'
    usage (they get a fresh quota) rather than growing without bound.
    """

    url = "memory://"

    def __init__(self, *, max_keys: int = DEFAULT_MAX_KEYS) -> None:
        if max_keys <= 0:
            msg = f"max_keys must be positive, got {max_keys!r}"
            raise ValueError(msg)

        self.max_keys = max_keys
        # key -> (expires_at, algorithm state)
        self._entries: dict[str, tuple[float, Any]] = {}
        self._hit_local = {
            name: module.hit_local for name, module in ALGORITHMS.items()
        }

    def __len__(self) -> int:
        return len(self._entries)

    async def hit(self, hits: Sequence[Hit], now: float) -> list[Usage]:
        """Charge every hit at time `now`, in order."""
        return [Usage(*self.hit_values(hit, now)) for hit in hits]

    def hit_now(self, hit: Hit, now: float) -> Usage:
        """Charge one hit synchronously."""
        return Usage(*self.hit_values(hit, now))

    def hit_values(self, hit: Hit, now: float) -> UsageValues:
        """Charge one hit synchronously; return the fields of its `Usage`."""
        entry = self._entries.get(hit.key)
        state = entry[1] if entry is not None and entry[0] > now else None
        state, expires_at, values = self._hit_local[hit.algorithm](state, now, hit)
        if state is not None:
            if entry is None and len(self._entries) >= self.max_keys:
                self._make_room(now)
            self._entries[hit.key] = (expires_at, state)

        return values  # type: ignore[no-any-return] # hit_local is typed Any

    async def aclose(self) -> None:
        self._entries.clear()

    def _make_room(self, now: float) -> None:
        expired = [
            key for key, (expires_at, _) in self._entries.items() if expires_at <= now
        ]
        for key in expired:
            del self._entries[key]

        overflow = len(self._entries) - self.max_keys + 1
        for key in list(self._entries)[: max(overflow, 0)]:
            del self._entries[key]
