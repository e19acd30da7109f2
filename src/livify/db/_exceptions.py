"""Errors raised by `livify.db`.

DatabaseError
 └── DatabaseUnavailable   the pool timed out, the server could not be reached
      │                    or went away, or SQLite stayed locked
      └── StatementTimeout a statement ran past the statement timeout
"""

from __future__ import annotations


class DatabaseError(Exception):
    """Base class of every error raised by `livify.db`."""


class DatabaseUnavailable(DatabaseError):
    """The database could not be reached, or no connection was free in time."""


class StatementTimeout(DatabaseUnavailable):
    """The server cancelled a statement that ran past the statement timeout."""
