"""Each package's `__all__` lists exactly the public names it re-exports."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

TOOLKIT_PACKAGES = ["livify.db", "livify.resilience"]


@pytest.mark.parametrize("name", TOOLKIT_PACKAGES)
def test_all_matches_public_names(name: str) -> None:
    """`__all__` is sorted and names every public attribute."""
    package = importlib.import_module(name)
    public = {
        attribute
        for attribute in vars(package)
        if not attribute.startswith("_") and attribute != "annotations"
    }

    assert list(package.__all__) == sorted(package.__all__)
    assert set(package.__all__) == public


@pytest.mark.parametrize("name", TOOLKIT_PACKAGES)
def test_toolkit_never_imports_platform(name: str) -> None:
    """Toolkit modules import nothing from `livify.platform`."""
    package = importlib.import_module(name)
    for path in package.__path__:
        for source in Path(path).glob("*.py"):
            assert "livify.platform" not in source.read_text(), source
