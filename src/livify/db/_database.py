"""Engines for one database, with a separate write path.

SQLite allows one writer at a time. A deferred transaction that reads first and
writes later can fail with "database is locked" when another writer got in
between, whatever the busy timeout, so on SQLite every write transaction starts
with `BEGIN IMMEDIATE` on a dedicated single-connection engine, and reads use a
second engine that never takes the write lock. On PostgreSQL both paths share
one pooled engine; replicas are routed here later.

Failures that mean "try again later" become `DatabaseUnavailable`: no pooled
connection free within the pool timeout, a server that refuses connections
or drops them mid-transaction, a statement cancelled by the statement
timeout (`StatementTimeout`), and SQLite still locked after its busy
timeout. The transaction is rolled back before the error reaches the caller.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

import structlog
from sqlalchemy import event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.pool import AsyncAdaptedQueuePool, QueuePool

from livify.db._exceptions import DatabaseUnavailable, StatementTimeout

logger = structlog.get_logger(__name__)

DEFAULT_POOL_SIZE = 10
DEFAULT_POOL_TIMEOUT_SECONDS = 5.0
# Generous, because seeding and other batch jobs share this class; the API
# server passes its own, shorter timeout.
DEFAULT_STATEMENT_TIMEOUT_SECONDS = 30.0
SQLITE_BUSY_TIMEOUT_MS = 5_000
# SQLSTATE classes that mean the server cannot serve now: 08 connection
# exception, 53 insufficient resources (too many connections), 57 operator
# intervention (statement timeout, shutdown, starting up).
UNAVAILABLE_SQLSTATE_CLASSES = frozenset({"08", "53", "57"})
QUERY_CANCELED_SQLSTATE = "57014"

PoolWaitHook = Callable[[str, float], None]


def normalise_database_url(url: str) -> str:
    """Pick the async driver for plain `postgresql://` and `sqlite://` URLs."""
    for prefix, async_prefix in (
        ("postgres://", "postgresql+asyncpg://"),
        ("postgresql://", "postgresql+asyncpg://"),
        ("sqlite://", "sqlite+aiosqlite://"),
    ):
        if url.startswith(prefix):
            return async_prefix + url[len(prefix) :]

    return url


class Database:
    """Own the engines for one database URL and hand out transactions.

    `read()` yields a connection inside a transaction that only reads; `write()`
    yields one inside a transaction that commits on success and rolls back on
    any exception. Call `aclose()` at shutdown.

    `statement_timeout_seconds` sets PostgreSQL's `statement_timeout` on every
    connection (None turns it off). SQLite has no statement timeout, so there
    it is ignored.
    """

    def __init__(
        self,
        url: str,
        *,
        pool_size: int = DEFAULT_POOL_SIZE,
        pool_timeout_seconds: float = DEFAULT_POOL_TIMEOUT_SECONDS,
        statement_timeout_seconds: float | None = DEFAULT_STATEMENT_TIMEOUT_SECONDS,
        echo: bool = False,
        on_pool_wait: PoolWaitHook | None = None,
    ) -> None:
        self.url: URL = make_url(normalise_database_url(url))
        self.is_sqlite = self.url.get_backend_name() == "sqlite"
        self._pool_timeout_seconds = pool_timeout_seconds
        self._on_pool_wait = on_pool_wait
        self._waiting = {"read": 0, "write": 0}

        if self.is_sqlite:
            self._prepare_sqlite_file()
            self.read_engine = self._create_sqlite_engine(pool_size, echo)
            self.write_engine = self._create_sqlite_engine(1, echo, immediate=True)
        else:
            self.read_engine = create_async_engine(
                self.url,
                pool_size=pool_size,
                max_overflow=0,
                pool_timeout=pool_timeout_seconds,
                pool_pre_ping=True,
                echo=echo,
                connect_args=_postgres_connect_args(statement_timeout_seconds),
            )
            self.write_engine = self.read_engine

    @property
    def dialect_name(self) -> str:
        return self.url.get_backend_name()

    def describe(self) -> str:
        """Return the URL with any password hidden, for logs."""
        return self.url.render_as_string(hide_password=True)

    def engines(self) -> list[AsyncEngine]:
        """Return each distinct engine once, for instrumentation and tests."""
        return [engine for _, engine in self._named_engines()]

    def pool_stats(self) -> dict[str, dict[str, int]]:
        """Return size, checked-out and waiting counts per pool ("read", "write").

        On PostgreSQL both names share one pool, so only "read" is reported.
        """
        stats = {}
        for name, engine in self._named_engines():
            pool = engine.pool
            stats[name] = {
                "size": pool.size() if isinstance(pool, QueuePool) else 0,
                "checked_out": pool.checkedout() if isinstance(pool, QueuePool) else 0,
                "waiting": self._waiting[name],
            }
        return stats

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncConnection]:
        """Yield a connection in a read transaction, rolled back at the end."""
        with self._unavailable_on_failure():
            async with self._connect("read") as connection, connection.begin():
                yield connection

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncConnection]:
        """Yield a connection in a transaction that commits when the block succeeds."""
        with self._unavailable_on_failure():
            async with self._connect("write") as connection, connection.begin():
                yield connection

    async def aclose(self) -> None:
        for engine in self.engines():
            await engine.dispose()

    def _named_engines(self) -> list[tuple[str, AsyncEngine]]:
        if self.write_engine is self.read_engine:
            return [("read", self.read_engine)]

        return [("read", self.read_engine), ("write", self.write_engine)]

    @contextmanager
    def _unavailable_on_failure(self) -> Iterator[None]:
        """Turn errors raised inside a transaction that mean "retry later" into ours.

        The transaction has been rolled back (or its connection discarded) by
        the time the error arrives here.
        """
        try:
            yield
        except DBAPIError as exc:
            if not _is_unavailable(exc):
                raise

            detail = exc.orig or exc
            if getattr(exc.orig, "sqlstate", None) == QUERY_CANCELED_SQLSTATE:
                msg = f"a statement ran past the statement timeout: {detail}"
                raise StatementTimeout(msg) from exc

            msg = f"the database at {self.describe()!r} failed: {detail}"
            raise DatabaseUnavailable(msg) from exc
        except OSError as exc:
            msg = f"the connection to the database at {self.describe()!r} failed: {exc}"
            raise DatabaseUnavailable(msg) from exc

    @asynccontextmanager
    async def _connect(self, pool_name: str) -> AsyncIterator[AsyncConnection]:
        engine = self.write_engine if pool_name == "write" else self.read_engine
        if engine is self.read_engine:
            pool_name = "read"

        started = time.perf_counter()
        self._waiting[pool_name] += 1
        try:
            connection = await engine.connect()
        except PoolTimeoutError as exc:
            msg = (
                f"no database connection was free within "
                f"{self._pool_timeout_seconds!r} s; "
                f"raise pool_size or look for slow queries"
            )
            raise DatabaseUnavailable(msg) from exc
        except (OSError, DBAPIError) as exc:
            # The driver's own error, without SQLAlchemy's link to its docs.
            detail = getattr(exc, "orig", None) or exc
            msg = f"cannot connect to the database at {self.describe()!r}: {detail}"
            raise DatabaseUnavailable(msg) from exc
        finally:
            self._waiting[pool_name] -= 1
            if self._on_pool_wait is not None:
                self._on_pool_wait(pool_name, time.perf_counter() - started)

        try:
            yield connection
        finally:
            await connection.close()

    def _prepare_sqlite_file(self) -> None:
        database = self.url.database
        if database and database != ":memory:" and not database.startswith("file:"):
            Path(database).parent.mkdir(parents=True, exist_ok=True)

    def _create_sqlite_engine(
        self, pool_size: int, echo: bool, *, immediate: bool = False
    ) -> AsyncEngine:
        engine = create_async_engine(
            self.url,
            poolclass=AsyncAdaptedQueuePool,
            pool_size=pool_size,
            max_overflow=0,
            pool_timeout=self._pool_timeout_seconds,
            echo=echo,
        )
        _configure_sqlite(engine, immediate=immediate)
        return engine


def _postgres_connect_args(statement_timeout_seconds: float | None) -> dict[str, Any]:
    if statement_timeout_seconds is None:
        return {}

    milliseconds = max(1, round(statement_timeout_seconds * 1000))
    return {"server_settings": {"statement_timeout": str(milliseconds)}}


def _is_unavailable(exc: DBAPIError) -> bool:
    """Return whether `exc` means the database cannot serve now, not a bad query."""
    if exc.connection_invalidated:
        return True

    sqlstate = getattr(exc.orig, "sqlstate", None)
    if isinstance(sqlstate, str):
        return sqlstate[:2] in UNAVAILABLE_SQLSTATE_CLASSES

    # SQLite has no SQLSTATE. SQLITE_BUSY after the busy timeout means another
    # writer held the lock throughout; the low byte is the primary result code.
    error_code = getattr(exc.orig, "sqlite_errorcode", None)
    return isinstance(error_code, int) and error_code & 0xFF == sqlite3.SQLITE_BUSY


def _configure_sqlite(engine: AsyncEngine, *, immediate: bool) -> None:
    """Set WAL mode and pragmas on each connection and take over BEGIN.

    pysqlite's own implicit BEGIN is switched off (isolation_level None) so
    that SQLAlchemy's "begin" event decides how a transaction starts.
    """

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    begin_statement = "BEGIN IMMEDIATE" if immediate else "BEGIN"

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql(begin_statement)
