"""The `Examples` sections of the core modules run as doctests (they are the API reference's
examples, so they must stay true)."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import lib.core

MODULES = sorted(m.name for m in pkgutil.iter_modules(lib.core.__path__) if not m.name.startswith("_"))


@pytest.mark.parametrize("name", MODULES)
def test_examples(name):
    module = importlib.import_module(f"lib.core.{name}")
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0


@pytest.mark.parametrize("name", MODULES)
def test_main_entry_has_examples(name):
    """Each core module documents a doctested Examples section (module or main function)."""
    module = importlib.import_module(f"lib.core.{name}")
    finder = doctest.DocTestFinder()
    assert any(t.examples for t in finder.find(module)), f"lib.core.{name} has no doctested example"
