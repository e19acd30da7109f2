"""hold posts for moderation and queue the ones still to check

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-06 10:00:00

Adds `moderation_status` to articles and comments (existing rows are
approved), the `moderation_queue` table, and replaces the index on all
articles by one on approved articles only, which list pages and their
counts read. A downgrade shows pending and rejected posts to everyone.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
IS_APPROVED = sa.text("moderation_status = 'approved'")


def upgrade() -> None:
    for table in ("articles", "comments"):
        with op.batch_alter_table(table) as batch:
            batch.add_column(
                sa.Column(
                    "moderation_status",
                    sa.String(length=16),
                    server_default="approved",
                    nullable=False,
                )
            )

    op.drop_index("ix_articles_created_at_id", table_name="articles")
    op.create_index(
        "ix_articles_published_created_at_id",
        "articles",
        ["created_at", "id"],
        unique=False,
        postgresql_where=IS_APPROVED,
        sqlite_where=IS_APPROVED,
    )
    op.create_table(
        "moderation_queue",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("target_id", ID, nullable=False),
        sa.Column("revision", sa.Integer(), server_default="1", nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("claim_token", sa.String(length=32), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_moderation_queue")),
        sa.UniqueConstraint(
            "kind", "target_id", name=op.f("uq_moderation_queue_kind_target_id")
        ),
    )
    op.create_index(
        "ix_moderation_queue_next_attempt_at",
        "moderation_queue",
        ["next_attempt_at"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_moderation_queue_next_attempt_at", table_name="moderation_queue")
    op.drop_table("moderation_queue")
    op.drop_index("ix_articles_published_created_at_id", table_name="articles")
    op.create_index(
        "ix_articles_created_at_id", "articles", ["created_at", "id"], unique=False
    )
    for table in ("comments", "articles"):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("moderation_status")
