"""Toolkit: database engines, pools and read/write routing."""

from __future__ import annotations

from livify.db._database import Database
from livify.db._exceptions import DatabaseError, DatabaseUnavailable

__all__ = ["Database", "DatabaseError", "DatabaseUnavailable"]
