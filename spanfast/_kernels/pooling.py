"""Sentence scores pooled from token scores over CSR offsets."""

from __future__ import annotations

import numpy as np

from .._numba import always_compiled, kernel
from .access import like
from .summation import mean_like_numpy, pairwise_sum


@kernel
def sentence_min(scores, offsets, empty_score):
    n = offsets.shape[0] - 1
    out = np.empty(n, scores.dtype)
    for s in range(n):
        lo = offsets[s]
        hi = offsets[s + 1]
        if lo == hi:
            out[s] = empty_score
            continue
        best = scores[lo]
        for t in range(lo + 1, hi):
            if scores[t] < best:
                best = scores[t]
        out[s] = best
    return out


@kernel
def sentence_mean(scores, offsets, empty_score):
    n = offsets.shape[0] - 1
    out = np.empty(n, scores.dtype)
    for s in range(n):
        lo = offsets[s]
        hi = offsets[s + 1]
        out[s] = empty_score if lo == hi else mean_like_numpy(scores, lo, hi)
    return out


@always_compiled  # np.exp: NumPy's could round differently
@kernel
def sentence_softmin(scores, offsets, temperature, empty_score):
    """``<s, softmax((1 - s) / temperature)>`` per sentence, with cleanlab's max-shift.

    Element-wise steps run in the scores' dtype like NumPy's; the final dot
    product is accumulated in float64 (cleanlab's goes through BLAS, whose
    order is unspecified), so results agree to round-off.
    """
    n = offsets.shape[0] - 1
    out = np.empty(n, scores.dtype)
    longest = 0
    for s in range(n):
        longest = max(longest, offsets[s + 1] - offsets[s])
    weights = np.empty(longest, scores.dtype)
    one = like(scores, 1.0)
    tau = like(scores, temperature)
    for s in range(n):
        lo = offsets[s]
        hi = offsets[s + 1]
        if lo == hi:
            out[s] = empty_score
            continue
        m = hi - lo
        shift = (one - scores[lo]) / tau
        for t in range(m):
            weights[t] = (one - scores[lo + t]) / tau
            if weights[t] > shift:
                shift = weights[t]
        for t in range(m):
            weights[t] = np.exp(weights[t] - shift)
        total = pairwise_sum(weights, np.int64(0), m)
        dot = 0.0
        for t in range(m):
            dot += np.float64(scores[lo + t]) * np.float64(weights[t] / total)
        out[s] = dot
    return out
