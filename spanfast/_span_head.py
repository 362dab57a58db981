"""Span data as arrays: the first read of find_label_issues, half of the tokens per core.

The ordinary path reads a single span class's probabilities three times before the
thresholds are known: the input check (both cores), then the class sums on one core
while the other finds the noise-rate candidates. Here each core takes half of the
tokens in one kernel call (:func:`spanfast._kernels.span_head.read_span_half`): it
checks, narrows and counts its labels, waits for the other half's counts (the class
trees' sizes need both), then reads its probabilities once: the value check, the
candidates and the class sums. Each class's pairwise tree is walked in two parts split
at a leaf, and the parts' sums are added as NumPy's recursion adds them
(:func:`~spanfast._kernels.running_sum.joined_sums`), so the sums, the candidates and
the checked data are the ordinary path's, bit for bit, handed to the plan as its
:class:`spanfast.plans.Head`.

Only the plain case is read so: one span class, labels and probabilities of the same
length and sentences, at least ``MIN_TOKENS`` tokens, two to four threads (from five,
the ordinary path sums on token blocks on every core). Anything else, or
anything to report (a label out of range, a value that is not a probability), returns
None and the caller checks from the start, so errors are exactly the ordinary path's.
"""

from __future__ import annotations

from numbers import Integral
from typing import Any

import numpy as np

from . import _steps, plans
from ._class_sums import ClassSums
from ._input.checked import VALID_RANGE, Checked, compact_label_type
from ._kernels import ordering, running_sum, selection, span_head
from ._kernels.confident_joint import confident_joint
from ._threads import beside, thread_count
from .options import FLOATING_POINT_COMPARISON
from .ragged import Ragged

# Below this many tokens the ordinary path is as fast (the halves' set-up is fixed).
MIN_TOKENS = 1 << 18
# Tokens each half reads at a time (128 KiB of float64 probabilities: read from memory
# once, by the value check, then from cache by the candidates and the class sums).
STRETCH_TOKENS = 1 << 14
# Looks at the other half's state before giving up on it (seconds of waiting: only a
# call that failed before counting its labels keeps it waiting that long).
_PATIENCE = 1 << 31


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
        probabilities.
    noise_rate_candidates : bool
        Whether the plan will use :func:`selection.noise_rate_candidates`.
    n_jobs
        The caller's ``n_jobs``; read so on two to four threads (the default: every
        core).
    min_tokens : int, optional
        Instead of :data:`MIN_TOKENS` (smaller in the tests).
    stretch_tokens : int
        As :data:`STRETCH_TOKENS` (smaller in the tests: many stretches).
    """
    if n_jobs is not None and not isinstance(n_jobs, Integral):
        return None  # the options check says what is wrong with it
    threads = thread_count(n_jobs)
    # One thread: nothing to share. From 1 + SPAN_SUMS_ON_BLOCKS_FROM threads the
    # ordinary path sums on token blocks, on every core (here: two, whatever the cores).
    if not 2 <= threads <= _steps.SPAN_SUMS_ON_BLOCKS_FROM or not ordering.AVAILABLE:
        return None  # (the kernels need ordered atomics: not under NUMBA_DISABLE_JIT)
    T = labels.n_tokens
    if probs.values.ndim != 1 or probs.n_tokens != T:
        return None
    if T < max(MIN_TOKENS if min_tokens is None else min_tokens, 1) or not (
        labels.offsets is probs.offsets or np.array_equal(labels.offsets, probs.offsets)
    ):
        return None  # not aligned: the ordinary path says where
    p = probs.values
    narrow = np.empty(T, compact_label_type(2))
    shift = selection.entry_shift(2)
    # Codes of a dataset this long would overflow: the plan finds it has no entries.
    candidates = noise_rate_candidates and T < 1 << (63 - shift)
    state = np.zeros(span_head.STATE_SIZE, np.int64)
    thresholds = np.zeros(2, np.float64)  # what the joint compares with, exactly
    first, later = (running_sum.RunningSums.zeros(2, p.dtype) for _ in range(2))
    options = (state, _PATIENCE, stretch_tokens, candidates, *VALID_RANGE)
    options += (p.dtype.type(FLOATING_POINT_COMPARISON), shift)
    half = (p, labels.values, narrow, T // 2)
    second = beside(span_head.read_span_half, *half, 1, *options, *later, thresholds)
    class_sums = None
    try:
        read = span_head.read_span_half(*half, 0, *options, *first, thresholds)
        if read[0] == span_head.READ:  # both halves summed
            class_sums = _joined(p.dtype, read[4], read[5], first, later)
            margin_thresholds = _steps.margin_thresholds(class_sums, read[4])
            thresholds[:] = margin_thresholds  # float64 holds either dtype's values exactly
            ordering.publish(state, span_head.THRESHOLDS, span_head.THRESHOLDS_IN)
            joint = confident_joint(p[: T // 2], narrow[: T // 2], margin_thresholds, False)[0]
    finally:
        if class_sums is None:  # the second half's call must not wait for thresholds
            ordering.publish(state, span_head.THRESHOLDS, span_head.GAVE_UP)
        read_later = second()
    if class_sums is None or read_later[0] != span_head.READ:
        return None  # something to report (or the other half's call failed: it raised)
    found = None
    if candidates:
        found = tuple(
            np.concatenate([read[1], read_later[1]]) if i == 1 else read[i] + read_later[i]
            for i in (1, 2, 3)
        )
    head = plans.Head(read[4], class_sums, found, joint + read_later[6])  # counts add up
    return Checked(narrow, p, labels.offsets), head


def _joined(dtype: np.dtype, counts, begin, first, later) -> ClassSums:
    """The class sums of the two walks (:func:`running_sum.joined_sums`)."""
    sums, complete = running_sum.joined_sums(counts, begin, first[2], first[1], later[2], later[1])
    if not complete:
        raise AssertionError("span halves: the two walks did not cover the class trees")
    pieces = tuple(((0, int(n), dtype.type(s)),) if n else () for n, s in zip(counts, sums))
    return ClassSums(counts, pieces, dtype)
