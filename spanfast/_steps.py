"""The pieces plans are made of: batches, the state, partial states and steps.

A step has ``step(batch, state) -> partial`` (a pure function of one batch and
the state of the earlier passes), ``merge(earlier, later)`` (exact and
associative, in dataset order) and ``finish(merged, state)``. See
:mod:`spanfast.plans` for how they are put together, one plan per ``filter_by``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from . import _class_sums, _counts, _numpy_order
from ._cuts import Cuts, sorted_union
from ._input.checked import Checked
from ._kernels import selection, sorted_positions, thresholds
from ._kernels.confident_joint import confident_joint
from ._scoring import token_scores
from ._threads import in_blocks
from .errors import InvalidInputError
from .options import FLOATING_POINT_COMPARISON


@dataclass(eq=False)
class Batch:
    """Tokens ``start..stop-1`` of checked ``data``, the batch numbered ``index`` of a
    dataset, whose first sentence and token are ``first_sentence`` and ``first_token``."""

    data: Checked
    index: int = 0
    first_sentence: int = 0
    first_token: int = 0
    start: int = 0
    stop: int | None = None
    _memo: dict = field(default_factory=dict, repr=False)

    @property
    def labels(self) -> np.ndarray:
        return self.data.labels[self.start : self.stop]

    @property
    def probs(self) -> np.ndarray:
        return self.data.probs[self.start : self.stop]

    @property
    def n_tokens(self) -> int:
        return self.labels.shape[0]

    def cached(self, name: str, compute: Callable[[], Any]) -> Any:
        """``compute()``, once per batch (a batch kept for several passes reuses it)."""
        if name not in self._memo:
            self._memo[name] = compute()
        return self._memo[name]

    def block(self, start: int, stop: int) -> Batch:
        """Tokens ``start..stop-1`` of this batch, for steps that ignore sentences."""
        return Batch(
            self.data,
            self.index,
            self.first_sentence,
            self.first_token + start,
            self.start + start,
            self.start + stop,
        )

    def class_counts(self) -> np.ndarray:
        def count() -> np.ndarray:
            whole = self.start == 0 and self.stop is None
            if whole and self.data.class_counts is not None:
                return self.data.class_counts  # counted by the label check
            return thresholds.class_counts(self.labels, self.data.n_classes)

        return self.cached("class_counts", count)

    def margin(self) -> np.floating:
        """cleanlab's 1e-6 comparison margin, in the probabilities' dtype (as NumPy compares)."""
        return self.probs.dtype.type(FLOATING_POINT_COMPARISON)


@dataclass
class State:
    """What the passes so far found: small, picklable, read by every later step."""

    n_tokens: int = 0
    counts: np.ndarray | None = None  # (K,) tokens per class
    # batch index (a token block: (index, start, stop)) -> (K,) values of each class before it
    class_starts: dict = field(default_factory=dict)
    batch_counts: dict = field(default_factory=dict)  # batch index -> (K,) its class counts
    margin_thresholds: np.ndarray | None = None  # class thresholds - 1e-6
    confident_joint: np.ndarray | None = None
    n_low_issues: int = 0
    cuts: list = field(default_factory=list)  # Cuts
    cut_plans: list = field(default_factory=list)  # CutPlan
    positions: np.ndarray | None = None  # the result: sorted flat positions
    # In memory only: selection.noise_rate_candidates, computed on a second core.
    noise_rate_candidates: Callable[[], tuple] | None = None
    ties: str = "position"  # or "numpy": cleanlab's own orders (spanfast._numpy_order)
    # Threads free for token blocks: the in-memory runner's, less the one finding the
    # noise-rate candidates beside the first passes (1 for the other runners).
    threads: int = 1
    span: bool = False  # span data (one probability per token), in the in-memory runner
    # ties="numpy": what the cuts keep, found by NumpyOrderCuts ("class" | "noise_rate" ->
    # its counts and applied classes)
    numpy_cuts: dict = field(default_factory=dict)


def _changed(what: str) -> InvalidInputError:
    return InvalidInputError(
        f"the data changed between passes: {what} "
        "(a batched source must give the same batches on every pass)"
    )


def _check_classes(batch: Batch, state: State) -> None:
    """The batch has the classes of the dataset (every kernel indexes by class)."""
    if state.counts is not None and batch.data.n_classes != state.counts.shape[0]:
        raise _changed(
            f"batch {batch.index} has {batch.data.n_classes} classes, not {state.counts.shape[0]}"
        )


# ---------------------------------------------------------------------------------------
# Partial states


@dataclass(frozen=True, eq=False)
class Flagged:
    """Flagged tokens of some batches (flat positions, in order) and whether each one's
    prediction matches its label (cleanlab ``_reduce_issues`` drops those). Held as the
    batches' own arrays, joined once when read."""

    parts: tuple  # per batch: (positions, matches)

    @classmethod
    def of(cls, batch: Batch, local: np.ndarray, *, reduce: bool = True) -> Flagged:
        """``local`` (batch positions); ``reduce=False``: no tokens will be dropped."""
        if reduce:
            matches = selection.prediction_matches_label_at(
                batch.probs, batch.labels, local, batch.margin()
            )
        else:
            matches = np.zeros(local.shape[0], np.bool_)
        return cls(((batch.first_token + local, matches),))

    def merge(self, later: Flagged) -> Flagged:
        return Flagged(self.parts + later.parts)

    @functools.cached_property
    def positions(self) -> np.ndarray:
        return np.concatenate([part[0] for part in self.parts])

    @functools.cached_property
    def matches(self) -> np.ndarray:
        return np.concatenate([part[1] for part in self.parts])

    def disagreeing(self, positions: np.ndarray | None = None) -> np.ndarray:
        """``positions`` (sorted, all flagged; default all) whose prediction is not their label."""
        if positions is None:
            return self.positions[~self.matches]
        disagreeing, n_missing = sorted_positions.disagreeing_among(
            self.positions, self.matches, np.asarray(positions, self.positions.dtype)
        )
        if n_missing:
            raise ValueError("disagreeing: positions must be among the flagged ones")
        return disagreeing


