"""Top-k cuts over tokens, computed batch by batch (or on one batch, in memory).

cleanlab's ``prune_by_class``, ``prune_by_noise_rate``, ``low_*`` and
``low_memory`` each keep "the m tokens with the smallest key" per class or
class pair. A :class:`Cuts` runs the kernels of :mod:`spanfast._kernels.selection`
for a family of such cuts: ``count`` every batch's keys into buckets,
``plan`` the boundary bucket of each cut, ``split`` every batch (flag the
tokens below the boundary, collect those on it), then ``resolve`` the
boundary candidates by (key, position). In memory the single batch is the
whole dataset; out of core the same calls run over many batches, which is
why both give the same tokens.
"""

from __future__ import annotations

import numpy as np

from ._kernels import selection
from ._kernels.selection import _N_BUCKETS
from .errors import InvalidInputError


class Cuts:
    """One family of cuts; ``kind`` is ``"noise_rate"``, ``"class"`` or ``"score"``."""

    _KERNELS = {
        "noise_rate": (selection.count_noise_rate_keys, selection.split_noise_rate_keys),
        "class": (selection.count_class_keys, selection.split_class_keys),
        "score": (selection.count_score_keys, selection.split_score_keys),
    }

    def __init__(self, kind: str, capacity: np.ndarray) -> None:
        self.kind = kind
        self._count_kernel, self._split_kernel = self._KERNELS[kind]
        # The kernels take the capacity in its natural shape (K x K for class pairs).
        self.capacity = np.ascontiguousarray(capacity, np.int64)
        self.histogram = np.zeros(self.capacity.size * _N_BUCKETS, np.int64)
        self._flagged: list[np.ndarray] = []
        self._seen = None

    @classmethod
    def noise_rate(cls, prune_counts: np.ndarray, counts: np.ndarray, applied: np.ndarray) -> Cuts:
        """Cut (k, j): among tokens labelled k, the ``prune_counts[j, k]`` with the
        largest ``p[j] - p[k]`` (cleanlab ``filter._prune_by_count``)."""
        capacity = np.minimum(prune_counts.T, counts[:, None]).clip(min=0)
        capacity[~applied] = 0
        np.fill_diagonal(capacity, 0)
        return cls("noise_rate", capacity)

    @classmethod
    def by_class(cls, n_to_prune: np.ndarray, counts: np.ndarray, applied: np.ndarray) -> Cuts:
        """Cut k: among tokens labelled k, the ``n_to_prune[k]`` with the smallest
        ``p[k]`` (cleanlab ``filter._prune_by_class``)."""
        capacity = np.minimum(n_to_prune, counts).clip(min=0)
        capacity[~applied] = 0
        return cls("class", capacity)

    @classmethod
    def smallest(cls, m: int, n_tokens: int) -> Cuts:
        """The ``m`` smallest scores of all tokens."""
        return cls("score", np.array([min(max(int(m), 0), n_tokens)]))

    def _data(self, data: tuple) -> tuple:
        return data if self.kind == "score" else (*data, self.capacity)

    def count(self, *data: np.ndarray) -> None:
        """Add one batch's keys (``data``: ``(probs, labels)``, or ``(scores,)``)."""
        self._count_kernel(*self._data(data), self.histogram)

    def plan(self) -> None:
        """Fix each cut's boundary bucket, once every batch has been counted."""
        self._boundary, self._still_needed, self._candidate_start = selection.plan_cuts(
            self.histogram, self.capacity.reshape(-1)
        )
        size = int(self._candidate_start[-1])
        self._keys = np.empty(size, np.float64)
        self._positions = np.empty(size, np.int64)
        self._filled = self._candidate_start[:-1].copy()
        self._seen = self._filled.copy()

    def split(self, *data: np.ndarray, first_position: int = 0) -> np.ndarray:
        """One batch's tokens below the boundary (a mask); those on it become candidates.

        Returns the batch-local positions that are flagged or candidates: every
        token of the batch that may end up kept.
        """
        candidate_end = self._candidate_start[1:]
        flagged = self._split_kernel(
            *self._data(data),
            self._boundary,
            first_position,
            self._keys,
            self._positions,
            self._filled,
            candidate_end,
        )
        if (self._filled > candidate_end).any():
            raise InvalidInputError(
                "the data changed between passes: more tokens fall on a cut's boundary than "
                "were counted (a batched source must give the same batches on every pass)"
            )
        local = np.flatnonzero(flagged)
        self._flagged.append(first_position + local)
        new_candidates = [
            self._positions[lo:hi] for lo, hi in zip(self._seen, self._filled) if hi > lo
        ]
        self._seen = self._filled.copy()
        if new_candidates:
            local = sorted_union(local, np.concatenate(new_candidates) - first_position)
        return local

    def resolve(self) -> np.ndarray:
        """Every position the cuts keep, sorted."""
        # Each cut's still_needed smallest candidates. A stable sort by (cut, key)
        # keeps equal keys in the order they were collected: position order.
        sizes = np.diff(self._candidate_start)
        cut_of = np.repeat(np.arange(sizes.shape[0]), sizes)
        order = np.lexsort((self._keys, cut_of))
        rank = np.arange(order.shape[0]) - self._candidate_start[cut_of]
        from_boundary = self._positions[order[rank < self._still_needed[cut_of]]]
        flagged = np.concatenate(self._flagged) if self._flagged else np.empty(0, np.int64)
        return sorted_union(flagged, from_boundary)


