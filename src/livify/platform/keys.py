"""Canonical form of user names and emails, for uniqueness and look-ups."""

from __future__ import annotations

import unicodedata


def canonical_key(value: str) -> str:
    """Return the case-folded NFKC form, so look-alike spellings collide.

    "Alice", "ALICE" and "alice" share one key, and so do a precomposed "é"
    and "e" followed by a combining accent, and "alice" in full-width letters
    (U+FF41 and on). NFKC is applied again after case folding, because
    folding can produce text that is no longer in NFKC.
    """
    folded = unicodedata.normalize("NFKC", value).casefold()
    return unicodedata.normalize("NFKC", folded)
