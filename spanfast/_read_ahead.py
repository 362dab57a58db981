"""cleanlab's list input: the first read of the data on a second core, while the rest
of the list is still being converted.

Turning a list of per-sentence probability arrays into one array
(``np.concatenate``) takes most of a call on list input (35 of ~95 ms at 1M tokens,
K = 9) and holds the GIL, while the other core waits. Here the probabilities are
concatenated into their flat array a few thousand tokens at a time, and a worker
thread reads each chunk as soon as it is in, in one kernel call for the whole array
(:mod:`spanfast._kernels.read_ahead`: the main thread publishes each chunk with
release order, the worker waits for it with acquire order; neither waits for the
GIL): the value check, then what every plan's first passes need and no threshold
does -- the class sums, fed in token order as the in-memory run walks them
(:class:`spanfast._class_sums.InOrder`), and the noise-rate candidates. Before that,
while this thread reads the labels, the worker maps the flat array's pages (a first
write to a page costs the kernel's zeroing of it). The result is the in-memory
run's, bit for bit, handed to it as the plan's :class:`spanfast.plans.Head`.

Only the plain case is read ahead: a list or tuple of NumPy float32/float64 arrays of
one layout -- (n_tokens, K) rows of token data, or one span class's (n_tokens,)
probabilities -- labels that convert and pass every check, the same lengths, at
least ``MIN_TOKENS`` tokens and two threads. Anything else, or anything unusual on
the way (a sentence of another dtype or width, an invalid probability), returns
None: the caller converts and checks as usual, from the start, so errors and
answers are exactly the ordinary path's.
"""

from __future__ import annotations

import time
from numbers import Integral
from typing import Any

import numpy as np

from . import plans
from ._class_sums import InOrder
from ._input.checked import VALID_RANGE, Checked
from ._input.nested import NotUniform, fill_in_chunks
from ._input.plain_lists import class_labels, probability_layout
from ._kernels import ordering, read_ahead, selection, thresholds
from ._threads import concurrently, thread_count
from .options import FLOATING_POINT_COMPARISON

# Tokens per chunk the main thread concatenates and publishes, and below which nothing
# is read ahead (starting the worker costs more than it saves).
CHUNK_TOKENS = 1 << 14
MIN_TOKENS = 1 << 18
_PAGE_BYTES = 4096


def checked_with_head(
    labels: Any,
    pred_probs: Any,
    *,
    noise_rate_candidates: bool,
    n_jobs: Any = None,
    span: bool = False,
    chunk_tokens: int = CHUNK_TOKENS,
    min_tokens: int = MIN_TOKENS,
) -> tuple[Checked, plans.Head] | None:
    """The checked data of cleanlab's list input and the head of its plans, or None.

    Parameters
    ----------
    labels, pred_probs
        As the façades take them: per-sentence labels, a list of per-sentence
        (n_tokens, K) arrays (token data) or (n_tokens,) arrays (``span``: one span
        class's probabilities).
    noise_rate_candidates : bool
        Whether the plan will use :func:`selection.noise_rate_candidates`
        (``prune_by_noise_rate`` or ``both``, ties by position).
    n_jobs
        The caller's ``n_jobs``; nothing is read ahead on one thread.
    span : bool
        Span data (K = 2, one probability per token) rather than token data.
    chunk_tokens, min_tokens
        As the module's constants (smaller in the tests).

    Returns
    -------
    (Checked, Head) or None
        None: not the plain case, or something to report; the ordinary path then
        converts and checks everything itself.
    """
    if n_jobs is not None and not isinstance(n_jobs, Integral):
        return None  # the options check says what is wrong with it
    if thread_count(n_jobs) < 2 or not ordering.AVAILABLE:  # the kernels need ordered atomics
        return None
    layout = probability_layout(pred_probs, span=span)
    if layout is None or layout.offsets[-1] < min_tokens:
        return None
    values = np.empty((int(layout.offsets[-1]), *layout.row), layout.dtype)
    # Its pages mapped on the worker while this thread reads the labels (a first write
    # to each page costs the kernel's zeroing, ~10 % of the conversion).
    mapped = concurrently(2, _map_pages, values)
    try:
        labelled = class_labels(labels, layout)
    finally:
        mapped()
    if labelled is None:
        return None
    narrow, offsets = labelled
    counts = thresholds.class_counts(narrow, layout.n_classes)
    head = _fill_and_read(
        pred_probs, offsets, values, narrow, counts, noise_rate_candidates, chunk_tokens
    )
    return None if head is None else (Checked(narrow, values, offsets), head)


def _map_pages(values: np.ndarray) -> None:
    """Write one byte in each page of ``values`` (NumPy lets the GIL go while it does)."""
    values.reshape(-1).view(np.uint8)[::_PAGE_BYTES] = 0


def _fill_and_read(
    sentences, offsets, values, labels, counts, noise_rate_candidates: bool, chunk_tokens: int
) -> plans.Head | None:
    """Fill ``values`` from ``sentences`` while the worker reads it; the plans' head, or
    None (a sentence does not fit the layout, or a value is not a probability)."""
    class_sums = InOrder(counts, values.dtype)
    shift = selection.entry_shift(counts.shape[0])
    # Codes of a dataset this long would overflow: the plan finds it has no entries.
    candidates = noise_rate_candidates and labels.shape[0] < 1 << (63 - shift)
    state = np.zeros(2, np.int64)  # see read_ahead.FILLED, read_ahead.STARTED
    reader = read_ahead.read_span_values if values.ndim == 1 else read_ahead.read_token_rows
    margin = values.dtype.type(FLOATING_POINT_COMPARISON)
    arguments = (*VALID_RANGE, margin, shift, candidates, *class_sums.arrays)
    result = concurrently(2, reader, values, labels, state, *arguments)
    filled = False
    try:
        for n_filled in fill_in_chunks(sentences, offsets, values, chunk_tokens):
            ordering.publish(state, read_ahead.FILLED, n_filled)
            if not state[read_ahead.STARTED]:
                time.sleep(0)  # the GIL to the worker, to start its kernel
        filled = True
    except NotUniform:
        return None
    finally:
        if not filled:
            ordering.publish(state, read_ahead.FILLED, read_ahead.ABORT)
        status, entries, above, disagree_below = result()
    if status != read_ahead.READ:
        return None
    found = (entries, above, disagree_below) if candidates else None
    return plans.Head(counts, class_sums.sums(), found)
