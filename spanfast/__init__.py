"""spanfast: find mislabelled tokens in span and token classification data, fast.

A drop-in replacement for cleanlab 2.9.0's ``experimental.span_classification``
and ``token_classification``: same functions, same answers, on flat arrays
and Numba kernels. Change the import line and nothing else::

    from spanfast import find_label_issues, get_label_quality_scores, display_issues
"""

from ._version import __version__
from .ragged import Ragged
from .results import LabelIssues, find_issues
from .span_classification import display_issues, find_label_issues, get_label_quality_scores

__all__ = [
    "LabelIssues",
    "Ragged",
    "find_issues",
    "display_issues",
    "find_label_issues",
    "get_label_quality_scores",
    "__version__",
]