@dataclass(frozen=True, eq=False)
class JointCounts:
    """The confident joint's raw counts ``[guess, given]`` of some batches, with the
    off-diagonal tokens flagged (confident_learning) or counted (low_*)."""

    counts_by_guess: np.ndarray
    off_diagonal: Flagged | None
    n_low_issues: int

    def merge(self, later: JointCounts) -> JointCounts:
        return JointCounts(
            self.counts_by_guess + later.counts_by_guess,  # counts add up: any order
            None if self.off_diagonal is None else self.off_diagonal.merge(later.off_diagonal),
            self.n_low_issues + later.n_low_issues,
        )


def _add(a, b):
    return a + b


# ---------------------------------------------------------------------------------------
# Steps


class _Step:
    blockwise = False  # may run on token blocks of a batch (no sentence or index used)

    def in_blocks(self, state: State) -> bool:
        """Worth running on token blocks, given the state (see ``blockwise``)."""
        return self.blockwise

    def prepare_blocks(self, blocks: list[Batch], state: State, n_jobs: int | None) -> None:
        """Called before ``step`` runs on ``blocks`` (a batch cut into token blocks)."""

    def merge(self, earlier, later):
        return earlier.merge(later)

    def flagged(self, partial) -> Flagged | None:
        return None


class CountClasses(_Step):
    """Tokens per class, batch by batch (later passes need each batch's place)."""

    two_classes = True  # cleanlab's check that labels have two classes

    def step(self, batch: Batch, state: State) -> tuple:
        return ((batch.index, batch.class_counts()),)

    merge = staticmethod(_add)  # tuples of (index, counts), in batch order

    def finish(self, merged: tuple, state: State) -> None:
        state.batch_counts = dict(merged)
        state.counts = np.sum([counts for _, counts in merged], axis=0, dtype=np.int64)
        state.n_tokens = int(state.counts.sum())
        before = np.zeros_like(state.counts)
        for index, counts in merged:
            state.class_starts[index] = before
            before = before + counts
        if state.n_tokens and self.two_classes:
            _counts.check_two_classes(state.counts)


# Free threads (beside the noise-rate candidates' one) from which span data's class
# sums go on token blocks (see ClassMeans.in_blocks).
SPAN_SUMS_ON_BLOCKS_FROM = 4


