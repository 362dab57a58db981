"""Span data's first read, one half of the tokens per core.

:mod:`spanfast._span_head` cuts the tokens in two and runs :func:`read_span_half` on
each half at once: the value check, the noise-rate candidates and the class sums in
one pass over the half, a stretch at a time while it is in cache. The class sums of
the two halves are the two walks of one tree split at a leaf
(:func:`~spanfast._kernels.running_sum.start_at`): the first half's walk reads on
past its last token until each class's tree reaches that leaf.
"""

from __future__ import annotations

import numpy as np

from .._numba import kernel
from .checks import count_invalid_probabilities
from .running_sum import add_span_window
from .selection import _span_noise_rate_candidates, with_room

# What read_span_half returns first.
READ, INVALID = 0, 1


@kernel
def read_span_half(
    p, labels, start, stop, stretch, candidates, low, high, margin, shift,
    seen, begin, end, frames, cursor, partial, leaf,
):  # fmt: skip
    """Tokens ``start..stop-1`` of span data, ``stretch`` tokens at a time (each read
    once from memory, then from cache): the value check and, if ``candidates``,
    :func:`selection.noise_rate_candidates` (entries numbered from token 0); and class
    k's values numbered ``begin[k]..end[k]-1`` fed to the running sums ``frames,
    cursor, partial, leaf``, ``seen[k]`` being class k's values before token ``start``
    (updated) -- reading on past ``stop``, unchecked, until every window is fed.

    Returns ``(status, entries, above, disagree_below)``, status :data:`READ` or
    :data:`INVALID` (a value in ``start..stop-1`` is not a probability: the rest is
    not read).
    """
    T = labels.shape[0]
    above = np.zeros((2, 2), np.int64)
    disagree_below = np.zeros((2, 2), np.int64)
    entries = np.empty((stop - start) // 8 + stretch if candidates else 0, np.int64)
    n = 0
    lo = start
    while lo < T:
        hi = min(lo + stretch, stop if lo < stop else T)
        if lo < stop:
            if count_invalid_probabilities(p[lo:hi], low, high):
                return INVALID, entries[:0], above, disagree_below
            if candidates:
                found, part_above, part_below = _span_noise_rate_candidates(
                    p[lo:hi], labels[lo:hi], margin, shift
                )
                entries = with_room(entries, n, np.int64(found.shape[0]))
                for c in range(found.shape[0]):
                    entries[n + c] = found[c] + (lo << shift)  # tokens from token 0
                n += found.shape[0]
                above += part_above
                disagree_below += part_below
        if add_span_window(
            p[lo:hi], labels[lo:hi], seen, begin, end, frames, cursor, partial, leaf
        ):
            if lo >= stop:
                break
        lo = hi
    return READ, entries[:n], above, disagree_below
