"""Span classification (one span class, K = 2): spanfast vs cleanlab 2.9.0.

The classes are generated from the table (:mod:`spanfast.testing.registry`, the
``timings`` of its ``span`` entries): ``FindLabelIssues`` and
``LabelQualityScores`` (``sentence_score_method`` min and softmin).
``input_format='ragged'`` feeds spanfast a ``spanfast.Ragged`` built from the
flat arrays; cleanlab only takes lists, so that combination is skipped.
"""

from ._common import timed_classes

globals().update(timed_classes("span", __name__))
