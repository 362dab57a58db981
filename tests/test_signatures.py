"""Every public spanfast function has exactly its cleanlab 2.9.0 twin's parameters."""

from __future__ import annotations

import inspect

import pytest
from registry import FUNCTION_PAIRS, resolve


def _parameters(fn):
    return [(p.name, p.kind, p.default) for p in inspect.signature(fn).parameters.values()]


@pytest.mark.parametrize(("spanfast_path", "cleanlab_path"), FUNCTION_PAIRS)
def test_signature_matches_cleanlab(spanfast_path, cleanlab_path):
    spanfast_fn = resolve(spanfast_path)
    cleanlab_fn = resolve(cleanlab_path)
    assert callable(spanfast_fn)
    assert _parameters(spanfast_fn) == _parameters(cleanlab_fn)


def test_registry_paths_are_distinct():
    assert len({s for s, _ in FUNCTION_PAIRS}) == len(FUNCTION_PAIRS)
    for _, cleanlab_path in FUNCTION_PAIRS:
        assert callable(resolve(cleanlab_path))
