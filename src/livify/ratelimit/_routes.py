"""Match request paths to route templates such as `/api/articles/{slug}`."""

from __future__ import annotations

import re
from collections.abc import Iterable

_PARAMETER = re.compile(r"\{[^/{}]+\}")
DEFAULT_MAX_CACHED_PATHS = 10_000


class RouteMatcher:
    """Find the first template that matches a path, with a bounded cache of answers."""

    def __init__(
        self,
        templates: Iterable[str],
        *,
        max_cached_paths: int = DEFAULT_MAX_CACHED_PATHS,
    ) -> None:
        self._literal: dict[str, str] = {}
        self._patterns: list[tuple[re.Pattern[str], str]] = []
        for template in templates:
            if _PARAMETER.search(template) is None:
                self._literal.setdefault(template, template)
                continue

            parts = _PARAMETER.split(template)
            regex = "[^/]+".join(re.escape(part) for part in parts)
            self._patterns.append((re.compile(f"^{regex}$"), template))

        self._cache: dict[str, str | None] = {}
        self.max_cached_paths = max_cached_paths

    def match(self, path: str) -> str | None:
        """Return the template of `path`, or None when no template matches."""
        template = self._literal.get(path)
        if template is not None:
            return template

        if path in self._cache:
            return self._cache[path]

        template = next(
            (name for pattern, name in self._patterns if pattern.match(path)), None
        )
        if len(self._cache) >= self.max_cached_paths:
            self._cache.clear()
        self._cache[path] = template
        return template
