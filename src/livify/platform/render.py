"""Build the API's JSON shapes from database rows."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from livify.platform.tables import APPROVED

if TYPE_CHECKING:
    from livify.platform.sql import AnyRow


def format_timestamp(value: datetime) -> str:
    """Format as ISO 8601 UTC with milliseconds, always present (`...05.000Z`)."""
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def user(row: AnyRow, token: str) -> dict[str, Any]:
    return {
        "email": row.email,
        "token": token,
        "username": row.username,
        "bio": row.bio,
        "image": row.image,
    }


def profile(
    username: str, bio: str | None, image: str | None, *, following: bool
) -> dict[str, Any]:
    return {"username": username, "bio": bio, "image": image, "following": following}


def article(
    row: AnyRow,
    *,
    tags: list[str],
    favorited: bool,
    following: bool,
    with_body: bool,
) -> dict[str, Any]:
    """Render an article row joined with its author's `author_*` columns."""
    rendered: dict[str, Any] = {
        "slug": row.slug,
        "title": row.title,
        "description": row.description,
    }
    if with_body:
        rendered["body"] = row.body

    rendered.update(
        tagList=tags,
        createdAt=format_timestamp(row.created_at),
        updatedAt=format_timestamp(row.updated_at),
        favorited=favorited,
        favoritesCount=row.favorites_count,
        author=profile(
            row.author_username,
            row.author_bio,
            row.author_image,
            following=following,
        ),
    )
    _add_moderation_status(rendered, row)
    return rendered


def comment(row: AnyRow, *, following: bool) -> dict[str, Any]:
    """Render a comment row joined with its author's `author_*` columns."""
    rendered = {
        "id": row.id,
        "createdAt": format_timestamp(row.created_at),
        "updatedAt": format_timestamp(row.updated_at),
        "body": row.body,
        "author": profile(
            row.author_username,
            row.author_bio,
            row.author_image,
            following=following,
        ),
    }
    _add_moderation_status(rendered, row)
    return rendered


def _add_moderation_status(rendered: dict[str, Any], row: AnyRow) -> None:
    """Mark a post that only its author can read: `"moderation": "pending"`.

    Published posts carry no such field, so their JSON is the RealWorld one.
    """
    status = getattr(row, "moderation_status", APPROVED)
    if status != APPROVED:
        rendered["moderation"] = status
