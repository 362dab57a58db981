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
_NO_END = np.int64(2**63 - 1)  # a window that never ends


class RunningSums:
    """Per-class state of a streamed pairwise sum (plain arrays, updated by kernels)."""

    def __init__(
        self, counts: np.ndarray, dtype: np.dtype, begin: np.ndarray | None = None
    ) -> None:
        """``begin``: start each class's walk at that value instead (see :func:`start_at`)."""
        K = counts.shape[0]
        self.counts = np.ascontiguousarray(counts, np.int64)
        self.frames, self.cursor, self.partial, self.leaf = self.zeros(K, dtype)
        if begin is not None:
            start_at(
                self.counts, np.asarray(begin, np.int64), self.frames, self.cursor, self.partial
            )
            return
        # Walking down to each class's first leaf pops no combine frame, so it never
        # touches the partial sums: an empty float64 stand-in (any access would be out of
        # bounds, caught with NUMBA_BOUNDSCHECK=1) compiles _start once for every
        # probability dtype (one specialization fewer to compile per new dtype).
        _start(self.counts, self.frames, self.cursor, np.zeros((K, 0), np.float64))

    @staticmethod
    def zeros(n_classes: int, dtype: np.dtype) -> tuple[np.ndarray, ...]:
        """Zeroed :attr:`arrays` of ``n_classes`` classes, for a kernel that starts the
        walks itself (:func:`_start` or :func:`start_at`)."""
        K = n_classes
        return (
            np.zeros((K, _STACK, 3), np.int64),
            np.zeros((K, 5), np.int64),
            np.zeros((K, _STACK), dtype),
            np.zeros((K, _BLOCK), dtype),
        )

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
    """:func:`_add_batch` of span data (classes 0 and 1: ``1 - p`` and ``p``), every
    value of the batch fed (see :func:`add_span_window`)."""
    seen = np.zeros(2, np.int64)
    everything = np.full(2, _NO_END, np.int64)
    add_span_window(p, labels, seen, seen.copy(), everything, frames, cursor, partial, leaf)


@helper
def add_span_window(p, labels, seen, begin, end, frames, cursor, partial, leaf):
    """Feed class k's values numbered ``begin[k]..end[k]-1`` of span data to its tree,
    ``seen[k]`` values of class k coming before these tokens (updated); returns whether
    every class's window is fed (the tokens after that point are not read).

    Each chunk of tokens is first split into the two classes' values without a branch
    (every value is written to both runs, only its class's run moves on), then each
    run's part in its window goes to its tree a leaf at a time (twice as fast as
    :func:`_add_batch`: the class of a span token changes every few tokens, and the
    per-token tree bookkeeping is gone)."""
    one = p.dtype.type(1)
    runs = np.empty((2, _SPAN_CHUNK), p.dtype)
    T = labels.shape[0]
    for start in range(0, T, _SPAN_CHUNK):
        if seen[0] >= end[0] and seen[1] >= end[1]:
            return True
        n_0 = 0
        n_1 = 0
        for i in range(start, min(start + _SPAN_CHUNK, T)):
            in_span = np.int64(labels[i] != 0)
            value = p[i]
            runs[0, n_0] = one - value
            runs[1, n_1] = value
            n_0 += 1 - in_span
            n_1 += in_span
        _feed_window(_ZERO, runs[0], n_0, seen, begin, end, frames, cursor, partial, leaf)
        _feed_window(_ONE, runs[1], n_1, seen, begin, end, frames, cursor, partial, leaf)
    return seen[0] >= end[0] and seen[1] >= end[1]


@helper
def _feed_window(k, values, n, seen, begin, end, frames, cursor, partial, leaf):
    """Feed the part of class k's next ``n`` values (``values[:n]``, numbered from
    ``seen[k]``) that is in its window ``begin[k]..end[k]-1``."""
    lo = max(begin[k] - seen[k], 0)
    hi = min(end[k] - seen[k], n)
    if lo < hi:
        _feed(k, values[lo:hi], hi - lo, frames, cursor, partial, leaf)
    seen[k] += n


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


# Walks split in two at a value (see :func:`start_at` and :func:`joined_sums`).


