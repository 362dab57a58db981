"""Every public spanfast function has its cleanlab 2.9.0 twin's parameters, in order,
with the same kinds and defaults; the only additions are spanfast's own keyword-only
options (with defaults that keep cleanlab's behaviour), listed here."""

from __future__ import annotations

import inspect

import pytest
from registry import FUNCTION_PAIRS, resolve

# Keyword-only options spanfast adds, and their defaults.
EXTRA_OPTIONS = {"ties": "position"}


def _parameters(fn):
    return [(p.name, p.kind, p.default) for p in inspect.signature(fn).parameters.values()]


def _without_extra_options(parameters):
    kept = []
    for name, kind, default in parameters:
        if name in EXTRA_OPTIONS:
            assert kind is inspect.Parameter.KEYWORD_ONLY and default == EXTRA_OPTIONS[name]
            continue
        kept.append((name, kind, default))
    return kept


@pytest.mark.parametrize(("spanfast_path", "cleanlab_path"), FUNCTION_PAIRS)
def test_signature_matches_cleanlab(spanfast_path, cleanlab_path):
    spanfast_fn = resolve(spanfast_path)
    cleanlab_fn = resolve(cleanlab_path)
    assert callable(spanfast_fn)
    assert _without_extra_options(_parameters(spanfast_fn)) == _parameters(cleanlab_fn)


def test_registry_paths_are_distinct():
    assert len({s for s, _ in FUNCTION_PAIRS}) == len(FUNCTION_PAIRS)
    for _, cleanlab_path in FUNCTION_PAIRS:
        assert callable(resolve(cleanlab_path))
