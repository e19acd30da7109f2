"""Alembic migrations on every store."""

from __future__ import annotations

from sqlalchemy import select

from livify.db import Database
from livify.platform import migrate
from livify.platform.tables import users, utcnow


async def test_upgrade_reaches_head(database_url: str) -> None:
    """A new database migrates to the newest revision and reports it."""
    database = Database(database_url)
    try:
        await migrate.upgrade(database)

        assert await migrate.is_current(database)
    finally:
        await database.aclose()


async def test_nfkc_keys_recomputed_on_upgrade(database_url: str) -> None:
    """Revision 0002 rewrites NFC keys of existing users as NFKC keys."""
    database = Database(database_url)
    full_width = "".join(chr(ord(letter) - ord("a") + 0xFF41) for letter in "bob")
    try:
        await migrate.upgrade(database, "0001")
        async with database.write() as connection:
            # Revision 0001 stored the NFC key, which keeps full-width letters.
            await connection.execute(
                users.insert().values(
                    username=full_width,
                    username_key=full_width,
                    email="B@Example.com",
                    email_key="b@example.com",
                    password_hash="not a hash",
                    created_at=utcnow(),
                    updated_at=utcnow(),
                )
            )

        await migrate.upgrade(database)
        async with database.read() as connection:
            key = (await connection.execute(select(users.c.username_key))).scalar_one()
    finally:
        await database.aclose()

    assert key == "bob"
