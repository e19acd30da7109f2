"""The algorithms by name, each as a local function and a Redis script."""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType
from typing import Any

from livify.ratelimit import _fixed_window, _gcra, _sliding_window
from livify.ratelimit._types import Hit, UsageValues

ALGORITHMS: dict[str, ModuleType] = {
    module.NAME: module for module in (_fixed_window, _sliding_window, _gcra)
}

HitLocal = Callable[[Any, float, Hit], tuple[Any, float, UsageValues]]


def algorithm(name: str) -> ModuleType:
    """Return the module of algorithm `name`; raise ValueError when unknown."""
    module = ALGORITHMS.get(name)
    if module is None:
        msg = (
            f"unknown rate limit algorithm {name!r}; "
            f"expected one of {sorted(ALGORITHMS)}"
        )
        raise ValueError(msg)

    return module
