"""Several span classes in one pass: C independent two-class problems side by side.

Span class ``c`` of a ``(T, C)`` probability matrix is the single-class span
problem on column ``c``, read as the two classes ``[1 - p, p]`` (``1 - p`` in
``p``'s dtype, as NumPy computes it). Per-class state is indexed by the
*binary class* ``b = 2 c + y`` (``y``: the token's 0/1 label in span class
``c``): counts, NumPy-order running sums, candidate margins; the confident
joint is ``(C, 2, 2)``. Each binary class sees its values in position order, as
cleanlab's ``pred_probs[labels == k]`` would hold them.

The noise-rate margin of a token labelled ``y`` is ``p_other - p_given``
(cleanlab ``filter._prune_by_count``); it is a candidate when its prediction is
not its label (cleanlab ``filter._reduce_issues``, with its 1e-6 margin).
"""

from __future__ import annotations

import numpy as np

from .._numba import helper, kernel
from .running_sum import _EXTRA, _LEAF_SEEN, _LEAF_SIZE, _N_PARTIAL, _next_leaf
from .summation import _block_sum

_ZERO = np.int64(0)

# Branch-free counting kernels walk the tokens in tiles of _TILE rows and, within a
# tile, one class at a time: the tile stays in cache while each class's loop keeps its
# tallies in registers (it vectorizes).
_TILE = 2048


@kernel
def class_counts(Y):
    """Tokens inside each span class (column sums of the 0/1 labels)."""
    T, C = Y.shape
    n_inside = np.zeros(C, np.int64)
    for lo in range(0, T, _TILE):
        hi = min(lo + _TILE, T)
        for c in range(C):
            n = 0
            for i in range(lo, hi):
                n += np.int64(Y[i, c])
            n_inside[c] += n
    return n_inside


@kernel
def first_non_binary(values):
    """The flat index of the first value of ``values`` (T, C) that is neither 0 nor 1,
    or -1 (a check without a (T, C) temporary)."""
    T, C = values.shape
    for i in range(T):
        for c in range(C):
            value = values[i, c]
            if value != 0 and value != 1:
                return i * C + c
    return -1


