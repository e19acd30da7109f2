"""The relational schema of the community platform.

Every list the API serves is ordered newest first. So each access path has an
index that ends in `(created_at, id)`, or reaches article ids through a key:
all articles, by author, by tag (`article_tags`), favorited by a user
(`favorites`) and the feed (`follows`). `favorites_count` is kept on the
article row and changed in the same transaction as the favorite row, so a
list page never counts favorites.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
    literal_column,
)
from sqlalchemy.engine import Dialect

# Alembic and PostgreSQL both use these names, so keep them stable.
metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# SQLite has only 64-bit INTEGER PRIMARY KEY as its row id alias, and BigInteger
# would lose autoincrement there.
Id = BigInteger().with_variant(Integer(), "sqlite")


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend.

    SQLite stores no offset, so values are kept as naive UTC there and get
    their UTC tzinfo back on load.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None

        if not isinstance(value, datetime) or value.tzinfo is None:
            msg = f"naive datetime {value!r} given; pass an aware UTC datetime"
            raise ValueError(msg)

        utc_value = value.astimezone(UTC)
        return utc_value.replace(tzinfo=None) if dialect.name == "sqlite" else utc_value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if not isinstance(value, datetime):
            return None

        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)

        return value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


# Values of `moderation_status` on articles and comments. Only approved posts
# are shown to anyone but their author; see `livify.platform.moderation`.
APPROVED = "approved"
PENDING = "pending"
REJECTED = "rejected"


users = Table(
    "users",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("username", String(64), nullable=False),
    # Case-folded NFC forms: uniqueness and look-ups ignore case and Unicode
    # composition, so "Alice" and "alice" are one account name.
    Column("username_key", String(64), nullable=False, unique=True),
    Column("email", String(254), nullable=False),
    Column("email_key", String(254), nullable=False, unique=True),
    Column("password_hash", String(255), nullable=False),
    Column("bio", Text, nullable=True),
    Column("image", String(2048), nullable=True),
    Column("tier", String(32), nullable=False, server_default="standard"),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

follows = Table(
    "follows",
    metadata,
    Column(
        "follower_id",
        Id,
        ForeignKey("users.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column(
        "followee_id",
        Id,
        ForeignKey("users.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("created_at", UTCDateTime, nullable=False),
    Index("ix_follows_followee_id", "followee_id"),
)

articles = Table(
    "articles",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("slug", String(320), nullable=False, unique=True),
    Column("title", String(256), nullable=False),
    Column("description", String(1024), nullable=False),
    Column("body", Text, nullable=False),
    Column(
        "author_id",
        Id,
        ForeignKey("users.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("favorites_count", Integer, nullable=False, server_default="0"),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("moderation_status", String(16), nullable=False, server_default=APPROVED),
    Index("ix_articles_author_id_created_at_id", "author_id", "created_at", "id"),
)

tags = Table(
    "tags",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("name", String(64), nullable=False, unique=True),
)

article_tags = Table(
    "article_tags",
    metadata,
    Column(
        "article_id",
        Id,
        ForeignKey("articles.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column(
        "tag_id",
        Id,
        ForeignKey("tags.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Index("ix_article_tags_tag_id_article_id", "tag_id", "article_id"),
)

favorites = Table(
    "favorites",
    metadata,
    Column(
        "user_id",
        Id,
        ForeignKey("users.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column(
        "article_id",
        Id,
        ForeignKey("articles.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("created_at", UTCDateTime, nullable=False),
    Index("ix_favorites_article_id", "article_id"),
)

comments = Table(
    "comments",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column(
        "article_id",
        Id,
        ForeignKey("articles.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column(
        "author_id",
        Id,
        ForeignKey("users.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("body", Text, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("moderation_status", String(16), nullable=False, server_default=APPROVED),
    Index("ix_comments_article_id_created_at_id", "article_id", "created_at", "id"),
    Index("ix_comments_author_id", "author_id"),
)

# The literal, not a bound parameter, so that PostgreSQL can match the
# partial index below even in a generic plan of a prepared statement.
ARTICLE_IS_PUBLISHED = articles.c.moderation_status == literal_column(f"'{APPROVED}'")
COMMENT_IS_PUBLISHED = comments.c.moderation_status == literal_column(f"'{APPROVED}'")

# Counting and paging all published articles reads only this index.
Index(
    "ix_articles_published_created_at_id",
    articles.c.created_at,
    articles.c.id,
    postgresql_where=ARTICLE_IS_PUBLISHED,
    sqlite_where=ARTICLE_IS_PUBLISHED,
)

moderation_queue = Table(
    "moderation_queue",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    # "article" or "comment"; `target_id` is that table's id. There is no
    # foreign key, so a deleted post leaves a row that the worker drops.
    Column("kind", String(16), nullable=False),
    Column("target_id", Id, nullable=False),
    # Bumped by each edit, so a check of older text never publishes newer.
    Column("revision", Integer, nullable=False, server_default="1"),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("next_attempt_at", UTCDateTime, nullable=False),
    # A worker's claim: the row is its own until `locked_until`, and a write
    # that does not carry `claim_token` changes nothing.
    Column("locked_until", UTCDateTime, nullable=True),
    Column("claim_token", String(32), nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    UniqueConstraint("kind", "target_id", name="uq_moderation_queue_kind_target_id"),
    Index("ix_moderation_queue_next_attempt_at", "next_attempt_at"),
)
