"""The one table pairing every public spanfast function with its cleanlab 2.9.0 twin.

Used by the signature tests and by anything else (oracle tests, asv benchmarks)
that needs to iterate over "the same function in the reference library".
Entries are dotted paths, resolved lazily so that importing this module never
imports spanfast or cleanlab.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable

_CL_SPAN = "cleanlab.experimental.span_classification"
_CL_FILTER = "cleanlab.token_classification.filter"
_CL_RANK = "cleanlab.token_classification.rank"
_CL_SUMMARY = "cleanlab.token_classification.summary"
_CL_UTILS = "cleanlab.internal.token_classification_utils"

#: (spanfast callable path, cleanlab callable path)
FUNCTION_PAIRS: list[tuple[str, str]] = [
    ("spanfast.span_classification.find_label_issues", f"{_CL_SPAN}.find_label_issues"),
    (
        "spanfast.span_classification.get_label_quality_scores",
        f"{_CL_SPAN}.get_label_quality_scores",
    ),
    ("spanfast.span_classification.display_issues", f"{_CL_SPAN}.display_issues"),
    ("spanfast.find_label_issues", f"{_CL_SPAN}.find_label_issues"),
    ("spanfast.get_label_quality_scores", f"{_CL_SPAN}.get_label_quality_scores"),
    ("spanfast.display_issues", f"{_CL_SPAN}.display_issues"),
    ("spanfast.token_classification.filter.find_label_issues", f"{_CL_FILTER}.find_label_issues"),
    (
        "spanfast.token_classification.rank.get_label_quality_scores",
        f"{_CL_RANK}.get_label_quality_scores",
    ),
    ("spanfast.token_classification.rank.issues_from_scores", f"{_CL_RANK}.issues_from_scores"),
    (
        "spanfast.token_classification.rank._softmin_sentence_score",
        f"{_CL_RANK}._softmin_sentence_score",
    ),
    ("spanfast.token_classification.summary.display_issues", f"{_CL_SUMMARY}.display_issues"),
    (
        "spanfast.token_classification.summary.common_label_issues",
        f"{_CL_SUMMARY}.common_label_issues",
    ),
    ("spanfast.token_classification.summary.filter_by_token", f"{_CL_SUMMARY}.filter_by_token"),
    ("spanfast.token_classification.utils.get_sentence", f"{_CL_UTILS}.get_sentence"),
    ("spanfast.token_classification.utils.filter_sentence", f"{_CL_UTILS}.filter_sentence"),
    ("spanfast.token_classification.utils.process_token", f"{_CL_UTILS}.process_token"),
    ("spanfast.token_classification.utils.mapping", f"{_CL_UTILS}.mapping"),
    ("spanfast.token_classification.utils.merge_probs", f"{_CL_UTILS}.merge_probs"),
    ("spanfast.token_classification.utils.color_sentence", f"{_CL_UTILS}.color_sentence"),
    ("spanfast.token_classification.utils._replace_sentence", f"{_CL_UTILS}._replace_sentence"),
]


def resolve(dotted_path: str) -> Callable:
    """Import ``package.module.attr`` and return ``attr`` (tries the longest module prefix)."""
    parts = dotted_path.split(".")
    for split in range(len(parts) - 1, 0, -1):
        module_name = ".".join(parts[:split])
        try:
            obj = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            # This prefix (or a package above it) is not a module: try a shorter prefix.
            if exc.name and (module_name == exc.name or module_name.startswith(exc.name + ".")):
                continue
            raise
        for attr in parts[split:]:
            obj = getattr(obj, attr)
        return obj
    raise ImportError(f"cannot resolve {dotted_path!r}")
