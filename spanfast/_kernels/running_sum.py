"""NumPy's pairwise sum of each class's values, fed one batch at a time.

``np.mean`` of the values of class k sums them with a fixed tree that depends
only on their count ``n_k`` (see :mod:`spanfast._kernels.summation`). Knowing
``n_k`` in advance, the same tree can be walked while the values stream past:
each class keeps its current leaf (at most 128 values, summed as NumPy sums a
leaf once it is full) and a stack of pending frames and partial sums —
O(log n_k) state — so a dataset read batch by batch gets bit-for-bit the
thresholds of the in-memory run.
"""

from __future__ import annotations

import numpy as np

from .._numba import helper, kernel
from .access import probability
from .summation import _BLOCK, _block_sum

_STACK = 128
# Columns of `cursor`, one row per class (_EXTRA: values beyond the class's count).
_N_FRAMES, _N_PARTIAL, _LEAF_SIZE, _LEAF_SEEN, _EXTRA = 0, 1, 2, 3, 4
# Columns of `frames[k, f]`: a sub-range [start, stop) still to sum, or (combine=1)
# the point where the two partial sums on top of the stack are to be added.
_START, _STOP, _COMBINE = 0, 1, 2
# Integer arguments of helpers as np.int64: a Python literal would compile a
# separate specialization of the helper for each constant (see _numba.helper).
_ZERO, _ONE = np.int64(0), np.int64(1)


class RunningSums:
    """Per-class state of a streamed pairwise sum (plain arrays, updated by kernels)."""

    def __init__(self, counts: np.ndarray, dtype: np.dtype) -> None:
        K = counts.shape[0]
        self.counts = np.ascontiguousarray(counts, np.int64)
        self.frames = np.zeros((K, _STACK, 3), np.int64)
        self.cursor = np.zeros((K, 5), np.int64)
        self.partial = np.zeros((K, _STACK), dtype)
        self.leaf = np.zeros((K, _BLOCK), dtype)
        # Walking down to each class's first leaf pops no combine frame, so it never
        # touches the partial sums: an empty float64 stand-in (any access would be out of
        # bounds, caught with NUMBA_BOUNDSCHECK=1) compiles _start once for every
        # probability dtype (one specialization fewer to compile per new dtype).
        _start(self.counts, self.frames, self.cursor, np.zeros((K, 0), np.float64))

    def add_batch(self, P: np.ndarray, labels: np.ndarray) -> None:
        """Feed ``probability(P, i, labels[i])`` for every token of the batch, in order
        (labels in ``0..K-1`` for the K counts given: the kernel indexes by label)."""
        if (2 if P.ndim == 1 else P.shape[1]) > self.counts.shape[0]:
            raise ValueError(
                f"RunningSums of {self.counts.shape[0]} classes cannot add "
                f"probabilities of {2 if P.ndim == 1 else P.shape[1]} classes"
            )
        if P.ndim == 1 and self.counts.shape[0] == 2:
            _add_span_batch(P, labels, self.frames, self.cursor, self.partial, self.leaf)
        else:
            _add_batch(P, labels, self.frames, self.cursor, self.partial, self.leaf)

    @property
    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """The state the kernels update: ``(frames, cursor, partial, leaf)``."""
        return self.frames, self.cursor, self.partial, self.leaf

    @property
    def complete(self) -> bool:
        """Every class got exactly its count of values (so :meth:`means` is meaningful)."""
        return not (self.cursor[:, [_N_FRAMES, _LEAF_SIZE, _EXTRA]].any())

    def means(self) -> np.ndarray:
        """``np.mean`` of each class's values (0 for a class without values)."""
        return _means(self.counts, self.partial)


@helper
def _next_leaf(k, frames, cursor, partial):
    """Walk class k's tree to its next leaf, adding up finished halves on the way."""
    while cursor[k, _N_FRAMES] > 0:
        cursor[k, _N_FRAMES] -= 1
        f = cursor[k, _N_FRAMES]
        lo = frames[k, f, _START]
        hi = frames[k, f, _STOP]
        if frames[k, f, _COMBINE]:
            cursor[k, _N_PARTIAL] -= 1
            top = cursor[k, _N_PARTIAL]
            partial[k, top - 1] = partial[k, top - 1] + partial[k, top]
            continue
        n = hi - lo
        if n <= _BLOCK:
            cursor[k, _LEAF_SIZE] = n
            cursor[k, _LEAF_SEEN] = 0
            return
        half = n // 2
        half -= half % 8
        # Pushed in reverse: left half first, then right, then their sum (as NumPy recurses).
        _push(frames, k, f, lo, hi, _ONE)
        _push(frames, k, f + 1, lo + half, hi, _ZERO)
        _push(frames, k, f + 2, lo, lo + half, _ZERO)
        cursor[k, _N_FRAMES] += 3
    cursor[k, _LEAF_SIZE] = 0


