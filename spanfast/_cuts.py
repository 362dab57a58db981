"""Top-k cuts over tokens, computed batch by batch (or on one batch, in memory).

cleanlab's ``prune_by_class``, ``prune_by_noise_rate``, ``low_*`` and
``low_memory`` each keep "the m tokens with the smallest key" per class or
class pair. :class:`Cuts` (what to cut) runs the kernels of
:mod:`spanfast._kernels.selection` for a family of such cuts: ``count`` each
batch's keys into buckets (bucket counts add up), ``plan`` each cut's
boundary bucket from the sum, ``split`` each batch into :class:`Picks` (the
tokens below the boundary and the candidates on it; picks merge in position
order), then ``resolve`` the merged picks by (key, position). A batch's count
and split are pure functions of the batch and the plan, so batches may be
counted and split anywhere (threads, workers) and merged in order; in memory
the single batch is the whole dataset.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from ._kernels import selection, sorted_positions
from ._kernels.selection import _N_BUCKETS
from .errors import InvalidInputError


class Cuts:
    """One family of cuts (what to cut): ``kind`` is ``"noise_rate"``, ``"class"`` or
    ``"score"``, ``capacity`` how many keys each cut keeps. Optionally restricted to
    ``entries`` (noise-rate cuts: the entries of
    :func:`selection.noise_rate_candidates`, read instead of the data; see
    :func:`restricted_noise_rate`)."""

    _KERNELS = {
        "noise_rate": (selection.count_noise_rate_keys, selection.split_noise_rate_keys),
        "class": (selection.count_class_keys, selection.split_class_keys),
        "score": (selection.count_score_keys, selection.split_score_keys),
    }

    def __init__(self, kind: str, capacity: np.ndarray, entries: np.ndarray | None = None) -> None:
        self.kind = kind
        self._count_kernel, self._split_kernel = self._KERNELS[kind]
        # The kernels take the capacity in its natural shape (K x K for class pairs).
        self.capacity = np.ascontiguousarray(capacity, np.int64)
        self.entries = entries

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

    @property
    def n_cuts(self) -> int:
        return self.capacity.size

    def _check_keys(self, keys: tuple) -> None:
        # The kernels index capacity and histogram by label: the layouts must agree.
        if self.kind == "score":
            ok = len(keys) == 1 and keys[0].ndim == 1
        else:
            n_classes = 2 if keys[0].ndim == 1 else keys[0].shape[1]
            ok = len(keys) == 2 and self.capacity.shape[0] == n_classes
        if not ok:
            raise InvalidInputError(
                f"the data changed between passes: a batch's layout does not fit the "
                f"{self.kind} cuts planned from the earlier passes"
            )

    def _args(self, keys: tuple) -> tuple:
        return keys if self.kind == "score" else (*keys, self.capacity)

    def count(self, *keys: np.ndarray, first_position: int = 0) -> np.ndarray:
        """One batch's bucket counts (``keys``: ``(probs, labels)``, or ``(scores,)``;
        ``first_position``: the flat position of its first token); counts of batches
        add up."""
        self._check_keys(keys)
        histogram = np.zeros(self.n_cuts * _N_BUCKETS, np.int64)
        if self.entries is None:
            self._count_kernel(*self._args(keys), histogram)
        else:
            entries, shift = _entries_in(
                self.entries, first_position, keys[1].shape[0], self.capacity
            )
            selection.count_entry_keys(
                keys[1], entries, first_position, shift, self.capacity, histogram
            )
        return histogram

    def kept_disagreeing(self, probs: np.ndarray, labels: np.ndarray, margin) -> np.ndarray:
        """Cuts on entries (see :func:`restricted_noise_rate`) run on the whole dataset,
        in memory, in one kernel call: the kept tokens whose prediction is not their
        label (cleanlab's ``_reduce_issues``), increasing -- what counting, planning,
        splitting and resolving them, then ``Flagged.disagreeing``, give."""
        if self.entries is None:
            raise ValueError("kept_disagreeing runs cuts restricted to entries")
        self._check_keys((probs, labels))
        shift = selection.entry_shift(self.capacity.shape[0])
        return selection.kept_entries_disagreeing(
            probs, labels, self.entries, shift, self.capacity, margin
        )

    def plan(self, histogram: np.ndarray) -> CutPlan:
        """Each cut's boundary bucket, from the bucket counts of every batch."""
        if histogram.shape != (self.n_cuts * _N_BUCKETS,):
            raise ValueError("a cut plan needs the bucket counts of its own cuts")
        return CutPlan(self, *selection.plan_cuts(histogram, self.capacity.reshape(-1)))


@dataclass(frozen=True, eq=False)
class Picks:
    """What a split keeps of some batches: tokens below their cuts' boundaries, and
    the candidates on them. Held as the batches' own arrays, joined once when read
    (joining at every merge would cost the whole state per batch)."""

    parts: tuple  # per batch, in order: (flagged, n_candidates per cut, keys, positions)

    @classmethod
    def of_batch(cls, flagged, n_candidates, keys, positions) -> Picks:
        return cls(((flagged, n_candidates, keys, positions),))

    def merge(self, later: Picks) -> Picks:
        """This batch's picks followed by ``later``'s (later positions)."""
        return Picks(self.parts + later.parts)

    @functools.cached_property
    def flagged(self) -> np.ndarray:
        """Sorted flat positions below a boundary."""
        return np.concatenate([part[0] for part in self.parts])

    @functools.cached_property
    def n_candidates(self) -> np.ndarray:
        return np.sum([part[1] for part in self.parts], axis=0)

    @functools.cached_property
    def _candidates(self) -> tuple[np.ndarray, np.ndarray]:
        """Every candidate's (key, position), grouped by cut, in position order in a cut."""
        if len(self.parts) == 1:  # one batch's candidates are grouped already
            return self.parts[0][2], self.parts[0][3]
        cut_of = np.concatenate([_cut_of(part[1]) for part in self.parts])
        order = np.argsort(cut_of, kind="stable")  # per cut: earlier batch first
        keys = np.concatenate([part[2] for part in self.parts])[order]
        return keys, np.concatenate([part[3] for part in self.parts])[order]

    @property
    def keys(self) -> np.ndarray:
        return self._candidates[0]

    @property
    def positions(self) -> np.ndarray:
        return self._candidates[1]

    def kept_or_candidates(self) -> np.ndarray:
        """Every position these picks may keep, sorted."""
        return sorted_union(self.flagged, np.sort(self.positions))


def _cut_of(n_candidates: np.ndarray) -> np.ndarray:
    return np.repeat(np.arange(n_candidates.shape[0]), n_candidates)


@dataclass(frozen=True, eq=False)
class CutPlan:
    """Cuts whose boundary buckets are fixed (see ``selection.plan_cuts``)."""

    cuts: Cuts
    boundary: np.ndarray
    still_needed: np.ndarray
    candidate_start: np.ndarray  # where each cut's boundary candidates go in one buffer

    def split(self, *keys: np.ndarray, first_position: int = 0) -> Picks:
        """One batch's picks; ``first_position``: the flat position of its first token."""
        cuts = self.cuts
        cuts._check_keys(keys)
        size = int(self.candidate_start[-1])
        # Room for every candidate counted in the whole dataset: one batch cannot have
        # more unless the data changed, and then the kernels stop writing at the end.
        candidate_keys = np.empty(size, np.float64)
        candidate_positions = np.empty(size, np.int64)
        starts, candidate_end = self.candidate_start[:-1], self.candidate_start[1:]
        filled = starts.copy()
        if cuts.entries is None:
            below = cuts._split_kernel(
                *cuts._args(keys),
                self.boundary,
                first_position,
                candidate_keys,
                candidate_positions,
                filled,
                candidate_end,
            )
            flagged = first_position + np.flatnonzero(below)
        else:
            entries, shift = _entries_in(
                cuts.entries, first_position, keys[1].shape[0], cuts.capacity
            )
            flagged = selection.split_entry_keys(
                *keys,
                entries,
                first_position,
                shift,
                cuts.capacity,
                self.boundary,
                candidate_keys,
                candidate_positions,
                filled,
                candidate_end,
            )
        if (filled > candidate_end).any():
            raise _changed("more tokens fall on a cut's boundary than were counted")
        used = filled - starts
        sizes = np.diff(self.candidate_start)
        taken = (np.arange(size) - np.repeat(starts, sizes)) < np.repeat(used, sizes)
        return Picks.of_batch(
            flagged,
            used,
            candidate_keys[taken],
            candidate_positions[taken],
        )

    def resolve(self, picks: Picks) -> np.ndarray:
        """Every position the cuts keep, sorted, from the picks of every batch."""
        if not np.array_equal(picks.n_candidates, np.diff(self.candidate_start)):
            raise _changed("the tokens on a cut's boundary are not those counted")
        # Each cut's still_needed smallest candidates. A stable sort by (cut, key)
        # keeps equal keys in the order they were collected: position order.
        cut_of = _cut_of(picks.n_candidates)
        order = np.lexsort((picks.keys, cut_of))
        rank = np.arange(order.shape[0]) - self.candidate_start[cut_of]
        from_boundary = picks.positions[order[rank < self.still_needed[cut_of]]]
        return sorted_union(picks.flagged, np.sort(from_boundary))


def _changed(what: str) -> InvalidInputError:
    return InvalidInputError(
        f"the data changed between passes: {what} "
        "(a batched source must give the same batches on every pass)"
    )


def sorted_union(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Increasing distinct values (int64) of two sorted integer arrays: one merge walk
    (a sort of the concatenation cost 0.15 ms on 25K positions, the walk 0.06)."""
    return sorted_positions.sorted_union(a, b)


def kept_positions(cuts: Cuts, *keys: np.ndarray) -> np.ndarray:
    """Run ``cuts`` on the whole dataset at once; the kept positions, sorted."""
    plan = cuts.plan(cuts.count(*keys))
    return plan.resolve(plan.split(*keys))


def smallest(scores: np.ndarray, m: int) -> np.ndarray:
    """Sorted positions of the ``m`` smallest scores, equal scores broken by position."""
    return kept_positions(Cuts.smallest(m, scores.shape[0]), scores)


def restricted_noise_rate(cuts: Cuts, candidates: tuple) -> Cuts | None:
    """The noise-rate ``cuts`` run on a few entries instead of every token, when that
    keeps the same tokens, except some that ``_reduce_issues`` drops anyway; None
    otherwise.

    ``candidates`` is what :func:`selection.noise_rate_candidates` returns: when
    every cut keeps at most the tokens with a positive margin towards its class
    (or keeps nothing beyond them that could survive), each cut's kept tokens are
    its smallest entries (every other key is >= 0, every entry's < 0), so the cuts
    run on the entries alone (typically a few percent of the tokens).
    """
    entries, above, disagree_below = candidates
    if entries is None or not ((cuts.capacity <= above) | (disagree_below == 0)).all():
        return None
    return Cuts("noise_rate", np.minimum(cuts.capacity, above), entries=entries)


def _entries_in(entries: np.ndarray, first_position: int, n_tokens: int, capacity) -> tuple:
    """The entries (sorted by token) of a batch's ``n_tokens`` tokens from
    ``first_position``, and the shift that gives an entry's token."""
    shift = selection.entry_shift(capacity.shape[0])
    lo, hi = np.searchsorted(
        entries, [first_position << shift, (first_position + n_tokens) << shift]
    )
    return entries[lo:hi], shift
