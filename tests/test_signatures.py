"""Every public spanfast function has its cleanlab 2.9.0 twin's parameters, in order,
with the same kinds and defaults; the only additions are spanfast's own keyword-only
options (with defaults that keep cleanlab's behaviour), listed here.

The pairs come from the one table, :mod:`spanfast.testing.registry`.
"""

from __future__ import annotations

import importlib
import inspect

import pytest

from spanfast.testing.registry import ENTRIES, FUNCTION_PAIRS, resolve

# Keyword-only options spanfast adds, and their defaults.
EXTRA_OPTIONS = {"ties": "position"}

# Modules whose public functions are all cleanlab twins.
TWIN_MODULES = [
    "spanfast.span_classification",
    "spanfast.token_classification.filter",
    "spanfast.token_classification.rank",
    "spanfast.token_classification.summary",
    "spanfast.token_classification.utils",
]


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
    assert len({s for s, _ in FUNCTION_PAIRS}) == len(FUNCTION_PAIRS) == len(ENTRIES)
    for _, cleanlab_path in FUNCTION_PAIRS:
        assert callable(resolve(cleanlab_path))


@pytest.mark.parametrize("module_name", TWIN_MODULES)
def test_every_public_function_is_in_the_table(module_name):
    module = importlib.import_module(module_name)
    public = {
        f"{module_name}.{name}"
        for name, value in vars(module).items()
        if inspect.isfunction(value) and value.__module__ == module_name and name[0] != "_"
    }
    assert public, module_name
    assert public <= {spanfast_path for spanfast_path, _ in FUNCTION_PAIRS}


def test_top_level_functions_are_in_the_table():
    import spanfast

    for name in ("find_label_issues", "get_label_quality_scores", "display_issues"):
        assert getattr(spanfast, name) is resolve(ENTRIES[name].spanfast)
        assert ENTRIES[name].cleanlab == ENTRIES[f"span.{name}"].cleanlab
