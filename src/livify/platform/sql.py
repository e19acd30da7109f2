"""SQL helpers that differ by dialect."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeAlias

from sqlalchemy import Insert, Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

if TYPE_CHECKING:
    from sqlalchemy import Row

    # A result row of any width (SQLAlchemy 2.1 types rows by their columns).
    AnyRow: TypeAlias = Row[*tuple[Any, ...]]


def insert_ignoring_conflicts(connection: AsyncConnection, table: Table) -> Insert:
    """Return `INSERT ... ON CONFLICT DO NOTHING` for the connection's dialect.

    Combined with RETURNING, an empty result means the row already existed,
    which makes "favorite twice" and "follow twice" idempotent without a
    failed statement, even when two requests race.
    """
    if connection.dialect.name == "postgresql":
        return postgresql.insert(table).on_conflict_do_nothing()

    if connection.dialect.name == "sqlite":
        return sqlite.insert(table).on_conflict_do_nothing()

    msg = f"unsupported database dialect {connection.dialect.name!r}"
    raise RuntimeError(msg)
