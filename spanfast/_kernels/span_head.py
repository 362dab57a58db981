"""Span data's first reads, one half of the tokens per core, in one kernel call each.

:mod:`spanfast._span_head` runs :func:`read_span_half` on both halves of the tokens at
once. Each call first checks, narrows and counts its half's labels, publishes its
counts (a store with release order) and waits for the other half's (loads with
acquire order): the class trees' sizes need both. Then it reads its half once, a
stretch at a time while it is in cache: the value check, the noise-rate candidates
and the class sums. The two halves' class sums are the two walks of each class's
tree split at a leaf (:func:`~spanfast._kernels.running_sum.start_at`): the first
half's walk reads on past its last token until each class's tree reaches that leaf.
The first half's call returns once the second's sums are in, so that the caller can
join them into the thresholds; the second's waits for the thresholds and counts the
confident joint of its half meanwhile the caller counts the first's.
"""

from __future__ import annotations

import numpy as np

from .._numba import always_compiled, helper, kernel
from .checks import count_invalid_probabilities, narrow_labels
from .confident_joint import _span_confident_joint
from .ordering import load_acquire, store_release
from .running_sum import _start, add_span_window, first_leaf_from, start_at
from .selection import add_span_candidates
from .thresholds import class_counts

# What read_span_half returns first: READ, or INVALID (a label or a value to report:
# the ordinary path says which), or ABORTED (the other side did not come in time, or
# the caller gave up).
READ, INVALID, ABORTED = 0, 1, 2
# The state the two calls and the caller share (int64): per half, whether it has
# counted its labels, its two class counts, whether it has summed its values; then
# whether the caller has put the thresholds in (THRESHOLDS_IN, or GAVE_UP).
_ARRIVED, _COUNTS, _SUMMED, THRESHOLDS = 0, 2, 6, 8
STATE_SIZE = 9
_DONE, _TO_REPORT = 1, 2  # an _ARRIVED or _SUMMED entry, once it is not 0
THRESHOLDS_IN, GAVE_UP = 1, -1


@always_compiled  # the ordered loads and stores have no Python body
@kernel
def read_span_half(
    p, labels, narrow, half, which, state, patience, stretch, candidates, low, high, margin,
    shift, frames, cursor, partial, leaf, thresholds,
):  # fmt: skip
    """Half ``which`` (0: tokens ``0..half-1``, 1: ``half..``) of span data: its labels
    into ``narrow`` and counted; after the other half's counts (``state``, shared; given
    up after ``patience`` looks), ``stretch`` tokens at a time, the value check and, if
    ``candidates``, :func:`selection.noise_rate_candidates` (entries numbered from token
    0); and the class sums of its values, walked in ``frames, cursor, partial, leaf``
    (:class:`~spanfast._kernels.running_sum.RunningSums`' arrays, zeros): from the start
    up to the leaf where half 1 starts, which reads on, unchecked, past ``half``. Then
    half 0 waits for half 1's sums; half 1 for the ``thresholds`` (the margin thresholds,
    as float64, put in by the caller once it has joined the sums), and counts its
    confident joint (without the mask).

    Returns ``(status, entries, above, disagree_below, counts, begin, joint)``: the
    whole dataset's class counts, the value where each class's second walk starts
    (``running_sum.joined_sums`` joins the two walks) and half 1's joint counts
    ``[guess, given]`` (zeros for half 0).
    """
    T = labels.shape[0]
    start, stop = (0, half) if which == 0 else (half, T)
    above = np.zeros((2, 2), np.int64)
    disagree_below = np.zeros((2, 2), np.int64)
    entries = np.empty((stop - start) // 8 + stretch if candidates else 0, np.int64)
    counts = np.zeros(2, np.int64)
    begin = np.zeros(2, np.int64)
    joint = np.zeros((2, 2), np.int64)
    bad = narrow_labels(labels[start:stop], np.int64(2), narrow[start:stop])
    mine = class_counts(narrow[start:stop], np.int64(2))
    state[_COUNTS + 2 * which] = mine[0]
    state[_COUNTS + 2 * which + 1] = mine[1]
    store_release(state, np.int64(_ARRIVED + which), np.int64(_TO_REPORT if bad else _DONE))
    # The other half's labels take as long as these (0: its call failed first).
    arrived = _wait(state, np.int64(_ARRIVED + 1 - which), patience)
    if arrived != _DONE or bad:
        status = ABORTED if arrived == 0 else INVALID
        return status, entries[:0], above, disagree_below, counts, begin, joint
    before = state[_COUNTS : _COUNTS + 2].copy()
    counts[:] = before + state[_COUNTS + 2 : _COUNTS + 4]
    for k in range(2):
        begin[k] = first_leaf_from(counts[k], before[k])
    if which == 0:  # class k's values 0..begin[k]-1, from the tree's start
        _start(counts, frames, cursor, partial)
        seen, window_start, window_end = np.zeros(2, np.int64), np.zeros(2, np.int64), begin
    else:  # class k's values begin[k].., the first of them before[k]
        start_at(counts, begin, frames, cursor, partial)
        seen, window_start, window_end = before, begin, counts
    n = 0
    lo = start
    while lo < T:
        hi = min(lo + stretch, stop if lo < stop else T)
        if lo < stop:
            if count_invalid_probabilities(p[lo:hi], low, high):
                store_release(state, np.int64(_SUMMED + which), np.int64(_TO_REPORT))
                return INVALID, entries[:0], above, disagree_below, counts, begin, joint
            if candidates:
                entries, n = add_span_candidates(
                    p, narrow, lo, hi, margin, shift, entries, n, above, disagree_below
                )
        fed = add_span_window(
            p[lo:hi], narrow[lo:hi], seen, window_start, window_end, frames, cursor, partial, leaf
        )
        if fed and lo >= stop:
            break
        lo = hi
    store_release(state, np.int64(_SUMMED + which), np.int64(_DONE))
    status = READ
    if which == 0:  # the caller joins the sums once the other half's are in
        summed = _wait(state, np.int64(_SUMMED + 1), patience)
        status = READ if summed == _DONE else ABORTED if summed == 0 else INVALID
    elif _wait(state, np.int64(THRESHOLDS), patience) == THRESHOLDS_IN:
        joint = _span_confident_joint(p[start:stop], narrow[start:stop], thresholds, False)[0]
    else:
        status = ABORTED
    return status, entries[:n], above, disagree_below, counts, begin, joint


@helper
def _wait(state, index, patience):
    """``state[index]`` once it is not 0, or 0 after ``patience`` looks."""
    value = load_acquire(state, index)
    looks = 0
    while value == 0 and looks < patience:
        looks += 1
        value = load_acquire(state, index)
    return value