@helper
def _push(frames, k, f, start, stop, combine):
    frames[k, f, _START] = start
    frames[k, f, _STOP] = stop
    frames[k, f, _COMBINE] = combine


@kernel
def _start(counts, frames, cursor, partial):
    for k in range(counts.shape[0]):
        if counts[k] > 0:
            _push(frames, k, _ZERO, _ZERO, counts[k], _ZERO)
            cursor[k, _N_FRAMES] = 1
            _next_leaf(k, frames, cursor, partial)


@kernel
def _add_batch(P, labels, frames, cursor, partial, leaf):
    for i in range(labels.shape[0]):
        k = np.int64(labels[i])  # one compiled _next_leaf whatever the label type
        t = cursor[k, _LEAF_SEEN]
        n = cursor[k, _LEAF_SIZE]
        if t >= n:  # more values than counted (the data changed): leave the tree alone
            cursor[k, _EXTRA] += 1
            continue
        leaf[k, t] = probability(P, i, k)
        cursor[k, _LEAF_SEEN] = t + 1
        if t + 1 == n:
            partial[k, cursor[k, _N_PARTIAL]] = _block_sum(leaf[k], _ZERO, n)
            cursor[k, _N_PARTIAL] += 1
            _next_leaf(k, frames, cursor, partial)


# Span tokens are sorted into their class's run this many at a time, then each run
# is fed to its class's tree in one go.
_SPAN_CHUNK = 4096


@kernel
def _add_span_batch(p, labels, frames, cursor, partial, leaf):
    """:func:`_add_batch` of span data (classes 0 and 1: ``1 - p`` and ``p``): each
    chunk of tokens is first split into the two classes' values without a branch
    (every value is written to both runs, only its class's run moves on), then
    each run goes to its tree a leaf at a time (twice as fast: the class of a span
    token changes every few tokens, and the per-token tree bookkeeping is gone)."""
    one = p.dtype.type(1)
    runs = np.empty((2, _SPAN_CHUNK), p.dtype)
    T = labels.shape[0]
    for start in range(0, T, _SPAN_CHUNK):
        n_0 = 0
        n_1 = 0
        for i in range(start, min(start + _SPAN_CHUNK, T)):
            in_span = np.int64(labels[i] != 0)
            value = p[i]
            runs[0, n_0] = one - value
            runs[1, n_1] = value
            n_0 += 1 - in_span
            n_1 += in_span
        _feed(_ZERO, runs[0], n_0, frames, cursor, partial, leaf)
        _feed(_ONE, runs[1], n_1, frames, cursor, partial, leaf)


@helper
def _feed(k, values, n, frames, cursor, partial, leaf):
    """Add ``values[:n]`` to class k's tree, in order (as :func:`_add_batch` would)."""
    m = 0
    while m < n:
        seen = cursor[k, _LEAF_SEEN]
        size = cursor[k, _LEAF_SIZE]
        if seen >= size:  # more values than counted: leave the tree alone
            cursor[k, _EXTRA] += n - m
            return
        take = min(size - seen, n - m)
        whole = seen == 0 and take == size  # a whole leaf in the run: summed where it is
        if not whole:
            leaf[k, seen : seen + take] = values[m : m + take]
        cursor[k, _LEAF_SEEN] = seen + take
        if seen + take == size:
            if whole:
                partial[k, cursor[k, _N_PARTIAL]] = _block_sum(values, np.int64(m), m + size)
            else:
                partial[k, cursor[k, _N_PARTIAL]] = _block_sum(leaf[k], _ZERO, size)
            cursor[k, _N_PARTIAL] += 1
            _next_leaf(k, frames, cursor, partial)
        m += take


@kernel
def _means(counts, partial):
    K = counts.shape[0]
    out = np.zeros(K, partial.dtype)
    for k in range(K):
        if counts[k] > 0:
            out[k] = partial[k, 0] / np.float64(counts[k])
    return out