class ClassMeans(_Step):
    """Class thresholds: the mean probability of each class over its tokens, summed in
    NumPy's pairwise order across batches (:mod:`spanfast._class_sums`).

    A whole batch streams through :class:`~spanfast._kernels.running_sum.RunningSums`
    on one thread; with more threads the in-memory runner cuts it into token blocks,
    each summing the pieces of the class trees it covers, merged in block order (the
    same sums, bit for bit, for any blocks)."""

    blockwise = True

    def in_blocks(self, state: State) -> bool:
        # Blocks cost more work than the whole-batch walk (their class counts, a gather,
        # the merges: at 1M tokens, float32, K = 9, 9.4 ms of work against 5.5, 0.8 ms of
        # it the serial merge; span data 4.4 against 1.6, token K = 2 4.5 against 3.4):
        # worth it from 2 free threads, from 4 for span data.
        return state.threads >= (SPAN_SUMS_ON_BLOCKS_FROM if state.span else 2)

    def prepare_blocks(self, blocks: list[Batch], state: State, n_jobs: int | None) -> None:
        """Each block's class starts, from the blocks' class counts (counted in parallel)."""
        counts = in_blocks(n_jobs, Batch.class_counts, blocks)
        batch = blocks[0]
        if not np.array_equal(np.sum(counts, axis=0), state.batch_counts.get(batch.index)):
            raise _changed(f"batch {batch.index} no longer has the class counts of pass 1")
        before = state.class_starts[batch.index]
        for block, block_counts in zip(blocks, counts):
            state.class_starts[(block.index, block.start, block.stop)] = before
            before = before + block_counts

    def step(self, batch: Batch, state: State) -> _class_sums.ClassSums:
        _check_classes(batch, state)
        counts = batch.class_counts()
        starts = state.class_starts.get((batch.index, batch.start, batch.stop))
        if starts is None:  # a whole batch
            if not np.array_equal(counts, state.batch_counts.get(batch.index)):
                raise _changed(f"batch {batch.index} no longer has the class counts of pass 1")
            starts = state.class_starts[batch.index]
        return _class_sums.of_batch(batch.probs, batch.labels, counts, starts, state.counts)

    def finish(self, merged: _class_sums.ClassSums, state: State) -> None:
        if not merged.complete:
            raise _changed("the labels no longer have the class counts of pass 1")
        state.margin_thresholds = margin_thresholds(merged, state.counts)


def margin_thresholds(sums: _class_sums.ClassSums, counts: np.ndarray) -> np.ndarray:
    """The class thresholds (cleanlab's mean of each class's probability, in NumPy's dtype)
    less cleanlab's 1e-6 margin: what the confident joint compares with."""
    class_thresholds = _counts.thresholds_from_means(sums.means(), counts)
    return class_thresholds - FLOATING_POINT_COMPARISON


class ConfidentJoint(_Step):
    """The confident joint's counts; ``flag``: its off-diagonal tokens are the issues
    (confident_learning); ``count_issues``: count those whose prediction is not the label
    (cleanlab ``count.num_label_issues``, for low_*)."""

    blockwise = True

    def __init__(self, *, flag: bool = False, count_issues: bool = False, then=None) -> None:
        self.flag, self.count_issues, self.then = flag, count_issues, then

    def step(self, batch: Batch, state: State) -> JointCounts:
        _check_classes(batch, state)
        wanted = self.flag or self.count_issues
        counts_by_guess, off_diagonal = confident_joint(
            batch.probs, batch.labels, state.margin_thresholds, wanted
        )
        local = np.flatnonzero(off_diagonal) if wanted else None
        flagged = Flagged.of(batch, local) if local is not None else None
        n_low = int(np.count_nonzero(~flagged.matches)) if self.count_issues else 0
        return JointCounts(counts_by_guess, flagged if self.flag else None, n_low)

    def flagged(self, partial: JointCounts) -> Flagged | None:
        return partial.off_diagonal

    def finish(self, merged: JointCounts, state: State) -> None:
        state.n_low_issues = merged.n_low_issues
        if self.flag:
            state.positions = merged.off_diagonal.disagreeing()
        if self.then is not None:
            joint = _counts.joint_from_counts(merged.counts_by_guess, state.counts, ties=state.ties)
            self.then(joint, state)


class PredictedNeqGiven(_Step):
    """Tokens whose argmax is not the label (cleanlab ``find_predicted_neq_given``)."""

    blockwise = True

    def step(self, batch: Batch, state: State) -> Flagged:
        return Flagged.of(
            batch, np.flatnonzero(selection.predicted_neq_given(batch.probs, batch.labels))
        )

    def flagged(self, partial: Flagged) -> Flagged:
        return partial

    def finish(self, merged: Flagged, state: State) -> None:
        state.positions = merged.disagreeing()


def _cut_keys(cuts: Cuts, batch: Batch, score: str | None) -> tuple:
    if cuts.kind != "score":
        return batch.probs, batch.labels
    return (batch.cached(score, lambda: token_scores(batch.labels, batch.probs, score)),)


class CountCuts(_Step):
    """Bucket counts of every cut's keys -> each cut's boundary. ``score``: the low_*
    filters' score cut, whose size the joint pass fixes at its end."""

    blockwise = True

    def __init__(self, score: str | None = None) -> None:
        self.score = score

    def _cuts(self, state: State) -> list:
        return [Cuts("score", np.zeros(1))] if self.score else state.cuts

    def in_blocks(self, state: State) -> bool:
        # Cuts on the candidates' entries read no tokens: for them alone, blocks
        # would only add a K * K * 1024 histogram each.
        return any(cuts.entries is None for cuts in self._cuts(state))

    def step(self, batch: Batch, state: State) -> tuple:
        return tuple(
            cuts.count(*_cut_keys(cuts, batch, self.score), first_position=batch.first_token)
            for cuts in self._cuts(state)
        )

    def merge(self, earlier: tuple, later: tuple) -> tuple:
        return tuple(a + b for a, b in zip(earlier, later))

    def finish(self, merged: tuple, state: State) -> None:
        if self.score:
            state.cuts = [Cuts.smallest(state.n_low_issues, state.n_tokens)]
        state.cut_plans = [cuts.plan(histogram) for cuts, histogram in zip(state.cuts, merged)]


