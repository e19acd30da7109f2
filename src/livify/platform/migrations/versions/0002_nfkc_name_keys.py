"""compare user names and emails in NFKC, not NFC

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-04 20:45:00

Recomputes `username_key` and `email_key` so that compatibility look-alikes,
such as full-width letters, share one key. Two existing accounts whose names
only differ that way make this migration fail on the unique constraint;
rename one of them first.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

BATCH_ROWS = 1_000

users = sa.table(
    "users",
    sa.column("id", sa.BigInteger),
    sa.column("username", sa.String),
    sa.column("username_key", sa.String),
    sa.column("email", sa.String),
    sa.column("email_key", sa.String),
)


# A frozen copy of the key function, so later changes to the application's
# version cannot change what this migration did.
def _nfkc_key(value: str) -> str:
    folded = unicodedata.normalize("NFKC", value).casefold()
    return unicodedata.normalize("NFKC", folded)


def _nfc_key(value: str) -> str:
    folded = unicodedata.normalize("NFC", value).casefold()
    return unicodedata.normalize("NFC", folded)


def _recompute(key: Callable[[str], str]) -> None:
    connection = op.get_bind()
    last_id = 0
    while True:
        rows = connection.execute(
            sa.select(users.c.id, users.c.username, users.c.email)
            .where(users.c.id > last_id)
            .order_by(users.c.id)
            .limit(BATCH_ROWS)
        ).all()
        if not rows:
            return

        connection.execute(
            users.update()
            .where(users.c.id == sa.bindparam("row_id"))
            .values(
                username_key=sa.bindparam("new_username_key"),
                email_key=sa.bindparam("new_email_key"),
            ),
            [
                {
                    "row_id": row.id,
                    "new_username_key": key(row.username),
                    "new_email_key": key(row.email),
                }
                for row in rows
            ],
        )
        last_id = rows[-1].id


def upgrade() -> None:
    _recompute(_nfkc_key)


def downgrade() -> None:
    _recompute(_nfc_key)
