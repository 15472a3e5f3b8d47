"""The docstring examples of the extracts package run and hold."""

import doctest
import importlib

import pytest

MODULES = ["spec", "variables", "pseudonyms", "disclosure", "docs", "select", "writers"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(f"opr_analysis.extracts.{name}")
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
