"""The read-ahead's kernels: a worker reads the flat array while it is being filled.

:mod:`spanfast._read_ahead` concatenates cleanlab's list input into one flat array a
chunk at a time on the main thread, which holds the GIL, and after each chunk
publishes how many tokens are in (:func:`ordering.publish`: a store with release order). The
worker reads the whole array in one kernel call, which waits for each chunk (a load
with acquire order, so the chunk's values are seen) and reads it while it is in
cache: the value check, the class sums in token order, the noise-rate candidates.
Neither thread waits for the GIL on the way (each hand-over cost ~90 µs).
"""

from __future__ import annotations

import numpy as np

from .._numba import always_compiled, helper, kernel
from .checks import count_invalid_probabilities
from .ordering import load_acquire, store_release
from .running_sum import _add_batch, _add_span_batch
from .selection import CANDIDATE_CHUNK, add_span_candidates, chunk_candidates, with_room

# The state array shared by the two threads: [tokens filled (or ABORT), reader started].
FILLED, STARTED = 0, 1
ABORT = -1  # published instead of a count: the reader returns at once
# What a reader returns first.
READ, INVALID, ABORTED = 0, 1, 2


@helper
def _next_stretch(state, done, n_tokens):
    """Wait until more than ``done`` tokens are filled; the end of the stretch to read
    next (at most ``n_tokens``), or -1 when the main thread gave up (ABORT)."""
    n = load_acquire(state, np.int64(FILLED))
    while 0 <= n <= done:  # the main thread fills a chunk in well under a millisecond
        n = load_acquire(state, np.int64(FILLED))
    return min(n, n_tokens) if n >= 0 else -1


@always_compiled  # the atomic loads and stores have no Python body
@kernel
def read_token_rows(
    P, labels, state, low, high, margin, shift, candidates, frames, cursor, partial, leaf
):
    """Read the (n_tokens, K) rows ``P`` as they are filled: for each chunk, the value
    check, then (the values being valid) the class sums, fed in order to the running
    sums ``frames, cursor, partial, leaf``
    (:class:`~spanfast._kernels.running_sum.RunningSums`) and, if ``candidates``, the
    noise-rate candidates (as :func:`selection.noise_rate_candidates`).

    Returns ``(status, entries, above, disagree_below)``, status :data:`READ`,
    :data:`INVALID` (a value is not a probability: the rest is not read) or
    :data:`ABORTED`.
    """
    store_release(state, np.int64(STARTED), np.int64(1))
    K = P.shape[1]
    T = labels.shape[0]
    above = np.zeros((K, K), np.int64)
    disagree_below = np.zeros((K, K), np.int64)
    most = (K - 1) * CANDIDATE_CHUNK  # entries one chunk can add
    entries = np.empty(T // 2 + most if candidates else 0, np.int64)
    n = 0
    done = 0
    while done < T:
        ready = _next_stretch(state, done, T)
        if ready < 0:
            return ABORTED, entries[:0], above, disagree_below
        for start in range(done, ready, CANDIDATE_CHUNK):
            stop = min(start + CANDIDATE_CHUNK, ready)
            if count_invalid_probabilities(P[start:stop], low, high):
                return INVALID, entries[:0], above, disagree_below  # before anything reads it
            _add_batch(P[start:stop], labels[start:stop], frames, cursor, partial, leaf)
            if candidates:
                entries = with_room(entries, n, most)
                n = chunk_candidates(
                    P, labels, margin, shift, start, stop, above, disagree_below, entries, n
                )
        done = ready
    return READ, entries[:n], above, disagree_below


@always_compiled  # the atomic loads and stores have no Python body
@kernel
def read_span_values(
    p, labels, state, low, high, margin, shift, candidates, frames, cursor, partial, leaf
):
    """:func:`read_token_rows` of span data (one probability per token, K = 2), each
    filled stretch read whole (a chunk of span data is an eighth of a token chunk's
    bytes)."""
    store_release(state, np.int64(STARTED), np.int64(1))
    T = labels.shape[0]
    above = np.zeros((2, 2), np.int64)
    disagree_below = np.zeros((2, 2), np.int64)
    entries = np.empty(T // 8 + CANDIDATE_CHUNK if candidates else 0, np.int64)
    n = 0
    done = 0
    while done < T:
        ready = _next_stretch(state, done, T)
        if ready < 0:
            return ABORTED, entries[:0], above, disagree_below
        if count_invalid_probabilities(p[done:ready], low, high):
            return INVALID, entries[:0], above, disagree_below  # before anything reads it
        _add_span_batch(p[done:ready], labels[done:ready], frames, cursor, partial, leaf)
        if candidates:
            entries, n = add_span_candidates(
                p, labels, done, ready, margin, shift, entries, n, above, disagree_below
            )
        done = ready
    return READ, entries[:n], above, disagree_below
