"""NumPy's pairwise summation, reproduced exactly.

cleanlab computes class thresholds with ``np.mean`` and row sums with
``np.sum``; both use NumPy's pairwise summation (8-way unrolled blocks of at
most 128 elements, halved recursively) in the array's own dtype. Reproducing
the same order of additions gives bit-identical thresholds for float32 and
float64 input, so threshold comparisons (``p >= t - 1e-6``) agree with the
oracle even at the last bit.
"""

from __future__ import annotations

import numpy as np

from .._numba import helper, kernel
from .access import like

_BLOCK = 128


@helper
def _block_sum(values, start, stop):
    """One leaf of NumPy's pairwise sum: at most 128 elements."""
    n = stop - start
    if n < 8:
        # NumPy starts from -0.0 so that a sum of -0.0 stays -0.0.
        total = like(values, -0.0)
        for i in range(start, stop):
            total += values[i]
        return total
    r0 = values[start]
    r1 = values[start + 1]
    r2 = values[start + 2]
    r3 = values[start + 3]
    r4 = values[start + 4]
    r5 = values[start + 5]
    r6 = values[start + 6]
    r7 = values[start + 7]
    i = start + 8
    unrolled_end = stop - (n % 8)
    while i < unrolled_end:
        r0 += values[i]
        r1 += values[i + 1]
        r2 += values[i + 2]
        r3 += values[i + 3]
        r4 += values[i + 4]
        r5 += values[i + 5]
        r6 += values[i + 6]
        r7 += values[i + 7]
        i += 8
    total = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
    while i < stop:
        total += values[i]
        i += 1
    return total


@kernel
def pairwise_sum(values, start, stop):
    """Sum ``values[start:stop]`` in NumPy's pairwise order, in ``values``' dtype.

    NumPy recurses: halve (rounded down to a multiple of 8) until a block has
    at most 128 elements, then add left + right. The same tree is walked here
    with an explicit stack (Numba cannot cache recursive functions).
    """
    if stop - start <= _BLOCK:
        return _block_sum(values, start, stop)
    # Each frame is (start, stop, combine); depth is at most log2(n / 128) + 1.
    frame_start = np.empty(128, np.int64)
    frame_stop = np.empty(128, np.int64)
    frame_combine = np.empty(128, np.bool_)
    partial = np.empty(128, values.dtype)
    n_frames = 1
    n_partial = 0
    frame_start[0] = start
    frame_stop[0] = stop
    frame_combine[0] = False
    while n_frames > 0:
        n_frames -= 1
        lo = frame_start[n_frames]
        hi = frame_stop[n_frames]
        if frame_combine[n_frames]:
            n_partial -= 1
            partial[n_partial - 1] = partial[n_partial - 1] + partial[n_partial]
            continue
        n = hi - lo
        if n <= _BLOCK:
            partial[n_partial] = _block_sum(values, lo, hi)
            n_partial += 1
            continue
        half = n // 2
        half -= half % 8
        # Pushed in reverse: left half runs first, then right, then their sum.
        frame_start[n_frames] = lo
        frame_stop[n_frames] = hi
        frame_combine[n_frames] = True
        frame_start[n_frames + 1] = lo + half
        frame_stop[n_frames + 1] = hi
        frame_combine[n_frames + 1] = False
        frame_start[n_frames + 2] = lo
        frame_stop[n_frames + 2] = lo + half
        frame_combine[n_frames + 2] = False
        n_frames += 3
    return partial[0]


@helper
def mean_like_numpy(values, start, stop):
    """``np.mean(values[start:stop])`` bit for bit: pairwise sum, then divide in float64.

    NumPy divides the dtype-typed sum by an ``intp`` count, which promotes to
    float64, and casts the quotient back to the array's dtype.
    """
    total = pairwise_sum(values, start, stop)
    return like(values, total / np.float64(stop - start))


@kernel
def sum_like_numpy(values):
    """``np.sum(values)`` of a contiguous 1-D array, bit for bit (NumPy's pairwise tree)."""
    return pairwise_sum(values, 0, values.shape[0])


# Pieces of one class's tree a run of its values can have: at most two maximal
# nodes per level (one at each end of the run) and two partial leaves; a tree over
# fewer than 2^63 values has fewer than 64 levels.
MAX_PIECES = 2 * 64 + 2


@kernel
def tree_pieces(values, group_start, starts, totals):
    """The pieces of each class's pairwise tree that a run of its values covers.

    Class k's values ``starts[k]..starts[k] + m`` of the ``totals[k]`` in its tree are
    ``values[group_start[k]:group_start[k + 1]]`` (``m`` of them). Its pieces, in value
    order, are rows ``k * MAX_PIECES ..`` of the returned ``(lo, hi, sums, whole)``,
    ``n_pieces[k]`` of them: the maximal nodes ``[lo, hi)`` inside the run (``whole``,
    with their sums as :func:`pairwise_sum` gives them) and the leaves the run covers
    only in part (its values ``lo..hi`` of that leaf, ``sums`` 0). The caller checks
    ``starts + m <= totals`` (else a run's pieces are those of the values in its tree).
    """
    K = totals.shape[0]
    piece_lo = np.zeros(K * MAX_PIECES, np.int64)
    piece_hi = np.zeros(K * MAX_PIECES, np.int64)
    sums = np.zeros(K * MAX_PIECES, values.dtype)
    whole = np.zeros(K * MAX_PIECES, np.bool_)
    n_pieces = np.zeros(K, np.int64)
    frame_lo = np.empty(MAX_PIECES, np.int64)
    frame_hi = np.empty(MAX_PIECES, np.int64)
    for k in range(K):
        start = starts[k]
        stop = min(start + group_start[k + 1] - group_start[k], totals[k])
        shift = group_start[k] - start  # values[shift + i]: value i of class k
        n_frames = 1 if stop > start else 0
        frame_lo[0] = 0
        frame_hi[0] = totals[k]
        m = 0
        while n_frames > 0 and m < MAX_PIECES:
            n_frames -= 1
            lo = frame_lo[n_frames]
            hi = frame_hi[n_frames]
            if hi <= start or lo >= stop:
                continue
            at = k * MAX_PIECES + m
            if start <= lo and hi <= stop:
                piece_lo[at] = lo
                piece_hi[at] = hi
                sums[at] = pairwise_sum(values, shift + lo, shift + hi)
                whole[at] = True
                m += 1
            elif hi - lo <= _BLOCK:
                piece_lo[at] = max(lo, start)
                piece_hi[at] = min(hi, stop)
                m += 1
            elif n_frames + 2 <= MAX_PIECES:
                half = (hi - lo) // 2
                half -= half % 8
                # Pushed in reverse: the left half comes out first (pieces in value order).
                frame_lo[n_frames] = lo + half
                frame_hi[n_frames] = hi
                frame_lo[n_frames + 1] = lo
                frame_hi[n_frames + 1] = lo + half
                n_frames += 2
        n_pieces[k] = m
    return piece_lo, piece_hi, sums, whole, n_pieces
