"""Cache tags and surrogate keys of the platform, and which events drop them.

One vocabulary serves the application cache (entry tags) and the edge cache
(`Surrogate-Key`), so one invalidation reaches every layer. A cached entry
must name its tags before its value is loaded, so that an invalidation that
races the load is never lost. The tags are therefore built from what the
request names (a slug, a user name) rather than from ids found in the row:

- `article:<slug hash>`: one article's public view and every list page that
  shows it (edge only for list pages, whose content is known after loading);
- `comments:<slug hash>`: an article's comment list;
- `profile:<name hash>`: one profile;
- `favorites:<user id>` and `follows:<user id>`: one user's favorites and
  follows, which their flags and their feed depend on;
- `articles`: every article list page, whose membership or order any new,
  edited or deleted article can change;
- `profiles`: every view that embeds an author, which any profile edit can
  change (rare, so one coarse key serves);
- `favorited:lists`: every page filtered by `favorited=`, which any
  favorite can change;
- `tags`: the tag list.

Keys use only `[a-z0-9:]`, which the edge cache requires; slugs and names
are hashed for that reason.
"""

from __future__ import annotations

import hashlib

from livify.platform.events import (
    ArticleChanged,
    ArticleDeleted,
    CommentAdded,
    CommentDeleted,
    Event,
    FavoriteChanged,
    FollowChanged,
    UserChanged,
)
from livify.platform.keys import canonical_key

API_PREFIX = "/api/"
ARTICLE_LISTS = "articles"
PROFILES = "profiles"
FAVORITED_LISTS = "favorited:lists"
TAG_LIST = "tags"
HASH_BYTES = 8


def _digest(text: str) -> str:
    return hashlib.blake2b(text.encode(), digest_size=HASH_BYTES).hexdigest()


def article_key(slug: str) -> str:
    return f"article:{_digest(slug)}"


def comments_key(slug: str) -> str:
    return f"comments:{_digest(slug)}"


def profile_key(username: str) -> str:
    return f"profile:{_digest(canonical_key(username))}"


def favorites_key(user_id: int) -> str:
    return f"favorites:{user_id}"


def follows_key(user_id: int) -> str:
    return f"follows:{user_id}"


def keys_for_event(event: Event) -> set[str]:
    """Return the keys whose cached values `event` makes wrong."""
    match event:
        case ArticleChanged():
            keys = {article_key(event.slug), ARTICLE_LISTS, TAG_LIST}
            if event.previous_slug is not None:
                keys |= {
                    article_key(event.previous_slug),
                    comments_key(event.previous_slug),
                }
            return keys
        case ArticleDeleted():
            return {
                article_key(event.slug),
                comments_key(event.slug),
                ARTICLE_LISTS,
                TAG_LIST,
            }
        case CommentAdded() | CommentDeleted():
            return {comments_key(event.slug)}
        case FavoriteChanged():
            return {
                article_key(event.slug),
                favorites_key(event.user_id),
                FAVORITED_LISTS,
            }
        case FollowChanged():
            return {follows_key(event.follower_id)}
        case UserChanged():
            keys = {profile_key(event.username), PROFILES}
            if event.previous_username is not None:
                keys.add(profile_key(event.previous_username))
            return keys

    msg = f"no cache keys are defined for event {event!r}"
    raise TypeError(msg)


def response_tags(path: str, _query_string: bytes) -> list[str] | None:
    """Return the tags of the anonymous response to `path`, or None to skip it.

    Only single resources are stored whole: article list pages carry
    favorite counts that change without a tag of theirs changing, so the
    service cache serves them instead.
    """
    parts = path.removeprefix(API_PREFIX).split("/")
    match parts:
        case ["tags"]:
            return [TAG_LIST]
        case ["articles", slug] if slug and slug != "feed":
            return [article_key(slug), PROFILES]
        case ["articles", slug, "comments"] if slug:
            return [comments_key(slug), PROFILES]
        case ["profiles", username] if username:
            return [profile_key(username)]

    return None