@kernel
def class_sums_and_suspects(P, Y, margin, frames, cursor, partial, leaf):
    """One pass: feed each binary class's given-label probabilities to its running sum
    (the :class:`RunningSums` state over 2C classes), in position order; find per
    binary class the smallest noise-rate margin of its candidates (+inf if none); and
    list the *suspects*, the entries whose noise-rate margin is at least ``margin / 2``,
    in order: their positions, binary classes, margins and whether each is a candidate.

    Every token the noise-rate cut can reach is a suspect: it has a margin at least
    its binary class's smallest candidate margin, and a candidate's margin is at least
    ``margin / 2`` (``q >= fl(p + margin)`` gives ``q - p >= margin - ulp(1)``, and
    ``ulp(1) < margin / 2`` in float32 and float64). So no second pass gathers them.
    """
    T, C = P.shape
    one = P.dtype.type(1)
    floor = margin / P.dtype.type(2)
    min_margin = np.full(2 * C, P.dtype.type(np.inf))
    capacity = max(4 * _TILE * C, T * C // 32)
    positions = np.empty(capacity, np.int64)
    binary_class = np.empty(capacity, np.int32)
    margins = np.empty(capacity, P.dtype)
    candidate = np.empty(capacity, np.bool_)
    n = 0
    for lo in range(0, T, _TILE):
        hi = min(lo + _TILE, T)
        if n + (hi - lo) * C > positions.shape[0]:  # room for every entry of the tile
            capacity = 2 * positions.shape[0] + (hi - lo) * C
            positions = _grown(positions, n, capacity)
            binary_class = _grown(binary_class, n, capacity)
            margins = _grown(margins, n, capacity)
            candidate = _grown(candidate, n, capacity)
        for i in range(lo, hi):
            for c in range(C):
                p = P[i, c]
                q = one - p
                y = np.int64(Y[i, c])
                b = 2 * c + y
                if y:
                    noise_margin = q - p
                    disagrees = q >= p + margin
                else:
                    noise_margin = p - q
                    disagrees = p > q + margin
                if disagrees:
                    min_margin[b] = min(min_margin[b], noise_margin)
                if noise_margin >= floor:
                    positions[n] = i
                    binary_class[n] = b
                    margins[n] = noise_margin
                    candidate[n] = disagrees
                    n += 1
                t = cursor[b, _LEAF_SEEN]
                size = cursor[b, _LEAF_SIZE]
                if t < size:
                    leaf[b, t] = p if y else q
                    cursor[b, _LEAF_SEEN] = t + 1
                    if t + 1 == size:
                        partial[b, cursor[b, _N_PARTIAL]] = _block_sum(leaf[b], _ZERO, size)
                        cursor[b, _N_PARTIAL] += 1
                        _next_leaf(b, frames, cursor, partial)
                else:
                    cursor[b, _EXTRA] += 1
    suspects = (
        positions[:n].copy(),
        binary_class[:n].copy(),
        margins[:n].copy(),
        candidate[:n].copy(),
    )
    return min_margin, suspects


@helper
def _grown(values, n, capacity):
    grown = np.empty(capacity, values.dtype)
    grown[:n] = values[:n]
    return grown


@kernel
def confident_joints(P, Y, margin_thresholds):
    """The raw confident joint of every span class, ``[c, guess, given]``, as
    :func:`confident_joint._span_confident_joint` counts it for one column."""
    T, C = P.shape
    one = P.dtype.type(1)
    # Per class: counted, counted given 1, guess 1, guess 1 given 1.
    tallies = np.zeros((C, 4), np.int64)
    for lo in range(0, T, _TILE):
        hi = min(lo + _TILE, T)
        for c in range(C):
            threshold_0, threshold_1 = margin_thresholds[c, 0], margin_thresholds[c, 1]
            n_counted = 0
            n_counted_given_1 = 0
            n_guess_1 = 0
            n_guess_1_given_1 = 0
            for i in range(lo, hi):
                p = P[i, c]
                q = one - p
                given_1 = np.int64(Y[i, c] != 0)
                confident_0 = np.int64(q >= threshold_0)
                confident_1 = np.int64(p >= threshold_1)
                counted = confident_0 | confident_1
                # One confident class is the guess; with both, the argmax (0 on ties).
                guess_1 = confident_1 & ((1 - confident_0) | np.int64(p > q))
                n_counted += counted
                n_counted_given_1 += counted & given_1
                n_guess_1 += guess_1
                n_guess_1_given_1 += guess_1 & given_1
            tallies[c, 0] += n_counted
            tallies[c, 1] += n_counted_given_1
            tallies[c, 2] += n_guess_1
            tallies[c, 3] += n_guess_1_given_1
    counts = np.empty((C, 2, 2), np.int64)
    for c in range(C):
        counts[c, 1, 1] = tallies[c, 3]
        counts[c, 1, 0] = tallies[c, 2] - tallies[c, 3]
        counts[c, 0, 1] = tallies[c, 1] - tallies[c, 3]
        counts[c, 0, 0] = tallies[c, 0] - tallies[c, 1] - counts[c, 1, 0]
    return counts


@kernel
def group_relevant(min_margin, suspect_positions, binary_class, suspect_margins, disagrees):
    """The suspects whose margin is at least their binary class's smallest candidate
    margin (the tokens the noise-rate cut works on), grouped by binary class, each
    group in position order: ``positions``, ``margins``, ``candidate`` (whether each
    is a candidate) and ``group_start`` (2C + 1 offsets)."""
    n_groups = min_margin.shape[0]
    n = suspect_positions.shape[0]
    group_start = np.zeros(n_groups + 1, np.int64)
    for a in range(n):
        b = binary_class[a]
        group_start[b + 1] += suspect_margins[a] >= min_margin[b]
    for b in range(n_groups):
        group_start[b + 1] += group_start[b]
    n_relevant = group_start[n_groups]
    positions = np.empty(n_relevant, np.int64)
    margins = np.empty(n_relevant, suspect_margins.dtype)
    candidate = np.empty(n_relevant, np.bool_)
    fill = group_start[:-1].copy()
    for a in range(n):
        b = binary_class[a]
        if suspect_margins[a] >= min_margin[b]:
            at = fill[b]
            positions[at] = suspect_positions[a]
            margins[at] = suspect_margins[a]
            candidate[at] = disagrees[a]
            fill[b] = at + 1
    return positions, margins, candidate, group_start


@helper
def _stable_order(scores):
    """``np.argsort(scores, kind="stable")`` of non-negative scores without NaN: an LSD
    radix sort on their float64 bits (which order as the values do), digits of 11 bits,
    a digit every score shares skipped. Several times faster than a merge sort."""
    n = scores.shape[0]
    values = np.empty(n, np.float64)
    for r in range(n):
        values[r] = np.float64(scores[r]) + 0.0  # -0.0 -> 0.0: equal values, equal keys
    keys = values.view(np.uint64)
    order = np.arange(n)
    spare = np.empty(n, np.int64)
    histogram = np.empty(2048, np.int64)
    for shift in range(0, 64, 11):
        histogram[:] = 0
        for r in range(n):
            histogram[(keys[r] >> np.uint64(shift)) & np.uint64(2047)] += 1
        if n == 0 or histogram.max() == n:
            continue
        total = 0
        for d in range(2048):
            count = histogram[d]
            histogram[d] = total
            total += count
        for r in range(n):
            index = order[r]
            d = (keys[index] >> np.uint64(shift)) & np.uint64(2047)
            spare[histogram[d]] = index
            histogram[d] += 1
        order, spare = spare, order
    return order


@kernel
def cut_and_rank(P, Y, positions, margins, candidate, group_start, capacity, first, stop):
    """The noise-rate cut of every binary class on its gathered tokens (the
    ``capacity[b]`` largest margins, ties by position), less the tokens whose
    prediction is their label; then each span class's issues ranked by
    self-confidence, ties by position; for span classes ``first..stop-1`` (indices
    from 0: each class's cut and ranking are its own, so classes can be split among
    threads). Returns (span class index, position) arrays, grouped by span class."""
    keep = np.zeros(positions.shape[0], np.bool_)
    n_kept = np.zeros(stop - first, np.int64)
    for b in range(2 * first, 2 * stop):
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
            n_kept[b // 2 - first] += keep[a]
    span_class = np.empty(n_kept.sum(), np.int64)
    ranked = np.empty(n_kept.sum(), np.int64)
    one = P.dtype.type(1)
    out = 0
    for c in range(first, stop):
        # The kept tokens labelled 0 and labelled 1, each in position order, merged.
        found = np.empty(n_kept[c - first], np.int64)
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
        order = _stable_order(scores)
        for r in range(n):
            span_class[out] = c
            ranked[out] = found[order[r]]
            out += 1
    return span_class, ranked
