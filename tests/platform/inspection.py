"""Look inside a running app's database: SQL statements, row counts, user ids."""

from __future__ import annotations

from types import TracebackType
from typing import Any

from fastapi import FastAPI
from sqlalchemy import delete, event, func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from livify.platform.tables import metadata, users

# Statements that open or close a transaction, as opposed to ones that read or
# write rows. SQLite's write engine sends `BEGIN IMMEDIATE` itself.
TRANSACTION_CONTROL = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE")


class StatementRecorder:
    """Record each SQL statement the app's engines send while the block runs.

    Entries are `(statement, parameters)` exactly as handed to the DB-API
    cursor, so a statement can be replayed, for example under EXPLAIN.
    """

    def __init__(self, app: FastAPI) -> None:
        self._engines: list[AsyncEngine] = app.state.context.database.engines()
        self.statements: list[tuple[str, Any]] = []

    def __enter__(self) -> StatementRecorder:
        for engine in self._engines:
            event.listen(engine.sync_engine, "before_cursor_execute", self._record)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        for engine in self._engines:
            event.remove(engine.sync_engine, "before_cursor_execute", self._record)

    def _record(
        self,
        _connection: Any,
        _cursor: Any,
        statement: str,
        parameters: Any,
        _context: Any,
        _executemany: bool,
    ) -> None:
        self.statements.append((statement, parameters))

    def queries(self) -> list[tuple[str, Any]]:
        """Return the recorded statements other than transaction control."""
        return [
            (statement, parameters)
            for statement, parameters in self.statements
            if not statement.lstrip().upper().startswith(TRANSACTION_CONTROL)
        ]


async def count_rows(app: FastAPI) -> dict[str, int]:
    """Return the number of rows in every table of the platform schema."""
    counts: dict[str, int] = {}
    async with app.state.context.database.read() as connection:
        for table in metadata.sorted_tables:
            query = select(func.count()).select_from(table)
            counts[table.name] = (await connection.execute(query)).scalar_one()

    return counts


def user_id(app: FastAPI, user: dict[str, Any]) -> int:
    """Return the id inside a user's token."""
    found: int | None = app.state.context.tokens.user_id(user["token"])
    assert found is not None, user
    return found


async def delete_user(app: FastAPI, user: dict[str, Any]) -> None:
    """Delete a user row directly, as an administrator would (no route does)."""
    async with app.state.context.database.write() as connection:
        await connection.execute(delete(users).where(users.c.id == user_id(app, user)))
