"""cleanlab's ``low_memory=True`` as steps of a plan, for every runner.

cleanlab's ``find_label_issues_batched`` reads the tokens in batches of 10,000
(the *grid*: batch ``b`` is tokens ``b * 10^4 .. (b + 1) * 10^4 - 1`` of the flat
token order, the last one shorter), takes each batch's class means and folds them
into running, count-weighted thresholds (:mod:`spanfast._kernels.thresholds`). The
fold is sequential and rounds after every batch, so it cannot be split; what can be
is the per-batch work. A run of tokens (a batch of a runner, a partition, a block of
a thread) gives :class:`GridBatches`:

- the *head*: its tokens before its first grid boundary, raw (label and the
  probability of the label, in the probabilities' dtype);
- the class counts and thresholds of every grid batch wholly inside it;
- the *tail*: its tokens after its last grid boundary, raw.

A run without a boundary in it (inside one grid batch) is all head. Adjacent runs
merge in order: the first's tail and the second's head join into the grid batch
between them, whose thresholds are then computed as any other's. The whole
dataset's state is every grid batch's counts and thresholds, folded in order at the
end (the last, shorter batch is the dataset's tail), so every batching and
partitioning gives the in-memory thresholds bit for bit.

What travels: ``K`` thresholds (float64) and ``K`` counts (int32) per grid batch,
``T / 10^4 x K`` of each (1B tokens, K = 9: 7.2 MB of thresholds, 3.6 MB of counts),
and two fragments of fewer than 10^4 tokens per partition.

The other passes: the class counts (no two-class check: cleanlab's batched path
has none), the count of confidently mispredicted tokens against the thresholds
(the number of issues), then the tokens with the lowest scores, as the ``low_*``
filters cut them, less those whose prediction matches the label.
"""

from __future__ import annotations

import operator
from dataclasses import dataclass

import numpy as np

from ._kernels import scores, selection, thresholds
from ._steps import Batch, CountClasses, FlagFound, Flagged, State, _changed, _check_classes, _Step
from ._threads import concurrently
from .options import (
    CONFIDENT_THRESHOLDS_LOWER_BOUND,
    FLOATING_POINT_COMPARISON,
    LOW_MEMORY_BATCH_SIZE,
    MISSING_CLASS_THRESHOLD,
)

# The grid every runner uses unless told otherwise: read when a plan is made, so a
# test can set a small one (a Dask job carries the client's to its workers).
BATCH_TOKENS = LOW_MEMORY_BATCH_SIZE


@dataclass(frozen=True, eq=False)
class Fragment:
    """Consecutive tokens of part of a grid batch: their labels and the probability of
    each one's label (in the probabilities' dtype, as ``np.mean`` reads them)."""

    labels: np.ndarray
    values: np.ndarray

    @classmethod
    def of(cls, batch: Batch, lo: int, hi: int) -> Fragment:
        """Tokens ``lo..hi-1`` of ``batch`` (copies: a fragment outlives its batch)."""
        labels = batch.labels[lo:hi]
        return cls(labels.copy(), scores.self_confidence(batch.probs[lo:hi], labels))

    @property
    def n_tokens(self) -> int:
        return self.labels.shape[0]

    def __add__(self, later: Fragment) -> Fragment:
        if not later.n_tokens:
            return self
        if not self.n_tokens:
            return later
        return Fragment(
            np.concatenate([self.labels, later.labels]),
            np.concatenate([self.values, later.values]),
        )


@dataclass(frozen=True, eq=False)
class GridBatches:
    """The grid batches of tokens ``start..stop-1``: see the module's docstring."""

    n_classes: int
    start: int
    stop: int
    head: Fragment  # before the first grid boundary in [start, stop]; all, when none
    batches: tuple  # per run of whole grid batches: ((n, K) int32 counts, (n, K) thresholds)
    tail: Fragment | None  # after the last grid boundary; None when there is no boundary


def _clip_constants(dtype: np.dtype) -> tuple:
    """cleanlab's lower bound (float64 and in the probabilities' dtype), the threshold of
    a class absent from a batch, and whether batch means are float32."""
    return (
        CONFIDENT_THRESHOLDS_LOWER_BOUND,
        dtype.type(CONFIDENT_THRESHOLDS_LOWER_BOUND),
        float(MISSING_CLASS_THRESHOLD),
        dtype == np.float32,
    )


def _narrow(counts: np.ndarray, batch_thresholds: np.ndarray) -> tuple:
    return counts.astype(np.int32), batch_thresholds  # a grid batch has < 2^31 tokens


def _of_fragment(fragment: Fragment, n_classes: int) -> tuple:
    """The counts and thresholds of the grid batch made of ``fragment``'s tokens."""
    return _narrow(
        *thresholds.values_batch_thresholds(
            fragment.values, fragment.labels, n_classes, *_clip_constants(fragment.values.dtype)
        )
    )


