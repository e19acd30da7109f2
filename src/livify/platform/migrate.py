"""Apply the platform's Alembic migrations to a `Database`."""

from __future__ import annotations

import functools
from pathlib import Path

import structlog
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, text

from livify.db import Database

logger = structlog.get_logger(__name__)

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def alembic_config(connection: Connection | None = None) -> Config:
    """Build an Alembic config for the packaged migrations, with no ini file."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if connection is not None:
        config.attributes["connection"] = connection

    return config


async def upgrade(database: Database, revision: str = "head") -> None:
    """Migrate the database to `revision` (default: the newest)."""

    def _run(connection: Connection) -> None:
        command.upgrade(alembic_config(connection), revision)

    async with database.write() as connection:
        if not database.is_sqlite:
            # Building an index on a large table may take longer than the
            # statement timeout meant for API queries.
            await connection.execute(text("SET LOCAL statement_timeout = 0"))
        await connection.run_sync(_run)

    logger.info("db.migrated", database=database.describe(), revision=revision)


@functools.cache
def head_revision() -> str | None:
    """Return the newest revision of the packaged migrations."""
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


async def is_current(database: Database) -> bool:
    """Return whether the database is at the newest migration."""
    head = head_revision()

    def _current(connection: Connection) -> str | None:
        return MigrationContext.configure(connection).get_current_revision()

    async with database.read() as connection:
        current = await connection.run_sync(_current)

    return current == head
