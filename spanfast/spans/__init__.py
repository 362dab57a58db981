"""Span-level label issues: the entities a person would correct.

One place defines how given and predicted entities are formed from tags
(:mod:`.schemes`, :mod:`.formation`), how they are matched (:mod:`.formation`),
the kinds of issue and how each is scored (:mod:`.find`), and the result table
(:mod:`.table`). :func:`find_span_issues` is also exported from ``spanfast``.
"""

from __future__ import annotations

from .find import find_span_issues
from .table import KINDS, SpanIssue, SpanIssues

__all__ = ["KINDS", "SpanIssue", "SpanIssues", "find_span_issues"]
