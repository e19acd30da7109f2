"""Toolkit: database engines, pools, read/write routing and query logging."""

from __future__ import annotations

from livify.db._database import Database, normalise_database_url
from livify.db._exceptions import (
    DatabaseError,
    DatabaseUnavailable,
    StatementTimeout,
)
from livify.db._slow_queries import log_slow_queries

__all__ = [
    "Database",
    "DatabaseError",
    "DatabaseUnavailable",
    "StatementTimeout",
    "log_slow_queries",
    "normalise_database_url",
]
