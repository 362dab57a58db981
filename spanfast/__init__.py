"""spanfast: find mislabelled tokens in span and token classification data, fast.

A drop-in replacement for cleanlab 2.9.0's ``experimental.span_classification``
and ``token_classification``: same functions, same answers, on flat arrays
and Numba kernels. Change the import line and nothing else::

    from spanfast import find_label_issues, get_label_quality_scores, display_issues

The names below are imported on first use (PEP 562), so ``import spanfast`` and
``spanfast.options`` load neither Numba nor any kernel: the command line's
``--help`` and usage errors stay instant.
"""

from __future__ import annotations

import importlib
from typing import Any

from ._version import __version__

# name -> module that defines it
_EXPORTS = {
    "LabelIssues": "results",
    "Ragged": "ragged",
    "as_ragged": "io",
    "display_issues": "span_classification",
    "find_issues": "results",
    "find_label_issues": "span_classification",
    "find_span_issues": "spans",
    "get_label_quality_scores": "span_classification",
}

__all__ = sorted(_EXPORTS) + ["__version__"]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'spanfast' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
