"""URL slugs for article titles in any script."""

from __future__ import annotations

import itertools
import re
import secrets
import unicodedata

from slugify import slugify

from livify.platform.limits import SLUG_BASE_MAX_CHARS

FALLBACK_SLUG = "article"
# Paths under /api/articles/ that a slug would shadow.
RESERVED_SLUGS = frozenset({"feed"})
SUFFIX_BYTES = 4


def _disallowed_characters() -> re.Pattern[str]:
    """Compile a pattern for runs of characters that are not word characters.

    Combining marks (categories Mn, Mc and Me) write vowels and accents in
    Devanagari, pointed Hebrew and vowelled Arabic. Python's `re` counts
    them as `\\W`, so python-slugify's default pattern cut "हिन्दी" into
    "ह-न-द". This pattern keeps marks that follow a kept character, and drops
    those that follow a dropped one, such as the U+FE0F after an emoji. It is
    built once, at import.
    """
    # In Unicode 14 (Python 3.11), combining marks lie only in planes 0 and 1
    # and among the variation selectors U+E0100 to U+E01EF, so the scan skips
    # the rest.
    candidates = itertools.chain(range(0x20000), range(0xE0100, 0xE01F0))
    marks = [cp for cp in candidates if unicodedata.category(chr(cp))[0] == "M"]

    ranges = []
    for _, run in itertools.groupby(enumerate(marks), lambda pair: pair[1] - pair[0]):
        codepoints = [cp for _, cp in run]
        ranges.append(f"\\U{codepoints[0]:08x}-\\U{codepoints[-1]:08x}")

    mark = "".join(ranges)
    return re.compile(rf"(?:^[{mark}]+|(?:[^\w{mark}]|_)[{mark}]*)+")


DISALLOWED_CHARACTERS = _disallowed_characters()


def base_slug(title: str) -> str:
    """Return a lower-case, hyphenated slug that keeps letters of any script.

    CJK, Cyrillic, Arabic, Hebrew and Indic letters stay as they are, with
    their combining marks (clients percent-encode them in URLs). Symbols and
    emoji are dropped, and a title made only of those gets a fixed fallback.
    A slug that would name another route (`feed`) gets the fallback prefixed.
    """
    slug = slugify(
        title,
        allow_unicode=True,
        max_length=SLUG_BASE_MAX_CHARS,
        word_boundary=True,
        regex_pattern=DISALLOWED_CHARACTERS,
    )
    if slug in RESERVED_SLUGS:
        return f"{FALLBACK_SLUG}-{slug}"

    return slug or FALLBACK_SLUG


def with_random_suffix(base: str) -> str:
    """Return `base` plus a random suffix, for a title whose slug is taken."""
    return f"{base}-{secrets.token_hex(SUFFIX_BYTES)}"
