"""Database: failures that mean "retry later" become DatabaseUnavailable."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import text

from livify.db import Database, DatabaseUnavailable, StatementTimeout, _database


async def count_rows(database: Database) -> int:
    async with database.read() as connection:
        result = await connection.execute(text("SELECT count(*) FROM notes"))
        return int(result.scalar_one())


async def create_notes(database: Database) -> None:
    async with database.write() as connection:
        await connection.execute(text("CREATE TABLE notes (body TEXT)"))


@pytest.mark.postgres
async def test_statement_timeout_rolls_back_write(postgres_url: str) -> None:
    """A statement past the timeout raises StatementTimeout and writes nothing."""
    database = Database(postgres_url, statement_timeout_seconds=0.2)
    try:
        await create_notes(database)
        with pytest.raises(StatementTimeout, match="statement timeout"):
            async with database.write() as connection:
                await connection.execute(text("INSERT INTO notes VALUES ('half')"))
                await connection.execute(text("SELECT pg_sleep(5)"))

        assert await count_rows(database) == 0
    finally:
        await database.aclose()


@pytest.mark.postgres
async def test_terminated_connection_is_unavailable(postgres_url: str) -> None:
    """A connection the server ends mid-transaction raises DatabaseUnavailable."""
    database = Database(postgres_url)
    try:
        await create_notes(database)
        with pytest.raises(DatabaseUnavailable):
            async with database.write() as connection:
                await connection.execute(text("INSERT INTO notes VALUES ('half')"))
                await connection.execute(
                    text("SELECT pg_terminate_backend(pg_backend_pid())")
                )

        assert await count_rows(database) == 0
    finally:
        await database.aclose()


async def test_refused_connection_is_unavailable() -> None:
    """A server that refuses connections raises DatabaseUnavailable at once."""
    # Port 9 (discard) has no PostgreSQL on a test machine.
    database = Database("postgresql://postgres@127.0.0.1:9/none")
    try:
        with pytest.raises(DatabaseUnavailable, match="cannot connect"):
            async with database.read():
                pass
    finally:
        await database.aclose()


async def test_pool_timeout_is_unavailable(tmp_path: Path) -> None:
    """No free connection within pool_timeout_seconds raises DatabaseUnavailable."""
    database = Database(
        f"sqlite:///{tmp_path / 'pool.sqlite3'}",
        pool_size=1,
        pool_timeout_seconds=0.1,
    )
    try:
        async with database.read():
            with pytest.raises(DatabaseUnavailable, match="no database connection"):
                async with database.read():
                    pass
    finally:
        await database.aclose()


async def test_sqlite_lock_is_unavailable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A write that stays locked past the busy timeout raises DatabaseUnavailable."""
    monkeypatch.setattr(_database, "SQLITE_BUSY_TIMEOUT_MS", 100)
    url = f"sqlite:///{tmp_path / 'busy.sqlite3'}"
    holder = Database(url)
    contender = Database(url)
    try:
        await create_notes(holder)
        async with holder.write() as connection:
            await connection.execute(text("INSERT INTO notes VALUES ('held')"))
            with pytest.raises(DatabaseUnavailable, match="locked"):
                async with contender.write() as other:
                    await other.execute(text("INSERT INTO notes VALUES ('late')"))

        assert await count_rows(holder) == 1
    finally:
        await asyncio.gather(holder.aclose(), contender.aclose())
