"""Each package's `__all__` lists exactly the public names it re-exports."""

from __future__ import annotations

import importlib
from pathlib import Path
from types import ModuleType

import pytest

TOOLKIT_PACKAGES = [
    "livify.cache",
    "livify.capacity",
    "livify.db",
    "livify.loadtest",
    "livify.observability",
    "livify.ratelimit",
    "livify.resilience",
]


def isort_key(name: str) -> tuple[int, str]:
    """Order constants, then classes, then functions, as ruff's RUF022 does."""
    if name.isupper():
        return 0, name
    if name[0].isupper():
        return 1, name
    return 2, name


@pytest.mark.parametrize("name", TOOLKIT_PACKAGES)
def test_all_matches_public_names(name: str) -> None:
    """`__all__` is sorted and names every public attribute."""
    package = importlib.import_module(name)
    # Submodules become attributes once imported; they are not re-exports.
    public = {
        attribute
        for attribute, value in vars(package).items()
        if not attribute.startswith("_")
        and attribute != "annotations"
        and not isinstance(value, ModuleType)
    }

    assert list(package.__all__) == sorted(package.__all__, key=isort_key)
    assert set(package.__all__) == public


@pytest.mark.parametrize("name", TOOLKIT_PACKAGES)
def test_toolkit_never_imports_platform(name: str) -> None:
    """Toolkit modules import nothing from `livify.platform`."""
    package = importlib.import_module(name)
    for path in package.__path__:
        for source in Path(path).glob("*.py"):
            assert "livify.platform" not in source.read_text(), source
