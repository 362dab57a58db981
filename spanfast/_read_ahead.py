"""cleanlab's list input of token data: the first read of the data on a second core,
while the rest of the list is still being converted.

Turning a list of per-sentence probability arrays into one array
(``np.concatenate``) takes most of a call on list input (35 of ~95 ms at 1M tokens,
K = 9) and holds the GIL, while the other core waits. Here the probabilities are
concatenated into their flat array a few thousand tokens at a time, and a worker
thread reads each block of ``BLOCK_TOKENS`` as soon as it is in: the value check,
then what every plan's first passes need and no threshold does -- the class sums,
folded in block order as the in-memory run walks them
(:class:`spanfast._class_sums.InOrder`), and the noise-rate candidates. The main
thread hands the GIL over between chunks while the worker has a block to start or
finish (a C call like ``np.concatenate`` would keep it waiting for the interpreter's
5 ms switch interval at every kernel call). The result is the in-memory run's, bit
for bit, handed to it as the plan's :class:`spanfast.plans.Head`.

Only the plain case is read ahead: a list or tuple of NumPy float32/float64 arrays of
one layout, (n_tokens, K) rows, labels that convert and pass every check, the same
lengths, at least ``MIN_TOKENS`` tokens and two threads. (Span data is not: its
first read is a fifth of a token pass, and handing it over cost what it saved.) Anything else, or anything unusual on the way
(a sentence of another dtype or width, an invalid probability), returns None: the
caller converts and checks as usual, from the start, so errors and answers are
exactly the ordinary path's.
"""

from __future__ import annotations

import queue
import time
from numbers import Integral
from typing import Any

import numpy as np

from . import plans
from ._class_sums import InOrder
from ._input.checked import VALID_RANGE, Checked, as_labels, narrowed_labels
from ._input.nested import NotUniform, fill_in_chunks, uniform_layout
from ._kernels import selection, thresholds
from ._kernels.token_block import read_token_block
from ._positions import offsets_from_lengths
from ._threads import concurrently, thread_count
from .errors import InvalidInputError
from .options import FLOATING_POINT_COMPARISON

# Tokens per block the worker reads, per chunk the main thread concatenates (the GIL
# changes hands at most once a chunk), and below which nothing is read ahead (the
# hand-overs cost more than they save).
BLOCK_TOKENS = 1 << 17
CHUNK_TOKENS = 1 << 14
MIN_TOKENS = 1 << 18


