"""Argument checks shared by the constructors of this package."""

from __future__ import annotations

import math


def check_positive(**values: float) -> None:
    """Raise `ValueError` unless every value is a positive number."""
    for name, value in values.items():
        if not value > 0:
            msg = f"{name} must be positive, got {value!r}"
            raise ValueError(msg)


def check_not_negative(**values: float) -> None:
    """Raise `ValueError` unless every value is zero or positive."""
    for name, value in values.items():
        if math.isnan(value) or value < 0:
            msg = f"{name} must be zero or positive, got {value!r}"
            raise ValueError(msg)


def check_rate(**values: float) -> None:
    """Raise `ValueError` unless every value is a share in (0, 1]."""
    for name, value in values.items():
        if not 0 < value <= 1:
            msg = f"{name} must be in (0, 1], got {value!r}"
            raise ValueError(msg)