def thresholds_in_memory(
    probs: np.ndarray, labels: np.ndarray, batch_size: int, n_jobs: int | None = None
) -> np.ndarray:
    """cleanlab's batched thresholds of data in memory: the grid batches' means (the
    two halves of the grid on two threads when ``n_jobs`` allows), folded in order --
    what :class:`LowMemoryThresholds` makes of any batching of the same data."""
    T = labels.shape[0]
    n_batches = -(-T // batch_size)
    middle = n_batches // 2 * batch_size
    constants = _clip_constants(probs.dtype)
    second = concurrently(
        n_jobs, thresholds.grid_batch_thresholds, probs, labels, middle, T, batch_size, *constants
    )
    first = thresholds.grid_batch_thresholds(probs, labels, 0, middle, batch_size, *constants)
    later = second()
    return thresholds.fold_batch_thresholds(
        np.concatenate([first[0], later[0]]),
        np.concatenate([first[1], later[1]]),
        CONFIDENT_THRESHOLDS_LOWER_BOUND,
    )


class LowMemoryThresholds(_Step):
    """cleanlab's batch-by-batch thresholds over a grid of ``batch_size`` tokens ->
    ``state.margin_thresholds``."""

    blockwise = True  # uses token positions only, never sentences

    def __init__(self, batch_size: int) -> None:
        if batch_size < 1 or batch_size >= 2**31:
            raise ValueError(f"the low_memory batch size must be in 1..2^31-1, got {batch_size}")
        self.batch_size = batch_size

    def step(self, batch: Batch, state: State) -> GridBatches:
        _check_classes(batch, state)
        size, K = self.batch_size, batch.data.n_classes
        start, T = batch.first_token, batch.n_tokens
        stop = start + T
        first = -(-start // size) * size  # the first boundary at or after start
        if first > stop:  # inside one grid batch
            return GridBatches(K, start, stop, Fragment.of(batch, 0, T), (), None)
        last = stop // size * size
        whole = thresholds.grid_batch_thresholds(
            batch.probs,
            batch.labels,
            first - start,
            last - start,
            size,
            *_clip_constants(batch.probs.dtype),
        )  # called when empty too, so that a warm-up compiles it
        return GridBatches(
            K,
            start,
            stop,
            Fragment.of(batch, 0, first - start),
            (_narrow(*whole),) if whole[0].shape[0] else (),
            Fragment.of(batch, last - start, T),
        )

    def merge(self, earlier: GridBatches, later: GridBatches) -> GridBatches:
        if earlier.stop != later.start:
            raise ValueError(
                f"runs {earlier.start}..{earlier.stop} and {later.start}.. not adjacent"
            )
        K, start, stop = earlier.n_classes, earlier.start, later.stop
        if earlier.tail is None:  # all head: it joins the later run's head
            head = earlier.head + later.head
            return GridBatches(K, start, stop, head, later.batches, later.tail)
        if later.tail is None:
            tail = earlier.tail + later.head
            return GridBatches(K, start, stop, earlier.head, earlier.batches, tail)
        middle = earlier.tail + later.head  # the grid batch between them, or nothing
        joined = (_of_fragment(middle, K),) if middle.n_tokens else ()
        batches = earlier.batches + joined + later.batches
        return GridBatches(K, start, stop, earlier.head, batches, later.tail)

    def finish(self, merged: GridBatches, state: State) -> None:
        if (merged.start, merged.stop) != (0, state.n_tokens):
            raise _changed(
                f"the batches cover tokens {merged.start}..{merged.stop - 1}, "
                f"not the {state.n_tokens} tokens of pass 1"
            )
        K = state.counts.shape[0]
        parts = list(merged.batches)
        if merged.tail.n_tokens:  # the dataset's last, shorter grid batch
            parts.append(_of_fragment(merged.tail, K))
        counts = np.concatenate([p[0] for p in parts]) if parts else np.zeros((0, K), np.int32)
        batch_thresholds = np.concatenate([p[1] for p in parts]) if parts else np.zeros((0, K))
        running = thresholds.fold_batch_thresholds(
            counts, batch_thresholds, CONFIDENT_THRESHOLDS_LOWER_BOUND
        )
        state.margin_thresholds = running - FLOATING_POINT_COMPARISON


class LowMemoryCounts(CountClasses):
    """Pass 1: tokens per class, without cleanlab's two-class check (its batched path
    has none)."""

    two_classes = False


class ConfidentDisagreements(_Step):
    """cleanlab ``LabelInspector``'s number of issues: tokens whose argmax is not their
    label and whose argmax probability reaches that class's threshold (less 1e-6)."""

    blockwise = True

    def step(self, batch: Batch, state: State) -> int:
        _check_classes(batch, state)
        return int(
            selection.count_confident_disagreements(
                batch.probs, batch.labels, state.margin_thresholds
            )
        )

    merge = staticmethod(operator.add)

    def finish(self, merged: int, state: State) -> None:
        state.n_low_issues = merged


class FlagDisagreeing(FlagFound):
    """The positions found by a whole-dataset step, less those whose prediction matches
    the label (cleanlab ``_reduce_issues``, which ``find_label_issues_batched`` ends with)."""

    def step(self, batch: Batch, state: State) -> Flagged:
        found = super().step(batch, state)
        return Flagged.of(batch, found.positions - batch.first_token, reduce=True)

    def finish(self, merged: Flagged, state: State) -> None:
        state.positions = merged.disagreeing()
