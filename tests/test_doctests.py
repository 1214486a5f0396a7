"""The examples in the docstrings of sim/ run and give what they show."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import sim

MODULES = sorted(
    m.name for m in pkgutil.walk_packages(sim.__path__, "sim.") if not m.name.endswith("__main__")
)


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    mod = importlib.import_module(name)
    result = doctest.testmod(mod, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0, f"{name}: {result.failed} of {result.attempted} examples failed"
