"""Per-class sums in NumPy's pairwise order, as partial states that merge.

``np.mean`` of the ``n`` values of class k adds them along a fixed tree that
depends only on ``n`` (:mod:`spanfast._kernels.summation`): leaves of at most
128 values, each inner node split at half its size rounded down to a multiple
of 8. A batch holds a contiguous run ``[start, stop)`` of every class's values;
its partial state is, per class, the maximal tree nodes inside that run (their
sums) and, at the run's two ends, the raw values of leaves it covers only in
part. Merging the states of adjacent runs joins the split leaves and adds up
sibling nodes as NumPy would; the result depends only on the run covered, not
on how it was grouped, so batches, partitions and threads all end with the
in-memory sum, bit for bit.

State is O(K log n + 256 K) numbers. Values are kept in the probabilities'
dtype (NumPy sums float32 in float32).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._kernels import summation, thresholds
from ._kernels.running_sum import RunningSums
from .errors import InvalidInputError

_LEAF = summation._BLOCK  # NumPy's pairwise leaf: at most 128 values

# A piece of class k's tree: (lo, hi, value) with value a scalar (the sum of the
# complete node [lo, hi)) or an array (values lo..hi of a leaf covered in part).
Piece = tuple


@dataclass(frozen=True, eq=False)
class ClassSums:
    """Pieces of each class's pairwise tree covering a contiguous run of its values."""

    totals: np.ndarray  # (K,) int64: the number of values of each class in the whole dataset
    pieces: tuple  # per class, a tuple of pieces in value order
    dtype: np.dtype

    def merge(self, later: ClassSums) -> ClassSums:
        """The state of this run followed by ``later``'s (adjacent) run."""
        merged = tuple(
            _merge(int(n), a, b) for n, a, b in zip(self.totals, self.pieces, later.pieces)
        )
        return ClassSums(self.totals, merged, self.dtype)

    def means(self) -> np.ndarray:
        """``np.mean`` of each class's values (0 for a class without values); every
        class must be complete (see :meth:`complete`)."""
        means = np.zeros(self.totals.shape[0], self.dtype)
        for k, (n, pieces) in enumerate(zip(self.totals, self.pieces)):
            if n > 0:  # as np.mean: the sum divided by the count in float64, then cast
                means[k] = np.float64(pieces[0][2]) / np.float64(n)
        return means

    @property
    def complete(self) -> bool:
        """Every class's tree is summed to its root (the runs covered the whole dataset)."""
        return all(
            (not pieces) if n == 0 else (len(pieces) == 1 and _is_root(n, pieces[0]))
            for n, pieces in zip(self.totals, self.pieces)
        )


def of_batch(P, labels, batch_counts, starts, totals) -> ClassSums:
    """The state of one batch whose class-k values are values ``starts[k]`` onwards of
    class k; ``batch_counts``: the batch's own class counts (so the gather stays in
    bounds), ``totals``: each class's count in the whole dataset (the trees' sizes)."""
    totals = np.asarray(totals, np.int64)
    if batch_counts.shape[0] != totals.shape[0] or ((starts + batch_counts) > totals).any():
        raise InvalidInputError(
            "the data changed between passes: a batch has more tokens of a class than "
            "pass 1 counted (a batched source must give the same batches on every pass)"
        )
    dtype = P.dtype
    if not starts.any() and np.array_equal(batch_counts, totals):
        # The whole dataset in one batch: walk the trees as the values stream past,
        # without gathering them (the same tree, so the same sums).
        whole = InOrder(totals, dtype)
        whole.add(P, labels)
        return whole.sums()
    buffer = np.empty(labels.shape[0], dtype)
    group_start = thresholds._gather_by_class(P, labels, 0, labels.shape[0], batch_counts, buffer)
    return ClassSums(totals, _pieces(buffer, group_start, starts, totals), dtype)


def _split_point(lo: int, hi: int) -> int:
    half = (hi - lo) // 2
    return lo + half - half % 8


