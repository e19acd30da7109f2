"""MemoryStore: the L1 bounds and least-recently-used eviction."""

from __future__ import annotations

import pytest

from livify.cache._entry import ENTRY_OVERHEAD_BYTES, Entry, ValueKind
from livify.cache._memory import MemoryStore


def make_entry(value_bytes: bytes = b"x", namespace: str = "test") -> Entry:
    return Entry(
        kind=ValueKind.BYTES,
        value_bytes=value_bytes,
        expires_at=100.0,
        stale_until=100.0,
        load_seconds=0.0,
        tag_versions={},
        namespace=namespace,
    )


def test_entry_bound_evicts_least_recent() -> None:
    """Past max_entries the least recently used key goes first."""
    evicted: list[str] = []
    store = MemoryStore(
        max_entries=3, on_eviction=lambda entry: evicted.append(entry.namespace)
    )
    for name in ("a", "b", "c"):
        store.set(name, make_entry(namespace=name))

    assert store.get("a") is not None
    store.set("d", make_entry(namespace="d"))

    assert len(store) == 3
    assert "b" not in store
    assert "a" in store
    assert evicted == ["b"]


def test_byte_bound_evicts_until_within() -> None:
    """Past max_bytes entries are evicted until the total fits again."""
    entry_size = 1000 + 1 + ENTRY_OVERHEAD_BYTES
    store = MemoryStore(max_entries=100, max_bytes=entry_size * 3)
    for name in ("a", "b", "c", "d"):
        store.set(name, make_entry(b"v" * 1000))

    assert len(store) == 3
    assert store.size_bytes == entry_size * 3
    assert "a" not in store

    store.delete("b")
    assert store.size_bytes == entry_size * 2


def test_oversized_entry_is_not_stored() -> None:
    """An entry larger than max_bytes alone is rejected and evicts nothing."""
    store = MemoryStore(max_bytes=2000)
    store.set("small", make_entry(b"s"))

    assert store.set("big", make_entry(b"b" * 5000)) is False
    assert "big" not in store
    assert "small" in store


def test_replacing_key_keeps_size_right() -> None:
    """Setting an existing key replaces its size instead of adding to it."""
    store = MemoryStore()
    store.set("k", make_entry(b"a" * 100))
    store.set("k", make_entry(b"a" * 10))

    assert len(store) == 1
    assert store.size_bytes == 10 + 1 + ENTRY_OVERHEAD_BYTES


@pytest.mark.parametrize("bounds", [{"max_entries": 0}, {"max_bytes": -1}])
def test_store_rejects_non_positive_bounds(bounds: dict[str, int]) -> None:
    """Zero or negative bounds raise ValueError."""
    with pytest.raises(ValueError, match="must be positive"):
        MemoryStore(**bounds)