class SplitCuts(_Step):
    """Each batch's tokens below the cuts' boundaries and on them -> the kept tokens
    (the intersection of two cut families for "both"), less, when ``reduce``, those
    whose prediction is their label."""

    blockwise = True

    def __init__(self, *, reduce: bool, score: str | None = None) -> None:
        self.reduce, self.score = reduce, score

    def in_blocks(self, state: State) -> bool:
        # Cuts on the candidates' entries read a few percent of the tokens: blocks
        # would only add their own buffers and merges.
        return any(plan.cuts.entries is None for plan in state.cut_plans)

    def step(self, batch: Batch, state: State) -> tuple:
        picks = tuple(
            plan.split(*_cut_keys(plan.cuts, batch, self.score), first_position=batch.first_token)
            for plan in state.cut_plans
        )
        kept = picks[0].kept_or_candidates()
        for more in picks[1:]:
            kept = sorted_union(kept, more.kept_or_candidates())
        return picks, Flagged.of(batch, kept - batch.first_token, reduce=self.reduce)

    def merge(self, earlier: tuple, later: tuple) -> tuple:
        picks = tuple(a.merge(b) for a, b in zip(earlier[0], later[0]))
        return picks, earlier[1].merge(later[1])

    def flagged(self, partial: tuple) -> Flagged:
        return partial[1]

    def finish(self, merged: tuple, state: State) -> None:
        picks, flagged = merged
        kept = [plan.resolve(p) for plan, p in zip(state.cut_plans, picks)]
        positions = kept[0] if len(kept) == 1 else np.intersect1d(*kept, assume_unique=True)
        state.positions = flagged.disagreeing(positions) if self.reduce else positions


class FlagFound(_Step):
    """Flags the positions a whole-dataset step found, batch by batch (so that a
    runner collects their details as it collects any flagged token's)."""

    blockwise = True

    def step(self, batch: Batch, state: State) -> Flagged:
        lo, hi = np.searchsorted(
            state.positions, [batch.first_token, batch.first_token + batch.n_tokens]
        )
        return Flagged.of(batch, state.positions[lo:hi] - batch.first_token, reduce=False)

    def flagged(self, partial: Flagged) -> Flagged:
        return partial

    def finish(self, merged: Flagged, state: State) -> None:
        pass


class NumpyOrderCuts(_Step):
    """``ties="numpy"``: the cuts as cleanlab makes them, with NumPy's argsort over
    every token of a class, so ties fall as they fall in cleanlab. The partial state
    is the batches' data itself (a sort over a whole class needs the whole class):
    in memory that is no copy; out of core it is the dataset's labels and
    probabilities, as cleanlab holds them."""

    def __init__(self, *, reduce: bool, score: str | None = None) -> None:
        self.reduce, self.score = reduce, score

    def step(self, batch: Batch, state: State) -> tuple:
        _check_classes(batch, state)
        return ((batch.labels, batch.probs),)

    merge = staticmethod(_add)  # tuples of (labels, probs), in batch order

    def finish(self, merged: tuple, state: State) -> None:
        labels = merged[0][0] if len(merged) == 1 else np.concatenate([m[0] for m in merged])
        probs = merged[0][1] if len(merged) == 1 else np.concatenate([m[1] for m in merged])
        if self.score:
            scores = token_scores(labels, probs, self.score)
            state.positions = _numpy_order.smallest(scores, state.n_low_issues)
            return
        kept = []
        if "class" in state.numpy_cuts:
            kept.append(_numpy_order.prune_by_class(probs, labels, *state.numpy_cuts["class"]))
        if "noise_rate" in state.numpy_cuts:
            pruned, applied = state.numpy_cuts["noise_rate"]
            kept.append(_numpy_order.prune_by_noise_rate(probs, labels, pruned, applied))
        positions = kept[0] if len(kept) == 1 else np.intersect1d(*kept, assume_unique=True)
        matches = selection.prediction_matches_label(
            probs[positions], labels[positions], probs.dtype.type(FLOATING_POINT_COMPARISON)
        )
        state.positions = positions[~matches]


class _GivenJoint(_Step):
    """With the caller's confident joint, the cuts follow from the class counts."""

    def __init__(self, then) -> None:
        self.then = then

    def step(self, batch: Batch, state: State) -> None:
        return None

    def merge(self, earlier, later) -> None:
        return None

    def finish(self, merged, state: State) -> None:
        if state.n_tokens:
            self.then(state.confident_joint, state)
