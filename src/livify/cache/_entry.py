"""Cache entries and their encoding in Redis.

L1 and L2 hold the same encoded value bytes, and a hit decodes them, so both
layers return the same types (what orjson gives back: dicts, lists, str,
numbers, or `bytes` stored as such) and a caller that mutates a returned
value never changes the cached one.

An L2 value is a 4-byte big-endian header length, a JSON header
`[format, kind, expires_at, stale_until, load_seconds, tag_versions]` and
the value bytes.
"""

from __future__ import annotations

import enum
import struct
from dataclasses import dataclass
from typing import Any

import orjson

from livify.cache._exceptions import NotFound

ENCODING_FORMAT = 1
# An estimate of what an L1 entry costs beyond its value bytes: the key
# string, the Entry object and its tag dict.
ENTRY_OVERHEAD_BYTES = 256

_HEADER_LENGTH = struct.Struct(">I")


class ValueKind(enum.IntEnum):
    JSON = 0
    BYTES = 1
    NOT_FOUND = 2


@dataclass(slots=True)
class Entry:
    """One cached value with the metadata that decides whether it is fresh.

    `expires_at` ends the fresh period and `stale_until` the period in which
    the entry may still be served while it is refreshed. Both are clock
    readings in seconds. `tag_versions` are the versions of the entry's tags
    read before its value was loaded.
    """

    kind: ValueKind
    value_bytes: bytes
    expires_at: float
    stale_until: float
    load_seconds: float
    tag_versions: dict[str, int]
    namespace: str = ""
    l1_expires_at: float = 0.0
    error_until: float = 0.0
    """Until then L1 keeps the entry after expiry, for stale-if-error."""
    size_bytes: int = 0
    tags_checked_at: int = -1
    """`TagVersions.changes` when the tags were last found current."""

    def decode(self) -> Any:
        """Return the value, or raise `NotFound` for a negative entry."""
        if self.kind is ValueKind.JSON:
            return orjson.loads(self.value_bytes)

        if self.kind is ValueKind.BYTES:
            return self.value_bytes

        raise NotFound


def encode_value(value: object) -> tuple[ValueKind, bytes]:
    """Encode a value for both layers: `bytes` as they are, the rest as JSON."""
    if isinstance(value, bytes):
        return ValueKind.BYTES, value

    try:
        return ValueKind.JSON, orjson.dumps(value)
    except orjson.JSONEncodeError as exc:
        msg = (
            f"cannot cache a value of type {type(value).__name__!r}: {exc}; "
            f"return bytes or something orjson can serialise"
        )
        raise TypeError(msg) from exc


def dump_entry(entry: Entry) -> bytes:
    """Encode an entry as the bytes stored in Redis."""
    header = orjson.dumps(
        [
            ENCODING_FORMAT,
            int(entry.kind),
            entry.expires_at,
            entry.stale_until,
            entry.load_seconds,
            entry.tag_versions,
        ]
    )
    return _HEADER_LENGTH.pack(len(header)) + header + entry.value_bytes


def load_entry(data: bytes, namespace: str) -> Entry | None:
    """Decode bytes written by `dump_entry`, or return None for another format."""
    if len(data) < _HEADER_LENGTH.size:
        return None

    (header_length,) = _HEADER_LENGTH.unpack_from(data)
    body_start = _HEADER_LENGTH.size + header_length
    try:
        header = orjson.loads(data[_HEADER_LENGTH.size : body_start])
        version, kind, expires_at, stale_until, load_seconds, tag_versions = header
        if version != ENCODING_FORMAT:
            return None

        return Entry(
            kind=ValueKind(kind),
            value_bytes=data[body_start:],
            expires_at=float(expires_at),
            stale_until=float(stale_until),
            load_seconds=float(load_seconds),
            tag_versions={str(tag): int(v) for tag, v in tag_versions.items()},
            namespace=namespace,
        )
    except (orjson.JSONDecodeError, ValueError, TypeError, AttributeError):
        return None
