"""Bulk inserts of generated rows: COPY on PostgreSQL, executemany on SQLite.

The dataset cuts its rows into batches of a bounded size, so at most two
batches are in memory whatever the dataset's size. A batch is written parent tables
first, so each foreign key points at a row that is already in the database.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from livify.platform import tables

DEFAULT_BATCH_ROWS = 50_000

# Column order of the tuples that the dataset generates, parents first.
TABLE_COLUMNS: dict[str, tuple[str, ...]] = {
    "users": (
        "id",
        "username",
        "username_key",
        "email",
        "email_key",
        "password_hash",
        "bio",
        "image",
        "created_at",
        "updated_at",
    ),
    "follows": ("follower_id", "followee_id", "created_at"),
    "articles": (
        "id",
        "slug",
        "title",
        "description",
        "body",
        "author_id",
        "favorites_count",
        "created_at",
        "updated_at",
    ),
    "article_tags": ("article_id", "tag_id"),
    "favorites": ("user_id", "article_id", "created_at"),
    # No id: the database numbers comments, so nothing else has to.
    "comments": ("article_id", "author_id", "body", "created_at", "updated_at"),
}

Row = tuple[Any, ...]


class Batch:
    """Rows for several tables, written together by `RowSink.write`.

    `articles_done` is how many articles the dataset had generated when the
    batch was cut, for progress logs.
    """

    def __init__(self) -> None:
        self.rows: dict[str, list[Row]] = {name: [] for name in TABLE_COLUMNS}
        self.row_count = 0
        self.articles_done = 0

    def add(self, table: str, row: Row) -> None:
        self.rows[table].append(row)
        self.row_count += 1

    def extend(self, table: str, rows: Sequence[Row]) -> None:
        self.rows[table].extend(rows)
        self.row_count += len(rows)


class RowSink(ABC):
    """Insert batches of rows inside the caller's transaction and count them."""

    def __init__(self) -> None:
        self.inserted: dict[str, int] = dict.fromkeys(TABLE_COLUMNS, 0)

    async def write(self, batch: Batch) -> None:
        """Insert every row of `batch`, parent tables first."""
        for table, columns in TABLE_COLUMNS.items():
            rows = batch.rows[table]
            if rows:
                await self._insert(table, columns, rows)
                self.inserted[table] += len(rows)

    @abstractmethod
    def encode_timestamp(self, seconds: float) -> Any:
        """Convert POSIX seconds to the value the driver stores for a UTC time."""

    @abstractmethod
    async def _insert(
        self, table: str, columns: tuple[str, ...], rows: list[Row]
    ) -> None: ...


class PostgresCopySink(RowSink):
    """Write batches with asyncpg's binary COPY on the transaction's connection."""

    def __init__(self, driver_connection: Any) -> None:
        super().__init__()
        self._driver_connection = driver_connection

    def encode_timestamp(self, seconds: float) -> datetime:
        return datetime.fromtimestamp(seconds, UTC)

    async def _insert(
        self, table: str, columns: tuple[str, ...], rows: list[Row]
    ) -> None:
        await self._driver_connection.copy_records_to_table(
            table, records=rows, columns=columns
        )


class SqliteSink(RowSink):
    """Write batches with one executemany per table and batch."""

    def __init__(self, connection: AsyncConnection) -> None:
        super().__init__()
        self._connection = connection
        dialect = connection.dialect
        # The column type's own bind processor, so seeded times are stored in
        # exactly the text format that the application writes and reads.
        time_type = tables.users.c.created_at.type.dialect_impl(dialect)
        self._format_time = time_type.bind_processor(dialect)

    def encode_timestamp(self, seconds: float) -> Any:
        value = datetime.fromtimestamp(seconds, UTC)
        return self._format_time(value) if self._format_time else value

    async def _insert(
        self, table: str, columns: tuple[str, ...], rows: list[Row]
    ) -> None:
        placeholders = ", ".join("?" for _ in columns)
        statement = (
            f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({placeholders})"
        )
        await self._connection.exec_driver_sql(statement, rows)
