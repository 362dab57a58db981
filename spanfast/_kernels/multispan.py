"""Several span classes in one pass: C independent two-class problems side by side.

Span class ``c`` of a ``(T, C)`` probability matrix is the single-class span
problem on column ``c``, read as the two classes ``[1 - p, p]`` (``1 - p`` in
``p``'s dtype, as NumPy computes it). Per-class state is indexed by the
*binary class* ``b = 2 c + y`` (``y``: the token's 0/1 label in span class
``c``): counts, NumPy-order running sums, candidate margins; the confident
joint is ``(C, 2, 2)``. Each kernel reads every token's row once, left to
right, so each binary class sees its values in position order, as cleanlab's
``pred_probs[labels == k]`` would hold them.

The noise-rate margin of a token labelled ``y`` is ``p_other - p_given``
(cleanlab ``filter._prune_by_count``); it is a candidate when its prediction is
not its label (cleanlab ``filter._reduce_issues``, with its 1e-6 margin).
"""

from __future__ import annotations

import numpy as np

from .._numba import kernel
from .running_sum import _EXTRA, _LEAF_SEEN, _LEAF_SIZE, _N_PARTIAL, _next_leaf
from .summation import _block_sum

_ZERO = np.int64(0)


@kernel
def class_sums(P, Y, frames, cursor, partial, leaf):
    """Feed each binary class's given-label probabilities to its running sum (the
    :class:`RunningSums` state over 2C classes), in position order."""
    T, C = P.shape
    one = P.dtype.type(1)
    for i in range(T):
        for c in range(C):
            p = P[i, c]
            y = np.int64(Y[i, c])
            b = 2 * c + y
            t = cursor[b, _LEAF_SEEN]
            n = cursor[b, _LEAF_SIZE]
            if t < n:
                leaf[b, t] = p if y else one - p
                cursor[b, _LEAF_SEEN] = t + 1
                if t + 1 == n:
                    partial[b, cursor[b, _N_PARTIAL]] = _block_sum(leaf[b], _ZERO, n)
                    cursor[b, _N_PARTIAL] += 1
                    _next_leaf(b, frames, cursor, partial)
            else:
                cursor[b, _EXTRA] += 1


@kernel
def candidate_margins(P, Y, margin):
    """Per binary class, the smallest noise-rate margin of its candidates (+inf if it
    has none) and their number."""
    T, C = P.shape
    one = P.dtype.type(1)
    inf = P.dtype.type(np.inf)
    min_margin_0 = np.full(C, inf)
    min_margin_1 = np.full(C, inf)
    n_candidates = np.zeros(2 * C, np.int64)
    for i in range(T):
        for c in range(C):
            p = P[i, c]
            q = one - p
            if Y[i, c]:
                if q >= p + margin:
                    min_margin_1[c] = min(min_margin_1[c], q - p)
                    n_candidates[2 * c + 1] += 1
            elif p > q + margin:
                min_margin_0[c] = min(min_margin_0[c], p - q)
                n_candidates[2 * c] += 1
    min_margin = np.empty(2 * C, P.dtype)
    min_margin[0::2] = min_margin_0
    min_margin[1::2] = min_margin_1
    return min_margin, n_candidates


@kernel
def joint_and_relevant(P, Y, margin_thresholds, min_margin):
    """The raw confident joint of every span class, ``[c, guess, given]`` (as
    :func:`confident_joint._span_confident_joint` counts it for one column), and per
    binary class the number of tokens whose margin is at least ``min_margin``."""
    T, C = P.shape
    one = P.dtype.type(1)
    # Per-class rows, indexed by class only, so that the loop over classes vectorizes.
    threshold_0 = margin_thresholds[:, 0].copy()
    threshold_1 = margin_thresholds[:, 1].copy()
    min_margin_0 = min_margin[0::2].copy()
    min_margin_1 = min_margin[1::2].copy()
    n_counted = np.zeros(C, np.int64)
    n_counted_given_1 = np.zeros(C, np.int64)
    n_guess_1 = np.zeros(C, np.int64)
    n_guess_1_given_1 = np.zeros(C, np.int64)
    n_relevant_0 = np.zeros(C, np.int64)
    n_relevant_1 = np.zeros(C, np.int64)
    for i in range(T):
        for c in range(C):
            p = P[i, c]
            q = one - p
            given_1 = Y[i, c] != 0
            confident_0 = q >= threshold_0[c]
            confident_1 = p >= threshold_1[c]
            counted = confident_0 | confident_1
            # One confident class is the guess; with both, the argmax (class 0 on ties).
            guess_1 = confident_1 & ((not confident_0) | (p > q))
            n_counted[c] += counted
            n_counted_given_1[c] += counted & given_1
            n_guess_1[c] += guess_1
            n_guess_1_given_1[c] += guess_1 & given_1
            n_relevant_0[c] += (not given_1) & ((p - q) >= min_margin_0[c])
            n_relevant_1[c] += given_1 & ((q - p) >= min_margin_1[c])
    counts = np.empty((C, 2, 2), np.int64)
    n_relevant = np.empty(2 * C, np.int64)
    for c in range(C):
        counts[c, 1, 1] = n_guess_1_given_1[c]
        counts[c, 1, 0] = n_guess_1[c] - n_guess_1_given_1[c]
        counts[c, 0, 1] = n_counted_given_1[c] - n_guess_1_given_1[c]
        counts[c, 0, 0] = n_counted[c] - n_counted_given_1[c] - counts[c, 1, 0]
        n_relevant[2 * c] = n_relevant_0[c]
        n_relevant[2 * c + 1] = n_relevant_1[c]
    return counts, n_relevant