def _pieces(values: np.ndarray, group_start: np.ndarray, starts, totals: np.ndarray) -> tuple:
    """Per class, the pieces of its tree that ``values[group_start[k]:group_start[k + 1]]``
    (its values ``starts[k]..`` onwards) cover (:func:`summation.tree_pieces`)."""
    starts = np.asarray(starts, np.int64)
    lo, hi, sums, whole, n_pieces = summation.tree_pieces(values, group_start, starts, totals)
    lo, hi, whole = lo.tolist(), hi.tolist(), whole.tolist()
    pieces = []
    for k, n in enumerate(n_pieces.tolist()):
        first = k * summation.MAX_PIECES
        shift = int(group_start[k] - starts[k])
        pieces.append(
            tuple(
                (
                    lo[j],
                    hi[j],
                    sums[j] if whole[j] else values[shift + lo[j] : shift + hi[j]].copy(),
                )
                for j in range(first, first + n)
            )
        )
    return tuple(pieces)


def _node_sum(values: np.ndarray):
    return values.dtype.type(summation.sum_like_numpy(values))


def _is_root(n: int, piece: Piece) -> bool:
    return piece[0] == 0 and piece[1] == n and not isinstance(piece[2], np.ndarray)


def _leaf_of(n: int, position: int) -> tuple[int, int]:
    """The leaf of the tree over ``n`` values that holds value ``position``."""
    lo, hi = 0, n
    while hi - lo > _LEAF:
        mid = _split_point(lo, hi)
        lo, hi = (lo, mid) if position < mid else (mid, hi)
    return lo, hi


def _are_siblings(n: int, lo: int, mid: int, hi: int) -> bool:
    """Are [lo, mid) and [mid, hi) the two halves of one node of the tree over ``n``?"""
    if hi - lo <= _LEAF or _split_point(lo, hi) != mid:
        return False  # not even halves of [lo, hi): most pairs, without the walk from the root
    node_lo, node_hi = 0, n
    while node_hi - node_lo > _LEAF:
        split = _split_point(node_lo, node_hi)
        if (node_lo, node_hi) == (lo, hi):
            return split == mid
        if hi <= split:
            node_hi = split
        elif lo >= split:
            node_lo = split
        else:
            return False
    return False


def _merge(n: int, earlier: tuple, later: tuple) -> tuple:
    stack = list(earlier)
    for piece in later:
        stack.append(piece)
        while len(stack) >= 2:
            (lo, mid, left), (mid_later, hi, right) = stack[-2], stack[-1]
            if mid != mid_later:
                raise InvalidInputError(
                    "the data changed between passes: batches do not cover the dataset in order"
                )
            left_part, right_part = isinstance(left, np.ndarray), isinstance(right, np.ndarray)
            if left_part and right_part and _leaf_of(n, lo) == _leaf_of(n, hi - 1):
                values = np.concatenate([left, right])
                leaf = _leaf_of(n, lo)
                stack[-2:] = [(lo, hi, _node_sum(values) if leaf == (lo, hi) else values)]
            elif not (left_part or right_part) and _are_siblings(n, lo, mid, hi):
                stack[-2:] = [(lo, hi, left + right)]  # NumPy adds the two halves in dtype
            else:
                break
    return tuple(stack)


class InOrder:
    """The whole dataset's :class:`ClassSums`, its tokens fed in order in runs of any
    length, by one thread at a time: the trees are walked as the values stream past
    (:class:`RunningSums`), so the sums are :func:`of_batch`'s of one batch, bit for bit."""

    def __init__(self, totals: np.ndarray, dtype: np.dtype) -> None:
        self.totals = np.asarray(totals, np.int64)
        self.dtype = np.dtype(dtype)
        self._running = RunningSums(self.totals, self.dtype)

    def add(self, P: np.ndarray, labels: np.ndarray) -> None:
        """The next tokens (labels in ``0..K-1`` for the K totals: the kernel indexes by them)."""
        self._running.add_batch(P, labels)

    @property
    def arrays(self) -> tuple[np.ndarray, ...]:
        """The state a kernel adding tokens updates (:attr:`RunningSums.arrays`)."""
        return self._running.arrays

    def sums(self) -> ClassSums:
        """The sums, once every token of the dataset has been added."""
        pieces = tuple(
            ((0, int(n), self.dtype.type(self._running.partial[k, 0])),) if n else ()
            for k, n in enumerate(self.totals)
        )
        return ClassSums(self.totals, pieces, self.dtype)
