"""Token label-quality scores (cleanlab ``rank.get_*_for_each_label``).

Self-confidence and normalized margin are computed in the probabilities'
dtype with NumPy's operation order, so they are bit-identical to cleanlab's.
The entropy score follows NumPy's promotion (float64 out for float32 in); its
final logarithm is taken by NumPy itself (see ``core``), whose vectorised
``log`` can differ from libm's in the last bit.
"""

from __future__ import annotations

import numpy as np

from .._numba import always_compiled, kernel
from .access import like, n_classes, probability
from .summation import pairwise_sum


@kernel
def self_confidence(P, labels):
    T = labels.shape[0]
    out = np.empty(T, P.dtype)
    for i in range(T):
        out[i] = probability(P, i, labels[i])
    return out


@kernel
def self_confidence_at(P, labels, positions):
    """:func:`self_confidence` of the tokens at ``positions`` only (no copy of their rows)."""
    out = np.empty(positions.shape[0], P.dtype)
    for n in range(positions.shape[0]):
        i = positions[n]
        out[n] = probability(P, i, labels[i])
    return out


@kernel
def normalized_margin(P, labels):
    K = n_classes(P)
    T = labels.shape[0]
    out = np.empty(T, P.dtype)
    one = like(P, 1.0)
    two = like(P, 2.0)
    for i in range(T):
        given = labels[i]
        best_other = like(P, -np.inf)
        for k in range(K):
            if k != given:
                value = probability(P, i, k)
                if value > best_other:
                    best_other = value
        out[i] = (probability(P, i, given) - best_other + one) / two
    return out


@always_compiled  # np.log: the Python body's could round differently
@kernel
def entropy_over_confidence(P, labels, log_k, clip_low):
    """``H / max(sc, clip_low)``: the entropy normalised by ``log_k`` over the clipped
    self-confidence, the ratio cleanlab's confidence-weighted entropy is built on.

    The entropy sums scipy's ``xlogy(p, p)`` (in ``p``'s dtype) in NumPy's
    pairwise order; the result is float64 as in NumPy.
    """
    K = n_classes(P)
    T = labels.shape[0]
    out = np.empty(T, np.float64)
    row = np.empty(K, P.dtype)
    clip_in_dtype = like(P, clip_low)
    for i in range(T):
        for k in range(K):
            p = probability(P, i, k)
            row[k] = like(P, 0.0) if p == 0 else p * np.log(p)
        normalized_entropy = np.float64(-pairwise_sum(row, np.int64(0), K)) / log_k
        out[i] = normalized_entropy / np.float64(max(probability(P, i, labels[i]), clip_in_dtype))
    return out


@kernel
def adjusted_probabilities(P, thresholds):
    """cleanlab ``_subtract_confident_thresholds``: ``p - t + max(t)``, renormalised.

    The result has the thresholds' dtype (the promotion of NumPy's
    ``pred_probs - thresholds``); rows are summed in NumPy's pairwise order.
    """
    K = n_classes(P)
    T = P.shape[0]
    out = np.empty((T, K), thresholds.dtype)
    shift = thresholds.max()
    for i in range(T):
        for k in range(K):
            out[i, k] = probability(P, i, k) - thresholds[k]
            out[i, k] += shift
        total = pairwise_sum(out[i], np.int64(0), K)
        for k in range(K):
            out[i, k] /= total
    return out