def checked_with_head(
    labels: Any,
    pred_probs: Any,
    *,
    noise_rate_candidates: bool,
    n_jobs: Any = None,
    block_tokens: int = BLOCK_TOKENS,
    chunk_tokens: int = CHUNK_TOKENS,
    min_tokens: int = MIN_TOKENS,
) -> tuple[Checked, plans.Head] | None:
    """The checked token data of cleanlab's list input and the head of its plans, or None.

    Parameters
    ----------
    labels, pred_probs
        As the token façade takes them: per-sentence labels, a list of per-sentence
        (n_tokens, K) arrays.
    noise_rate_candidates : bool
        Whether the plan will use :func:`selection.noise_rate_candidates`
        (``prune_by_noise_rate`` or ``both``, ties by position).
    n_jobs
        The caller's ``n_jobs``; nothing is read ahead on one thread.
    block_tokens, chunk_tokens, min_tokens
        As the module's constants (smaller in the tests).

    Returns
    -------
    (Checked, Head) or None
        None: not the plain case, or something to report; the ordinary path then
        converts and checks everything itself.
    """
    if n_jobs is not None and not isinstance(n_jobs, Integral):
        return None  # the options check says what is wrong with it
    if thread_count(n_jobs) < 2:
        return None
    layout = uniform_layout(pred_probs)
    if layout is None or len(layout[1]) != 1 or layout[1][0] < 2:
        return None  # not rows of K >= 2 class probabilities
    dtype, row = layout
    try:
        lengths = np.fromiter(map(len, pred_probs), np.int64, count=len(pred_probs))
    except TypeError:
        return None
    offsets = offsets_from_lengths(lengths)
    n_tokens = int(offsets[-1])
    if n_tokens < min_tokens:
        return None
    values = np.empty((n_tokens, *row), dtype)
    # Its pages mapped on the worker while this thread reads the labels (a first write
    # to each page costs the kernel's zeroing, ~10 % of the conversion).
    mapped = concurrently(2, _map_pages, values)
    try:
        label_ragged = as_labels(labels)
    except (TypeError, InvalidInputError):
        return None
    finally:
        mapped()
    if not np.array_equal(offsets, label_ragged.offsets):
        return None
    narrow, out_of_range = narrowed_labels(label_ragged, row[0])
    if out_of_range:
        return None
    counts = thresholds.class_counts(narrow, row[0])
    reader = _BlockReader(values, narrow, counts, noise_rate_candidates)
    done = reader.start()
    block_start = 0
    try:
        for filled in fill_in_chunks(pred_probs, offsets, values, chunk_tokens):
            # Blocks grow from the start and shrink towards the end: the worker starts
            # early, and its last block is short.
            nearest_end = min(block_start, n_tokens - block_start)
            size = min(block_tokens, max(chunk_tokens, nearest_end // 2))
            if filled - block_start >= size or (filled == n_tokens > block_start):
                reader.put(block_start, filled)
                block_start = filled
            if reader.waiting:
                time.sleep(0)  # the GIL to the worker, which waits to start or end a block
    except NotUniform:
        return None
    finally:
        reader.stop()
        done()
    if reader.invalid:
        return None
    data = Checked(narrow, values, label_ragged.offsets)
    return data, plans.Head(counts, reader.class_sums.sums(), reader.candidates())


def _map_pages(values: np.ndarray) -> None:
    """Write one byte in each page of ``values`` (NumPy lets the GIL go while it does)."""
    values.reshape(-1).view(np.uint8)[::_PAGE_BYTES] = 0


_PAGE_BYTES = 4096


class _BlockReader:
    """The worker's side: reads the blocks in order, as they are put, one kernel call
    (:func:`token_block.read_token_block`) each."""

    def __init__(self, values, labels, counts, noise_rate_candidates: bool) -> None:
        self.values, self.labels = values, labels
        self.margin = values.dtype.type(FLOATING_POINT_COMPARISON)
        self.class_sums = InOrder(counts, values.dtype)
        self.shift = selection.entry_shift(counts.shape[0])
        # Codes of a dataset this long would overflow: the plan finds it has no entries.
        fits = labels.shape[0] < 1 << (63 - self.shift)
        self.parts: list | None = [] if noise_rate_candidates and fits else None
        self.invalid = False
        self._blocks: queue.SimpleQueue = queue.SimpleQueue()
        self._n_put = self._n_started = self._n_read = 0
        self._finished = np.zeros(1, np.int64)  # kernel calls ended (written by the kernel)

    def start(self):
        """Start reading on a worker thread (never on this one: it would wait for blocks
        that this thread puts); returns the call that waits for the end."""
        return concurrently(2, self._run)

    def put(self, lo: int, hi: int) -> None:
        self._n_put += 1
        self._blocks.put((lo, hi))

    def stop(self) -> None:
        self._blocks.put(None)

    @property
    def waiting(self) -> bool:
        """Is the worker waiting for the GIL, to start a block or to end one?"""
        return self._n_started < self._n_put or self._finished[0] > self._n_read

    def _run(self) -> None:
        while (block := self._blocks.get()) is not None:
            self._n_started += 1
            if not self.invalid:
                self._read(*block)
            else:
                self._finished[0] += 1
            self._n_read += 1

    def _read(self, lo: int, hi: int) -> None:
        invalid, *part = read_token_block(
            self.values[lo:hi],
            self.labels[lo:hi],
            *VALID_RANGE,
            self.margin,
            self.shift,
            self.parts is not None,
            self.class_sums.arrays,
            self._finished,
        )
        self.invalid = invalid
        if self.parts is not None and not invalid:
            self.parts.append((lo, part))

    def candidates(self) -> tuple | None:
        """:func:`selection.noise_rate_candidates` of the whole dataset, from its blocks'
        (entries in token order, their tokens counted from the dataset's start)."""
        if self.parts is None:
            return None
        entries = np.concatenate([part[0] + (lo << self.shift) for lo, part in self.parts])
        above = sum(part[1] for _, part in self.parts)
        disagree_below = sum(part[2] for _, part in self.parts)
        return entries, above, disagree_below
