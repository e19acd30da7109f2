"""L1: an in-process LRU store bounded by entry count and bytes."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable

from livify.cache._entry import ENTRY_OVERHEAD_BYTES, Entry

DEFAULT_L1_MAX_ENTRIES = 10_000
DEFAULT_L1_MAX_BYTES = 64 * 1024 * 1024

EvictionHook = Callable[[Entry], None]


class MemoryStore:
    """Hold entries in least-recently-used order within two bounds.

    An entry's size is its value bytes plus its key plus a fixed estimate of
    256 bytes for the bookkeeping, so `max_bytes` bounds the encoded values,
    not the exact heap use. Setting a key evicts the least recently read or
    written entries until both bounds hold, and calls `on_eviction` for each.
    An entry larger than `max_bytes` on its own is not stored. The store does
    not look at expiry times; `Cache` drops expired entries when it reads them.
    """

    def __init__(
        self,
        *,
        max_entries: int = DEFAULT_L1_MAX_ENTRIES,
        max_bytes: int = DEFAULT_L1_MAX_BYTES,
        on_eviction: EvictionHook | None = None,
    ) -> None:
        if max_entries <= 0:
            msg = f"max_entries must be positive, got {max_entries!r}"
            raise ValueError(msg)

        if max_bytes <= 0:
            msg = f"max_bytes must be positive, got {max_bytes!r}"
            raise ValueError(msg)

        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self.on_eviction = on_eviction
        self._entries: OrderedDict[str, Entry] = OrderedDict()
        self._size_bytes = 0

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, key: str) -> bool:
        return key in self._entries

    @property
    def size_bytes(self) -> int:
        """Sum of the sizes of the entries held."""
        return self._size_bytes

    def get(self, key: str) -> Entry | None:
        """Return the entry under `key` and mark it most recently used."""
        entry = self._entries.get(key)
        if entry is not None:
            self._entries.move_to_end(key)
        return entry

    def set(self, key: str, entry: Entry) -> bool:
        """Store `entry` under `key`; return False when it exceeds `max_bytes`."""
        entry.size_bytes = len(entry.value_bytes) + len(key) + ENTRY_OVERHEAD_BYTES
        self.delete(key)
        if entry.size_bytes > self.max_bytes:
            return False

        self._entries[key] = entry
        self._size_bytes += entry.size_bytes
        self._evict()
        return True

    def delete(self, key: str) -> Entry | None:
        """Remove `key` and return its entry, if it had one."""
        entry = self._entries.pop(key, None)
        if entry is not None:
            self._size_bytes -= entry.size_bytes
        return entry

    def clear(self) -> None:
        self._entries.clear()
        self._size_bytes = 0

    def _evict(self) -> None:
        while (
            len(self._entries) > self.max_entries or self._size_bytes > self.max_bytes
        ):
            _, entry = self._entries.popitem(last=False)
            self._size_bytes -= entry.size_bytes
            if self.on_eviction is not None:
                self.on_eviction(entry)
