"""Errors raised by `livify.db`.

DatabaseError
 └── DatabaseUnavailable   the pool timed out or the server could not be reached
"""

from __future__ import annotations


class DatabaseError(Exception):
    """Base class of every error raised by `livify.db`."""


class DatabaseUnavailable(DatabaseError):
    """The database could not be reached, or no connection was free in time."""
