"""Canonical form of user names and emails, for uniqueness and look-ups."""

from __future__ import annotations

import unicodedata


def canonical_key(value: str) -> str:
    """Return the case-folded NFC form, so look-alike spellings collide.

    "Alice", "ALICE" and "alice" share one key, and so do a precomposed "é"
    and "e" followed by a combining accent.
    """
    folded = unicodedata.normalize("NFC", value).casefold()
    return unicodedata.normalize("NFC", folded)
