"""Ordering by score with equal scores in position order."""

from __future__ import annotations

import numpy as np

from .._numba import kernel


@kernel
def sort_ties_by_index(order, keys):
    """Make ``order`` (an unstable argsort of ``keys``) what a stable argsort gives.

    Equal keys lie in runs of ``order``; each run is sorted by index. NaNs (which
    NumPy sorts last) count as equal to each other. A float key's argsort is
    several times faster unstable, and ties are few, so this costs one pass.
    """
    n = order.shape[0]
    start = 0
    while start < n:
        key = keys[order[start]]
        stop = start + 1
        while stop < n:
            other = keys[order[stop]]
            if not (other == key or (other != other and key != key)):
                break
            stop += 1
        if stop - start > 1:
            order[start:stop] = np.sort(order[start:stop])
        start = stop
    return order
