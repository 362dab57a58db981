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
def class_sums_and_candidates(
    P, Y, frames, cursor, partial, leaf, margin, min_margin, n_candidates
):
    """Feed each binary class's given-label probabilities to its running sum (the
    :class:`RunningSums` state over 2C classes); for every binary class, count the
    candidates and keep their smallest noise-rate margin in ``min_margin``."""
    T, C = P.shape
    one = P.dtype.type(1)
    for i in range(T):
        for c in range(C):
            p = P[i, c]
            q = one - p
            y = np.int64(Y[i, c])
            b = 2 * c + y
            given = p if y else q
            t = cursor[b, _LEAF_SEEN]
            n = cursor[b, _LEAF_SIZE]
            if t < n:
                leaf[b, t] = given
                cursor[b, _LEAF_SEEN] = t + 1
                if t + 1 == n:
                    partial[b, cursor[b, _N_PARTIAL]] = _block_sum(leaf[b], _ZERO, n)
                    cursor[b, _N_PARTIAL] += 1
                    _next_leaf(b, frames, cursor, partial)
            else:
                cursor[b, _EXTRA] += 1
            if y:
                disagrees = q >= p + margin
                noise_margin = q - p
            else:
                disagrees = p > q + margin
                noise_margin = p - q
            if disagrees:
                n_candidates[b] += 1
                if noise_margin < min_margin[b]:
                    min_margin[b] = noise_margin


@kernel
def joint_and_relevant(P, Y, margin_thresholds, min_margin):
    """The raw confident joint of every span class, ``[c, guess, given]`` (as
    :func:`confident_joint._span_confident_joint` counts it for one column), and per
    binary class the number of tokens whose margin is at least ``min_margin``."""
    T, C = P.shape
    one = P.dtype.type(1)
    counts = np.zeros((C, 2, 2), np.int64)
    n_relevant = np.zeros(2 * C, np.int64)
    for i in range(T):
        for c in range(C):
            p = P[i, c]
            q = one - p
            y = np.int64(Y[i, c])
            confident_0 = q >= margin_thresholds[c, 0]
            confident_1 = p >= margin_thresholds[c, 1]
            # One confident class is the guess; with both, the argmax (class 0 on ties).
            guess = np.int64(confident_1 & ((not confident_0) | (p > q)))
            if confident_0 | confident_1:
                counts[c, guess, y] += 1
            noise_margin = q - p if y else p - q
            if noise_margin >= min_margin[2 * c + y]:
                n_relevant[2 * c + y] += 1
    return counts, n_relevant


@kernel
def gather_relevant(P, Y, margin, min_margin, group_start):
    """The tokens :func:`joint_and_relevant` counted, grouped by binary class (position
    order within a group): their positions, noise-rate margins, and whether each
    is a candidate."""
    T, C = P.shape
    one = P.dtype.type(1)
    n = group_start[-1]
    positions = np.empty(n, np.int64)
    margins = np.empty(n, P.dtype)
    candidate = np.empty(n, np.bool_)
    fill = group_start[:-1].copy()
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
                positions[at] = i
                margins[at] = noise_margin
                candidate[at] = disagrees
                fill[b] = at + 1
    return positions, margins, candidate
