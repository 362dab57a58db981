"""Which module implements each benchmarked operation, per implementation.

One table, numbagg-style: every benchmark looks its function up here, so
spanfast and cleanlab 2.9.0 are always called through the same public names.
"""

from __future__ import annotations

import importlib

MODULES = {
    # operation family: {implementation: import path}
    "span": {
        "spanfast": "spanfast.span_classification",
        "cleanlab": "cleanlab.experimental.span_classification",
    },
    "token_filter": {
        "spanfast": "spanfast.token_classification.filter",
        "cleanlab": "cleanlab.token_classification.filter",
    },
    "token_rank": {
        "spanfast": "spanfast.token_classification.rank",
        "cleanlab": "cleanlab.token_classification.rank",
    },
}


def function(family: str, implementation: str, name: str):
    """The public function ``name`` of ``implementation`` for ``family``."""
    return getattr(importlib.import_module(MODULES[family][implementation]), name)


def check_input_format(implementation: str, input_format: str) -> None:
    """cleanlab only takes Python lists; a Ragged cleanlab run makes no sense."""
    if implementation == "cleanlab" and input_format == "ragged":
        raise NotImplementedError("cleanlab 2.9.0 accepts only nested lists")
