"""Hook points through which the cache reports what it does.

The application wires a sink: `CacheMetrics` records Prometheus metrics,
and any object with these methods can count, log or trace instead. Every
method runs on the request path, so it must return quickly and not raise.
"""

from __future__ import annotations

from typing import Literal, Protocol

Layer = Literal["l1", "l2"]
LoadOutcome = Literal["ok", "not_found", "error"]
InvalidationKind = Literal["tag", "key", "all"]
MessageDirection = Literal["sent", "received"]


class CacheHooks(Protocol):
    """Receive the cache's events, labelled with the cache namespace."""

    def on_hit(self, namespace: str, layer: Layer) -> None:
        """A fresh entry was found in `layer`."""

    def on_miss(self, namespace: str) -> None:
        """No layer had an entry to serve, so the caller waits for a load."""

    def on_stale_served(self, namespace: str) -> None:
        """An expired entry was served while a refresh runs."""

    def on_load(
        self, namespace: str, duration_seconds: float, outcome: LoadOutcome
    ) -> None:
        """A loader finished: with a value, with `NotFound` or with an error."""

    def on_eviction(self, namespace: str) -> None:
        """L1 dropped an entry to stay within its entry or byte bound."""

    def on_invalidation(self, namespace: str, kind: InvalidationKind) -> None:
        """An entry was dropped: its tag changed, its key was deleted, or all."""

    def on_message(self, direction: MessageDirection) -> None:
        """An invalidation message was published or received over pub/sub."""

    def on_redis_error(self, namespace: str, operation: str) -> None:
        """A Redis command failed or timed out; `namespace` is empty if shared."""

    def on_circuit_change(self, is_open: bool) -> None:
        """Calls to Redis stopped (`is_open`) or resumed."""


class NoHooks:
    """Hooks that do nothing, the default."""

    def on_hit(self, namespace: str, layer: Layer) -> None:
        pass

    def on_miss(self, namespace: str) -> None:
        pass

    def on_stale_served(self, namespace: str) -> None:
        pass

    def on_load(
        self, namespace: str, duration_seconds: float, outcome: LoadOutcome
    ) -> None:
        pass

    def on_eviction(self, namespace: str) -> None:
        pass

    def on_invalidation(self, namespace: str, kind: InvalidationKind) -> None:
        pass

    def on_message(self, direction: MessageDirection) -> None:
        pass

    def on_redis_error(self, namespace: str, operation: str) -> None:
        pass

    def on_circuit_change(self, is_open: bool) -> None:
        pass
