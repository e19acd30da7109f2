"""Errors raised by `livify.capacity`.

CapacityError
 └── NotEnoughData    too few usable steps to fit or plan from
"""

from __future__ import annotations


class CapacityError(Exception):
    """Base class of every error raised by `livify.capacity`."""


class NotEnoughData(CapacityError, ValueError):
    """The result has too few step-load points for the requested analysis."""