def sorted_union(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Sorted distinct values of two integer arrays (``np.union1d`` without its hashing)."""
    merged = np.sort(np.concatenate([a, b]))
    if merged.shape[0] < 2:
        return merged
    return merged[np.concatenate([[True], merged[1:] != merged[:-1]])]


def kept_positions(cuts: Cuts, *data: np.ndarray) -> np.ndarray:
    """Run ``cuts`` on the whole dataset at once; the kept positions, sorted."""
    cuts.count(*data)
    cuts.plan()
    cuts.split(*data)
    return cuts.resolve()


def prune_by_noise_rate(probs, labels, prune_counts, counts, applied, candidates) -> np.ndarray:
    """Sorted positions kept by cleanlab ``filter._prune_by_count`` over every class
    at once, except some that ``_reduce_issues`` drops anyway (``candidates``: what
    :func:`selection.noise_rate_candidates` returns).

    When every cut falls among the tokens with a positive margin towards some
    class (or keeps nothing beyond them that could survive), the cuts run on
    those candidates alone (typically a few percent of the tokens).
    """
    cuts = Cuts.noise_rate(prune_counts, counts, applied)
    candidates, above, disagree_below = candidates
    if not ((cuts.capacity <= above) | (disagree_below == 0)).all():
        return kept_positions(cuts, probs, labels)
    cuts = Cuts("noise_rate", np.minimum(cuts.capacity, above))
    return _kept_among(cuts, probs, labels, candidates)


# Rows gathered at a time by _kept_among: a copy of every candidate's row at once
# would be the largest allocation of find_label_issues (8 MB for 1M tokens, K = 9).
# Each batch is gathered twice (to count, then to split once the cuts are planned);
# at 1M tokens, K = 9 that was not measurable against one 8 MB gather (54 vs 53-57 ms).
_GATHER_BYTES = 1 << 21


def _kept_among(cuts: Cuts, probs: np.ndarray, labels: np.ndarray, positions: np.ndarray):
    """``kept_positions`` of the tokens at ``positions`` (sorted), gathered batch by batch."""
    batch = max(1, _GATHER_BYTES // (probs[:1].nbytes or 1))
    starts = range(0, positions.shape[0], batch)
    for start in starts:
        part = positions[start : start + batch]
        cuts.count(probs[part], labels[part])
    cuts.plan()
    for start in starts:
        part = positions[start : start + batch]
        cuts.split(probs[part], labels[part], first_position=start)
    return positions[cuts.resolve()]


def prune_by_class(probs, labels, n_to_prune, counts, applied) -> np.ndarray:
    """Sorted positions kept by cleanlab ``filter._prune_by_class`` over every class at once."""
    return kept_positions(Cuts.by_class(n_to_prune, counts, applied), probs, labels)


def smallest(scores: np.ndarray, m: int) -> np.ndarray:
    """Sorted positions of the ``m`` smallest scores, equal scores broken by position."""
    return kept_positions(Cuts.smallest(m, scores.shape[0]), scores)
