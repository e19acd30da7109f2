"""The outcome of one threshold or regression check."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class CheckOutcome:
    """The compared values of one check, and whether the run passed it.

    `kind` is `threshold` or `regression`. `observed` and `limit` are in the
    metric's base unit: seconds, a ratio (0.005 is 0.5%) or requests/s.
    """

    kind: str
    description: str
    metric: str
    scope: str
    observed: float
    limit: float
    is_passed: bool

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CheckOutcome:
        return cls(**data)


def format_metric_value(metric: str, value: float) -> str:
    """Format a value in the unit a reader expects for `metric`."""
    if metric == "errors":
        return f"{value:.2%}"
    if metric == "throughput":
        return f"{value:,.1f}/s"
    return f"{value * 1000:,.1f} ms"
