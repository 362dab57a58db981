"""Ordering by score with equal scores in position order."""

from __future__ import annotations

import numpy as np

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


_FLIP_BELOW_SIGN = np.int64(0x7FFFFFFFFFFFFFFF)


@kernel
def packed_keys(scores, index_bits):
    """``(values, packed, has_nan)``: the scores as float64 (-0.0 as 0.0, equal as NumPy
    compares them), and each one's bits as an int64 that orders as the float does,
    its lowest ``index_bits`` bits replaced by its index (see
    :func:`spanfast._positions.stable_order`)."""
    n = scores.shape[0]
    values = np.empty(n, np.float64)
    has_nan = False
    for i in range(n):
        v = np.float64(scores[i]) + 0.0
        values[i] = v
        has_nan |= v != v
    bits = values.view(np.int64)
    low = (np.int64(1) << index_bits) - 1
    packed = np.empty(n, np.int64)
    for i in range(n):
        b = bits[i]
        packed[i] = ((b ^ _FLIP_BELOW_SIGN) if b < 0 else b) & ~low | i
    return values, packed, has_nan


@kernel
def sort_packed_runs(packed, order, keys, index_bits):
    """Finish :func:`spanfast._positions.stable_order`: ``packed`` is sorted, each entry a
    key's top bits above its index (``index_bits`` bits, also in ``order``), so keys
    that differ only below ``index_bits`` lie in one run, by index. Each run whose keys
    are not in order is insertion-sorted by key, stably; returns False (``order`` half
    done) if such a run is longer than :data:`_LONGEST_TIE`."""
    n = order.shape[0]
    start = 0
    while start < n:
        top = packed[start] >> index_bits
        stop = start + 1
        in_order = True
        while stop < n and packed[stop] >> index_bits == top:
            in_order &= keys[order[stop - 1]] <= keys[order[stop]]
            stop += 1
        if not in_order:
            if stop - start > _LONGEST_TIE:
                return False
            for r in range(start + 1, stop):
                index = order[r]
                key = keys[index]
                q = r
                while q > start and keys[order[q - 1]] > key:
                    order[q] = order[q - 1]
                    q -= 1
                order[q] = index
        start = stop
    return True
