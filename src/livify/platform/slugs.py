"""URL slugs for article titles in any script."""

from __future__ import annotations

import secrets

from slugify import slugify

from livify.platform.limits import SLUG_BASE_MAX_CHARS

FALLBACK_SLUG = "article"
SUFFIX_BYTES = 4


def base_slug(title: str) -> str:
    """Return a lower-case, hyphenated slug that keeps letters of any script.

    CJK, Cyrillic, Arabic and Hebrew letters stay as they are (clients
    percent-encode them in URLs); symbols and emoji are dropped, and a title
    made only of those gets a fixed fallback.
    """
    slug = slugify(
        title, allow_unicode=True, max_length=SLUG_BASE_MAX_CHARS, word_boundary=True
    )
    return slug or FALLBACK_SLUG


def with_random_suffix(base: str) -> str:
    """Return `base` plus a random suffix, for a title whose slug is taken."""
    return f"{base}-{secrets.token_hex(SUFFIX_BYTES)}"
