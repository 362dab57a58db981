"""Kernels of span-level issues: one-to-one matching and span scores.

Loops over span pairs and over the tokens of the flagged spans only; span
formation itself is a few NumPy passes over all tokens (see ``formation``).
"""

from __future__ import annotations

import numpy as np

from .._numba import kernel


@kernel
def greedy_match(order, pair_given, pair_predicted, n_given, n_predicted):
    """One-to-one matching: take the pairs in ``order``, each if both spans are free.

    Returns, per given span, the index of its predicted span (-1: unmatched).
    """
    match_of_given = np.full(n_given, -1, np.int64)
    taken = np.zeros(n_predicted, np.bool_)
    for n in range(order.shape[0]):
        q = order[n]
        g = pair_given[q]
        p = pair_predicted[q]
        if match_of_given[g] < 0 and not taken[p]:
            match_of_given[g] = p
            taken[p] = True
    return match_of_given


@kernel
def span_scores(self_confidence, best_probability, starts, ends):
    """Per span ``[starts[r], ends[r])``: the minimum self-confidence of its tokens, and
    the likelihood ratio ``prod p(given tag) / p(argmax tag)`` (accumulated in float64)."""
    n = starts.shape[0]
    lowest = np.empty(n, np.float64)
    ratio = np.empty(n, np.float64)
    for r in range(n):
        low = np.inf
        log_ratio = 0.0
        for t in range(starts[r], ends[r]):
            given = np.float64(self_confidence[t])
            if given < low:
                low = given
            best = np.float64(best_probability[t])
            if given < best:
                log_ratio += np.log(given) - np.log(best) if given > 0.0 else -np.inf
        lowest[r] = low
        ratio[r] = np.exp(log_ratio)
    return lowest, ratio


@kernel
def argmax_and_best(probs):
    """Per row of ``probs`` (T, K): the first index of the maximum, and the maximum."""
    n, K = probs.shape
    argmax = np.empty(n, np.int64)
    best = np.empty(n, probs.dtype)
    for t in range(n):
        top = 0
        for k in range(1, K):
            if probs[t, k] > probs[t, top]:
                top = k
        argmax[t] = top
        best[t] = probs[t, top]
    return argmax, best
