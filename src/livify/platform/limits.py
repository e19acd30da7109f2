"""Input limits of the API, in one place so docs and validation agree.

Lengths count Unicode code points after NFC normalisation, except where a
name says bytes.
"""

from __future__ import annotations

USERNAME_MAX_CHARS = 64
EMAIL_MAX_CHARS = 254  # RFC 5321 path limit
PASSWORD_MIN_CHARS = 8
PASSWORD_MAX_CHARS = 256
BIO_MAX_CHARS = 4_096
IMAGE_URL_MAX_CHARS = 2_048

TITLE_MAX_CHARS = 256
DESCRIPTION_MAX_CHARS = 1_024
ARTICLE_BODY_MAX_CHARS = 65_536
TAG_MAX_CHARS = 64
TAGS_PER_ARTICLE_MAX = 10
COMMENT_BODY_MAX_CHARS = 10_000

PAGE_SIZE_DEFAULT = 20
PAGE_SIZE_MAX = 100
# Deep offsets scan and discard every row before them; past this, use filters.
OFFSET_MAX = 100_000

SLUG_BASE_MAX_CHARS = 200