@kernel
def gather_relevant(P, Y, margin, min_margin, fill, first_position, positions, margins, candidate):
    """Write the tokens :func:`joint_and_relevant` counted into ``positions``,
    ``margins`` and ``candidate`` (whether each is a candidate), grouped by binary
    class from ``fill[b]`` on, in position order (rows of ``P`` are tokens
    ``first_position`` onwards)."""
    T, C = P.shape
    one = P.dtype.type(1)
    fill = fill.copy()
    for i in range(T):
        for c in range(C):
            p = P[i, c]
            q = one - p
            y = np.int64(Y[i, c])
            b = 2 * c + y
            if y:
                disagrees = q >= p + margin
                noise_margin = q - p
            else:
                disagrees = p > q + margin
                noise_margin = p - q
            if noise_margin >= min_margin[b]:
                at = fill[b]
                positions[at] = first_position + i
                margins[at] = noise_margin
                candidate[at] = disagrees
                fill[b] = at + 1


@kernel
def cut_and_rank(P, Y, positions, margins, candidate, group_start, capacity):
    """The noise-rate cut of every binary class on its gathered tokens (the
    ``capacity[b]`` largest margins, ties by position), less the tokens whose
    prediction is their label; then each span class's issues ranked by
    self-confidence, ties by position. Returns (span class index, position) arrays,
    grouped by span class."""
    n_groups = group_start.shape[0] - 1
    C = n_groups // 2
    keep = np.zeros(positions.shape[0], np.bool_)
    n_kept = np.zeros(C, np.int64)
    for b in range(n_groups):
        lo = group_start[b]
        hi = group_start[b + 1]
        m = capacity[b]
        if hi - lo <= m:
            for a in range(lo, hi):
                keep[a] = candidate[a]
        elif m > 0:
            # The m-th largest margin, then ties at it taken in position order.
            boundary = -np.partition(-margins[lo:hi], m - 1)[m - 1]
            n_above = 0
            for a in range(lo, hi):
                n_above += margins[a] > boundary
            n_on_boundary = m - n_above
            for a in range(lo, hi):
                if margins[a] > boundary:
                    keep[a] = candidate[a]
                elif margins[a] == boundary and n_on_boundary > 0:
                    keep[a] = candidate[a]
                    n_on_boundary -= 1
        for a in range(lo, hi):
            n_kept[b // 2] += keep[a]
    span_class = np.empty(n_kept.sum(), np.int64)
    ranked = np.empty(n_kept.sum(), np.int64)
    one = P.dtype.type(1)
    out = 0
    for c in range(C):
        # The kept tokens labelled 0 and labelled 1, each in position order, merged.
        found = np.empty(n_kept[c], np.int64)
        n = 0
        a, a_end = group_start[2 * c], group_start[2 * c + 1]
        b, b_end = a_end, group_start[2 * c + 2]
        while a < a_end or b < b_end:
            if b >= b_end or (a < a_end and positions[a] < positions[b]):
                take, a = a, a + 1
            else:
                take, b = b, b + 1
            if keep[take]:
                found[n] = positions[take]
                n += 1
        scores = np.empty(n, P.dtype)
        for r in range(n):
            p = P[found[r], c]
            scores[r] = p if Y[found[r], c] else one - p
        order = np.argsort(scores, kind="mergesort")
        for r in range(n):
            span_class[out] = c
            ranked[out] = found[order[r]]
            out += 1
    return span_class, ranked
