"""Sorted flat positions: their union, and lookups along them.

Positions kept by cuts and flagged by passes are increasing arrays; one walk
along them costs less than a sort of their concatenation or a bisection per
position (whose branches mispredict).
"""

from __future__ import annotations

import numpy as np

from .._numba import kernel


@kernel
def sorted_union(a, b):
    """The distinct values of two non-decreasing integer arrays, increasing (int64)."""
    out = np.empty(a.shape[0] + b.shape[0], np.int64)
    n = 0
    i = 0
    j = 0
    while i < a.shape[0] or j < b.shape[0]:
        if j >= b.shape[0] or (i < a.shape[0] and a[i] <= b[j]):
            value = np.int64(a[i])
            i += 1
        else:
            value = np.int64(b[j])
            j += 1
        if n == 0 or out[n - 1] != value:
            out[n] = value
            n += 1
    return out[:n]


@kernel
def disagreeing_among(flagged, matches, positions):
    """``positions`` (increasing, each one of the increasing ``flagged``) whose
    ``matches`` entry (that of the same position in ``flagged``) is False; and how many
    of ``positions`` were not met in ``flagged`` (0 unless the caller broke the contract).

    One walk along ``flagged`` without a branch (a bisection per position
    mispredicts most of its branches)."""
    n = positions.shape[0]
    out = np.empty(n + 1, positions.dtype)  # written at n_out <= m <= n
    if n == 0:
        return out[:0], 0
    n_out = 0
    m = 0  # positions[:m] were met
    for i in range(min(flagged.shape[0], matches.shape[0])):
        met = (m < n) & (flagged[i] == positions[min(m, n - 1)])
        out[n_out] = flagged[i]
        n_out += met & (not matches[i])
        m += met
    return out[:n_out], n - m
