"""The confident joint (cleanlab ``count.compute_confident_joint``), before calibration."""

from __future__ import annotations

import numpy as np

from .._numba import helper, kernel
from .access import n_classes, probability


@helper
def argmax_row(P, i, K):
    """First index of the largest probability of token ``i`` (``np.argmax``)."""
    best = 0
    best_value = probability(P, i, np.int64(0))
    for k in range(1, K):
        value = probability(P, i, k)
        if value > best_value:
            best = k
            best_value = value
    return best


def confident_joint(P, labels, thresholds_minus_margin, off_diagonal=True):
    """Count tokens into (given label, confidently guessed true label) bins.

    A class is "confident" for a token when its probability is at least the
    class threshold minus cleanlab's 1e-6 margin (``thresholds_minus_margin``,
    already in the dtype NumPy would compare in). With one confident class,
    that is the guess; with several, the argmax; with none, the token is not
    counted. Returns the raw K x K counts indexed ``[guess, given]`` (what
    cleanlab's ``confusion_matrix(y_true=guess, y_pred=given)`` holds) and a
    mask of the tokens counted off the diagonal (cleanlab's
    ``indices_of_off_diagonals``); ``off_diagonal=False``: no mask (an empty one),
    for the filters that only need the counts (a byte per token less to write and hold).
    """
    if P.ndim == 1:
        return _span_confident_joint(P, labels, thresholds_minus_margin, bool(off_diagonal))
    return _matrix_confident_joint(P, labels, thresholds_minus_margin, bool(off_diagonal))


@kernel
def _matrix_confident_joint(P, labels, thresholds_minus_margin, mask):
    # Thresholds are mean self-confidences, so a token rarely has two confident
    # classes: the argmax is only computed then (3x faster than computing it always).
    K = P.shape[1]
    T = labels.shape[0]
    counts = np.zeros((K, K), np.int64)
    off_diagonal = np.empty(T if mask else 0, np.bool_)
    for i in range(T):
        n_confident = 0
        first_confident = K
        for k in range(K):  # branch-free
            confident = P[i, k] >= thresholds_minus_margin[k]
            n_confident += np.int64(confident)
            first_confident = min(first_confident, k if confident else K)
        guess = first_confident
        if n_confident > 1:
            guess = argmax_row(P, i, K)
        given = np.int64(labels[i])
        if n_confident > 0:
            counts[guess, given] += 1
        if mask:
            off_diagonal[i] = (n_confident > 0) & (guess != given)
    return counts, off_diagonal


@kernel
def _span_confident_joint(p, labels, thresholds_minus_margin, mask):
    # K = 2 written without branches or scattered increments, so that it vectorizes
    # (8x faster than the general loop): four running counts give the 2 x 2 matrix.
    one = p.dtype.type(1)
    threshold_0 = thresholds_minus_margin[0]
    threshold_1 = thresholds_minus_margin[1]
    T = labels.shape[0]
    off_diagonal = np.empty(T if mask else 0, np.bool_)
    n_counted = 0
    n_counted_given_1 = 0
    n_guess_1 = 0
    n_guess_1_given_1 = 0
    for i in range(T):
        p_1 = p[i]
        p_0 = one - p_1
        confident_0 = p_0 >= threshold_0
        confident_1 = p_1 >= threshold_1
        counted = confident_0 | confident_1
        # One confident class is the guess; with both, the argmax (class 0 on ties).
        guess_1 = confident_1 & ((not confident_0) | (p_1 > p_0))
        given_1 = labels[i] != 0
        n_counted += counted
        n_counted_given_1 += counted & given_1
        n_guess_1 += guess_1
        n_guess_1_given_1 += guess_1 & given_1
        if mask:
            off_diagonal[i] = counted & (guess_1 != given_1)
    counts = np.empty((2, 2), np.int64)  # [guess, given]
    counts[1, 1] = n_guess_1_given_1
    counts[1, 0] = n_guess_1 - n_guess_1_given_1
    counts[0, 1] = n_counted_given_1 - n_guess_1_given_1
    counts[0, 0] = n_counted - n_counted_given_1 - counts[1, 0]
    return counts, off_diagonal


@kernel
def argmax_rows(P, positions):
    """``np.argmax`` of the probability rows at ``positions``."""
    K = n_classes(P)
    out = np.empty(positions.shape[0], np.int64)
    for n in range(positions.shape[0]):
        out[n] = argmax_row(P, positions[n], K)
    return out
