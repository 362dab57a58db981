"""Token label-quality scores of cleanlab's list input, chunk by chunk.

A token's score reads only its own row, so the scores of a list of per-sentence
arrays need not hold the whole (n_tokens, K) array: the sentences are concatenated
a chunk at a time into one small buffer, checked, and scored there. At 1M tokens,
K = 9, that is a 1 MB buffer instead of 72 MB (the extra peak of
``get_label_quality_scores`` on lists 83 -> 17 MiB), and each chunk is scored while
it is in cache.

Only the plain case is scored so: a list or tuple of NumPy float32/float64 arrays of
(n_tokens, K) rows, labels that convert and pass every check, the same lengths.
Anything else, or anything to report (an invalid or, for the entropy score, a
tolerated but out-of-[0, 1] value), returns None: the caller converts and checks as
usual, from the start, so errors and answers are exactly the ordinary path's.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._input.checked import VALID_RANGE
from ._input.nested import NotUniform, in_chunks
from ._input.plain_lists import class_labels, probability_layout
from ._kernels.checks import count_invalid_probabilities
from ._scoring import token_scores

CHUNK_TOKENS = 1 << 14


def scores_of_lists(
    labels: Any, pred_probs: Any, method: str, *, chunk_tokens: int = CHUNK_TOKENS
) -> tuple[np.ndarray, np.ndarray] | None:
    """``(token scores, offsets)`` of token data given as cleanlab's lists, or None (not
    the plain case, or something to report: the ordinary path then says what)."""
    layout = probability_layout(pred_probs, span=False)
    labelled = None if layout is None else class_labels(labels, layout)
    if labelled is None:
        return None
    narrow, offsets = labelled
    dtype, row = layout.dtype, layout.row
    # The entropy score is float64 whatever the probabilities (NumPy's promotion).
    out_type = np.float64 if method == "confidence_weighted_entropy" else dtype
    scores = np.empty(narrow.shape[0], out_type)
    strict = method == "confidence_weighted_entropy"  # cleanlab's check, without tolerance
    try:
        for lo, hi, values in in_chunks(pred_probs, offsets, dtype, row, chunk_tokens):
            if count_invalid_probabilities(values, *VALID_RANGE):
                return None
            if strict and hi > lo and (values.min() < 0 or values.max() > 1):
                return None
            scores[lo:hi] = token_scores(narrow[lo:hi], values, method)
    except NotUniform:
        return None
    return scores, offsets
