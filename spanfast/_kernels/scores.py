"""Token label-quality scores (cleanlab ``rank.get_*_for_each_label``).

Self-confidence and normalized margin are computed in the probabilities'
dtype with NumPy's operation order, so they are bit-identical to cleanlab's.
The entropy score follows NumPy's promotion (float64 out for float32 in).
"""

from __future__ import annotations

import numpy as np

from .._numba import kernel
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


@kernel
def confidence_weighted_entropy(P, labels, clip_low):
    """``log(1 + H/sc) / max(H/sc, clip_low)`` with H the entropy normalised by log K
    and ``sc`` the self-confidence clipped below at ``clip_low``."""
    K = n_classes(P)
    T = labels.shape[0]
    out = np.empty(T, np.float64)
    row = np.empty(K, P.dtype)
    log_k = np.log(np.float64(K))
    clip_in_dtype = like(P, clip_low)
    for i in range(T):
        for k in range(K):
            p = probability(P, i, k)
            # scipy's xlogy: 0 where p == 0, else p * log(p) evaluated in double.
            row[k] = like(P, 0.0) if p == 0 else like(P, np.float64(p) * np.log(np.float64(p)))
        entropy = -pairwise_sum(row, 0, K)
        normalized = np.float64(entropy) / log_k
        confidence = max(probability(P, i, labels[i]), clip_in_dtype)
        ratio = normalized / np.float64(confidence)
        out[i] = np.log(ratio + 1.0) / max(ratio, clip_low)
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
        total = pairwise_sum(out[i], 0, K)
        for k in range(K):
            out[i, k] /= total
    return out
