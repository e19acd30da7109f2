"""The versions of tags as this process last saw them.

Invalidating a tag gives it a new version, taken from one counter that only
grows, so a version is never reused. An entry records the versions of its
tags read before its value was loaded, and it is current only while every
one of them still equals the version seen here. Dropping every entry of a
tag therefore costs one write, whatever the number of entries.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

# Every entry carries this tag, so bumping it invalidates the whole cache.
GLOBAL_TAG = "*"
DEFAULT_MAX_LOCAL_TAGS = 100_000


class TagVersions:
    """A bounded map from tag to version, merged from every source.

    With L1 alone this map is the only record of versions. With Redis it
    mirrors the versions stored there, learned from reads and from pub/sub
    messages. A version only moves forward, so a late reply cannot undo a
    newer message. When the map is full the oldest tag is dropped, and an
    entry that carries a tag missing from the map counts as not current.
    """

    def __init__(self, *, max_tags: int = DEFAULT_MAX_LOCAL_TAGS) -> None:
        if max_tags <= 0:
            msg = f"max_tags must be positive, got {max_tags!r}"
            raise ValueError(msg)

        self.max_tags = max_tags
        self._versions: dict[str, int] = {}
        self._counter = 0
        self._changes = 0

    def __len__(self) -> int:
        return len(self._versions)

    @property
    def counter(self) -> int:
        """The highest version seen or given; later invalidations exceed it."""
        return self._counter

    @property
    def changes(self) -> int:
        """Counts the changes that can make a current entry outdated.

        A version moved forward, a tag dropped, the map cleared: while this
        stays the same, an entry found current stays current, so a reader
        can remember the check instead of repeating it on every hit.
        """
        return self._changes

    def snapshot(self, tags: Iterable[str]) -> dict[str, int]:
        """Return the versions of `tags` and the global tag, recording unknown ones.

        A tag not in the map gets the current counter value. That value is at
        least every version an older entry of the tag can carry, and equal to
        one only if no tag was invalidated since, so no outdated entry passes.
        """
        snapshot = {GLOBAL_TAG: self._get_or_insert(GLOBAL_TAG)}
        for tag in tags:
            snapshot[tag] = self._get_or_insert(tag)
        return snapshot

    def is_current(self, tag_versions: Mapping[str, int]) -> bool:
        """Return whether every version equals the one recorded here."""
        versions = self._versions
        for tag, version in tag_versions.items():
            if versions.get(tag) != version:
                return False

        return True

    def observe(self, tag_versions: Mapping[str, int]) -> None:
        """Merge versions read from Redis or a message, keeping the newer one."""
        for tag, version in tag_versions.items():
            known = self._versions.get(tag)
            if known is None:
                self._insert(tag, version)
            elif version > known:
                self._versions[tag] = version
                self._changes += 1
            self._counter = max(self._counter, version)

    def bump(self, tags: Iterable[str]) -> dict[str, int]:
        """Give `tags` one new version, higher than every version seen."""
        self._counter += 1
        self._changes += 1
        bumped = {}
        for tag in tags:
            if tag in self._versions:
                self._versions[tag] = self._counter
            else:
                self._insert(tag, self._counter)
            bumped[tag] = self._counter
        return bumped

    def clear(self) -> None:
        """Forget every tag; entries with tags then count as not current."""
        self._versions.clear()
        self._changes += 1

    def _get_or_insert(self, tag: str) -> int:
        version = self._versions.get(tag)
        if version is None:
            version = self._counter
            self._insert(tag, version)
        return version

    def _insert(self, tag: str, version: int) -> None:
        if len(self._versions) >= self.max_tags:
            # Dicts keep insertion order, so this drops the oldest tag.
            del self._versions[next(iter(self._versions))]
            self._changes += 1
        self._versions[tag] = version


def check_tag(tag: str) -> str:
    """Return `tag`, or raise `ValueError` when it is empty or the global tag."""
    if not isinstance(tag, str) or not tag or tag == GLOBAL_TAG:
        msg = f"invalid cache tag {tag!r}: use a non-empty string other than '*'"
        raise ValueError(msg)
    return tag
