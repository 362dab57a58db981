"""Span data as arrays: the first read of find_label_issues, half of the tokens per core.

The ordinary path reads a single span class's probabilities three times before the
thresholds are known: the input check (both cores), then the class sums on one core
while the other finds the noise-rate candidates. Here the labels alone are checked,
narrowed and counted first (both cores, in blocks); then each core reads its half of
the tokens once (:func:`spanfast._kernels.span_head.read_span_half`): the value check,
the candidates and the class sums. Each class's pairwise tree is walked in two parts
split at a leaf, and the parts' sums are added as NumPy's recursion adds them
(:func:`~spanfast._kernels.running_sum.joined_sums`), so the sums, the candidates and
the checked data are the ordinary path's, bit for bit, handed to the plan as its
:class:`spanfast.plans.Head`.

Only the plain case is read so: one span class, labels and probabilities of the same
length, at least ``MIN_TOKENS`` tokens, two threads. Anything else, or anything to
report (a label out of range, a value that is not a probability), returns None and
the caller checks from the start, so errors are exactly the ordinary path's.
"""

from __future__ import annotations

from numbers import Integral
from typing import Any

import numpy as np

from . import plans
from ._class_sums import ClassSums
from ._input.checked import VALID_RANGE, Checked, check_blocks, compact_label_type
from ._kernels import running_sum, selection, span_head
from ._kernels.checks import narrow_labels
from ._kernels.thresholds import class_counts
from ._threads import concurrently, in_blocks, thread_count
from .options import FLOATING_POINT_COMPARISON
from .ragged import Ragged

# Below this many tokens the ordinary path is as fast (the halves' set-up is fixed).
MIN_TOKENS = 1 << 18
# Tokens each half reads at a time (128 KiB of float64 probabilities: read from memory
# once, by the value check, then from cache by the candidates and the class sums).
STRETCH_TOKENS = 1 << 14


def checked_with_head(
    labels: Ragged,
    probs: Ragged,
    *,
    noise_rate_candidates: bool,
    n_jobs: Any = None,
    min_tokens: int | None = None,
    stretch_tokens: int = STRETCH_TOKENS,
) -> tuple[Checked, plans.Head] | None:
    """The checked data and the plans' head of one span class, or None.

    Parameters
    ----------
    labels, probs
        As :func:`spanfast._input.checked.as_labels` and ``as_probabilities`` (values
        not checked) made them: int8/int64 labels, (n_tokens,) float32/float64
        probabilities, the same offsets.
    noise_rate_candidates : bool
        Whether the plan will use :func:`selection.noise_rate_candidates`.
    n_jobs
        The caller's ``n_jobs``; nothing is read so on one thread.
    min_tokens : int, optional
        Instead of :data:`MIN_TOKENS` (smaller in the tests).
    stretch_tokens : int
        As :data:`STRETCH_TOKENS` (smaller in the tests: many stretches).
    """
    if n_jobs is not None and not isinstance(n_jobs, Integral):
        return None  # the options check says what is wrong with it
    T = labels.n_tokens
    if thread_count(n_jobs) < 2 or probs.values.ndim != 1 or probs.n_tokens != T:
        return None
    if T < max(MIN_TOKENS if min_tokens is None else min_tokens, 1) or not (
        labels.offsets is probs.offsets or np.array_equal(labels.offsets, probs.offsets)
    ):
        return None  # not aligned: the ordinary path says where
    half = T // 2
    # The checks' blocks, the one across the halves cut in two there: the counts of the
    # first half add up from its blocks' (as many tokens per thread as halves have).
    blocks = [piece for lo, hi in check_blocks(T) for piece in _cut((lo, hi), half)]
    narrow = np.empty(T, compact_label_type(2))
    parts = in_blocks(n_jobs, _label_block, blocks, labels.values, narrow)
    if any(part is None for part in parts):
        return None  # a label out of range: the ordinary path says which
    counts, before = np.zeros(2, np.int64), np.zeros(2, np.int64)
    for (lo, hi), part in zip(blocks, parts):
        counts += part
        before += part if hi <= half else 0
    head = _read_halves(
        probs.values, narrow, half, counts, before, noise_rate_candidates, stretch_tokens
    )
    return None if head is None else (Checked(narrow, probs.values, labels.offsets), head)


def _cut(block: tuple[int, int], at: int) -> list[tuple[int, int]]:
    lo, hi = block
    return [(lo, at), (at, hi)] if lo < at < hi else [block]


def _label_block(block: tuple[int, int], labels: np.ndarray, narrow: np.ndarray):
    """A block's labels into ``narrow`` and its class counts (None: one is out of range)."""
    lo, hi = block
    if narrow_labels(labels[lo:hi], 2, narrow[lo:hi]):
        return None
    return class_counts(narrow[lo:hi], 2)


def _read_halves(p, labels, half, counts, before, noise_rate_candidates, stretch):
    """Both halves read at once (:func:`span_head.read_span_half`); the head, or None
    (a value is not a probability)."""
    shift = selection.entry_shift(2)
    # Codes of a dataset this long would overflow: the plan finds it has no entries.
    candidates = noise_rate_candidates and p.shape[0] < 1 << (63 - shift)
    begin = np.array([running_sum.first_leaf_from(n, s) for n, s in zip(counts, before)])
    first = running_sum.RunningSums(counts, p.dtype)
    later = running_sum.RunningSums(counts, p.dtype, begin)
    options = (stretch, candidates, *VALID_RANGE, p.dtype.type(FLOATING_POINT_COMPARISON), shift)
    second = concurrently(
        2, span_head.read_span_half, p, labels, half, p.shape[0], *options,
        before.copy(), begin, counts, *later.arrays,
    )  # fmt: skip
    read = span_head.read_span_half(
        p, labels, 0, half, *options, np.zeros(2, np.int64), np.zeros(2, np.int64), begin,
        *first.arrays,
    )  # fmt: skip
    read_later = second()
    if read[0] != span_head.READ or read_later[0] != span_head.READ:
        return None
    sums, complete = running_sum.joined_sums(
        counts, begin, first.partial, first.cursor, later.partial, later.cursor
    )
    if not complete:
        raise AssertionError("span head: the two walks did not cover the class trees")
    pieces = tuple(((0, int(n), p.dtype.type(s)),) if n else () for n, s in zip(counts, sums))
    found = None
    if candidates:
        found = (
            np.concatenate([read[1], read_later[1]]),
            read[2] + read_later[2],
            read[3] + read_later[3],
        )
    return plans.Head(counts, ClassSums(counts, pieces, p.dtype), found)
