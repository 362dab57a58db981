"""Ordering by score with equal scores in position order."""

from __future__ import annotations

from .._numba import kernel

# Longest run of equal keys put in order here; a longer one (heavily rounded
# scores) is left to a stable sort of everything.
_LONGEST_TIE = 32


@kernel
def sort_ties_by_index(order, keys):
    """Turn ``order`` (an unstable argsort of ``keys``) in place into what a stable
    argsort gives, if every run of equal keys is short; return whether it did.

    Equal keys lie in runs of ``order``; each run is insertion-sorted by index.
    NaNs (which NumPy sorts last) count as equal to each other. A float key's
    argsort is several times faster unstable, and real scores rarely tie.
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
        if stop - start > _LONGEST_TIE:
            return False
        for r in range(start + 1, stop):
            index = order[r]
            q = r
            while q > start and order[q - 1] > index:
                order[q] = order[q - 1]
                q -= 1
            order[q] = index
        start = stop
    return True
