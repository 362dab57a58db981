"""NumPy's pairwise sum of each class's values, fed one batch at a time.

``np.mean`` of the values of class k sums them with a fixed tree that depends
only on their count ``n_k`` (see :mod:`spanfast._kernels.summation`). Knowing
``n_k`` in advance, the same tree can be walked while the values stream past:
each class keeps its current leaf (eight accumulators and a count) and a
stack of pending frames and partial sums — O(log n_k) state — so a dataset
read batch by batch gets bit-for-bit the thresholds of the in-memory run.
"""

from __future__ import annotations

import numpy as np

from .._numba import inline_kernel, kernel
from .access import like, probability
from .summation import _BLOCK

_STACK = 128


class RunningSums:
    """Per-class state of a streamed pairwise sum (plain arrays, updated by kernels)."""

    def __init__(self, counts: np.ndarray, dtype: np.dtype) -> None:
        K = counts.shape[0]
        self.counts = np.ascontiguousarray(counts, np.int64)
        self.frame_start = np.zeros((K, _STACK), np.int64)
        self.frame_stop = np.zeros((K, _STACK), np.int64)
        self.frame_combine = np.zeros((K, _STACK), np.bool_)
        self.n_frames = np.zeros(K, np.int64)
        self.partial = np.zeros((K, _STACK), dtype)
        self.n_partial = np.zeros(K, np.int64)
        self.leaf_size = np.zeros(K, np.int64)
        self.leaf_seen = np.zeros(K, np.int64)
        self.accumulators = np.zeros((K, 8), dtype)
        self.total = np.zeros(K, dtype)
        _start(self.counts, *self.arrays())

    def arrays(self) -> tuple:
        return (
            self.frame_start,
            self.frame_stop,
            self.frame_combine,
            self.n_frames,
            self.partial,
            self.n_partial,
            self.leaf_size,
            self.leaf_seen,
            self.accumulators,
            self.total,
        )

    def add_batch(self, P: np.ndarray, labels: np.ndarray) -> None:
        """Feed ``probability(P, i, labels[i])`` for every token of the batch, in order."""
        _add_batch(P, labels, *self.arrays())

    def means(self) -> np.ndarray:
        """``np.mean`` of each class's values (0 for a class without values)."""
        return _means(self.counts, self.partial, self.n_partial)


@inline_kernel
def _next_leaf(
    k, frame_start, frame_stop, frame_combine, n_frames, partial, n_partial, leaf_size, leaf_seen
):
    """Walk class k's tree to its next leaf, adding up finished halves on the way."""
    while n_frames[k] > 0:
        n_frames[k] -= 1
        f = n_frames[k]
        lo = frame_start[k, f]
        hi = frame_stop[k, f]
        if frame_combine[k, f]:
            n_partial[k] -= 1
            top = n_partial[k]
            partial[k, top - 1] = partial[k, top - 1] + partial[k, top]
            continue
        n = hi - lo
        if n <= _BLOCK:
            leaf_size[k] = n
            leaf_seen[k] = 0
            return
        half = n // 2
        half -= half % 8
        frame_start[k, f] = lo
        frame_stop[k, f] = hi
        frame_combine[k, f] = True
        frame_start[k, f + 1] = lo + half
        frame_stop[k, f + 1] = hi
        frame_combine[k, f + 1] = False
        frame_start[k, f + 2] = lo
        frame_stop[k, f + 2] = lo + half
        frame_combine[k, f + 2] = False
        n_frames[k] += 3
    leaf_size[k] = 0


@kernel
def _start(
    counts,
    frame_start,
    frame_stop,
    frame_combine,
    n_frames,
    partial,
    n_partial,
    leaf_size,
    leaf_seen,
    accumulators,
    total,
):
    for k in range(counts.shape[0]):
        if counts[k] > 0:
            frame_start[k, 0] = 0
            frame_stop[k, 0] = counts[k]
            frame_combine[k, 0] = False
            n_frames[k] = 1
            _next_leaf(
                k,
                frame_start,
                frame_stop,
                frame_combine,
                n_frames,
                partial,
                n_partial,
                leaf_size,
                leaf_seen,
            )


@kernel
def _add_batch(
    P,
    labels,
    frame_start,
    frame_stop,
    frame_combine,
    n_frames,
    partial,
    n_partial,
    leaf_size,
    leaf_seen,
    accumulators,
    total,
):
    for i in range(labels.shape[0]):
        k = labels[i]
        x = probability(P, i, k)
        n = leaf_size[k]
        t = leaf_seen[k]
        # One leaf of NumPy's pairwise sum, element by element (see summation._block_sum).
        if n < 8:
            if t == 0:
                total[k] = like(P, -0.0)
            total[k] += x
        elif t < 8:
            accumulators[k, t] = x
        elif t < n - n % 8:
            accumulators[k, t % 8] += x
        else:
            if t == n - n % 8:
                total[k] = _combine(accumulators, k)
            total[k] += x
        leaf_seen[k] = t + 1
        if t + 1 == n:
            if n >= 8 and n % 8 == 0:
                total[k] = _combine(accumulators, k)
            partial[k, n_partial[k]] = total[k]
            n_partial[k] += 1
            _next_leaf(
                k,
                frame_start,
                frame_stop,
                frame_combine,
                n_frames,
                partial,
                n_partial,
                leaf_size,
                leaf_seen,
            )


@inline_kernel
def _combine(accumulators, k):
    r = accumulators
    return ((r[k, 0] + r[k, 1]) + (r[k, 2] + r[k, 3])) + ((r[k, 4] + r[k, 5]) + (r[k, 6] + r[k, 7]))


@kernel
def _means(counts, partial, n_partial):
    K = counts.shape[0]
    out = np.zeros(K, partial.dtype)
    for k in range(K):
        if counts[k] > 0:
            out[k] = partial[k, 0] / np.float64(counts[k])
    return out