@helper
def first_leaf_from(n, position):
    """The first value of the first leaf of the tree over ``n`` values that starts at or
    after value ``position`` (``n`` when none does): where a second walk can start."""
    lo, hi = 0, n
    while hi - lo > _BLOCK:
        half = (hi - lo) // 2
        mid = lo + half - half % 8
        lo, hi = (mid, hi) if position >= mid else (lo, mid)
    return lo if position <= lo else hi


@kernel
def start_at(counts, begin, frames, cursor, partial):
    """Start each class's walk at value ``begin[k]`` (:func:`first_leaf_from`; ``n_k``:
    nothing to walk), leaving the values before it to another walk from the start.
    The walk sums the nodes that cover ``begin[k]..n_k-1`` -- the leaf at ``begin[k]``
    and the right halves of the nodes on the way down to it -- and leaves their sums on
    its partial stack, uncombined, in value order, for :func:`joined_sums`."""
    for k in range(counts.shape[0]):
        lo, hi, b = _ZERO, counts[k], begin[k]
        if b >= hi:
            continue
        f = _ZERO
        while hi - lo > _BLOCK:
            half = (hi - lo) // 2
            mid = lo + half - half % 8
            if b >= mid:
                lo = mid  # the left half is the other walk's
            else:  # pushed before the deeper nodes: summed after them
                _push(frames, k, f, mid, hi, _ZERO)
                f += 1
                hi = mid
        _push(frames, k, f, lo, hi, _ZERO)  # the leaf at b: summed first
        cursor[k, _N_FRAMES] = f + 1
        _next_leaf(k, frames, cursor, partial)


@kernel
def joined_sums(counts, begin, first, first_cursor, later, later_cursor):
    """Each class's sum over its whole tree from two walks split at ``begin[k]``:
    ``first`` (partial stack) and ``first_cursor`` of a walk from the start fed values
    ``0..begin[k]-1``, ``later``/``later_cursor`` of a :func:`start_at` walk fed the
    rest. Adds the pieces as NumPy's recursion does: the first walk's pending left
    halves (top of the tree first), the later walk's leaf and right halves (deepest
    first). Returns ``(sums, complete)``: complete is False when a walk did not get
    exactly its values (the data changed), and the sums are then meaningless."""
    K = counts.shape[0]
    sums = np.zeros(K, first.dtype)
    complete = True
    for k in range(K):
        n, b = counts[k], begin[k]
        done_first = first_cursor[k, _N_FRAMES] == 0 and first_cursor[k, _LEAF_SIZE] == 0
        if n == 0:
            continue
        if b >= n:  # the first walk had every value
            complete &= done_first and first_cursor[k, _N_PARTIAL] == 1
            sums[k] = first[k, 0]
            continue
        went_right = np.zeros(64, np.bool_)  # a tree over < 2^63 values is < 64 deep
        depth = 0
        n_right = 0
        lo, hi = _ZERO, n
        while hi - lo > _BLOCK:
            half = (hi - lo) // 2
            mid = lo + half - half % 8
            went_right[depth] = b >= mid
            n_right += went_right[depth]
            lo, hi = (mid, hi) if b >= mid else (lo, mid)
            depth += 1
        n_later = depth - n_right + 1
        complete &= first_cursor[k, _N_PARTIAL] == n_right and first_cursor[k, _EXTRA] == 0
        complete &= first_cursor[k, _LEAF_SEEN] == 0
        complete &= later_cursor[k, _N_PARTIAL] == n_later and later_cursor[k, _EXTRA] == 0
        complete &= later_cursor[k, _N_FRAMES] == 0 and later_cursor[k, _LEAF_SIZE] == 0
        if not complete:
            continue
        value = later[k, 0]  # the leaf at b
        taken_later = 1
        left_halves = n_right
        for level in range(depth - 1, -1, -1):
            if went_right[level]:  # the first walk's left half, then this node's right half
                left_halves -= 1
                value = first[k, left_halves] + value
            else:  # this node's left half, then the later walk's right half
                value = value + later[k, taken_later]
                taken_later += 1
        sums[k] = value
    return sums, complete


@kernel
def _means(counts, partial):
    K = counts.shape[0]
    out = np.zeros(K, partial.dtype)
    for k in range(K):
        if counts[k] > 0:
            out[k] = partial[k, 0] / np.float64(counts[k])
    return out
