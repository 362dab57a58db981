"""Every public callable has a numpydoc docstring that says what it takes and gives."""

from __future__ import annotations

import importlib
import inspect

import pytest

PUBLIC_MODULES = [
    "spanfast",
    "spanfast.span_classification",
    "spanfast.token_classification.filter",
    "spanfast.token_classification.rank",
    "spanfast.token_classification.summary",
    "spanfast.token_classification.utils",
    "spanfast.io",
    "spanfast.results",
    "spanfast.streaming",
    "spanfast.core",
    "spanfast.ragged",
    "spanfast.cli",
    "spanfast.dask",
]


def _public_functions():
    for module_name in PUBLIC_MODULES:
        module = importlib.import_module(module_name)
        listed = getattr(module, "__all__", None)
        for name in listed or [n for n in vars(module) if n[0] != "_"]:
            obj = getattr(module, name)
            # Without __all__, only what the module defines is its API (not its imports).
            if inspect.isfunction(obj) and (listed or obj.__module__ == module_name):
                yield pytest.param(obj, id=f"{module_name}.{name}")


@pytest.mark.parametrize("function", list(_public_functions()))
def test_public_function_has_parameters_and_returns(function):
    doc = inspect.getdoc(function) or ""
    for section in ("Parameters", "Returns"):
        assert f"{section}\n----" in doc, f"{function.__qualname__}: no {section} section"
