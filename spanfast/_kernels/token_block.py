"""The read-ahead's work on one block of token rows, in one kernel call.

:mod:`spanfast._read_ahead` reads each block on a worker thread while the main
thread, holding the GIL, fills the next ones. In one call the worker needs the GIL
only to start and to end a block (``finished`` tells the main thread when it is the
end), and each chunk of rows is read by every step while it is in cache.
"""

from __future__ import annotations

import numpy as np

from .._numba import kernel
from .checks import count_invalid_probabilities
from .running_sum import _add_batch
from .selection import CANDIDATE_CHUNK, chunk_candidates, with_room


@kernel
def read_token_block(P, labels, low, high, margin, shift, candidates, sums, finished):
    """The value check of the (n_tokens, K) rows ``P``, then, chunk by chunk once the
    chunk's values are valid: their class sums added to the running ``sums`` (the
    arrays of a :class:`~spanfast._kernels.running_sum.RunningSums`, fed in order) and,
    if ``candidates``, their noise-rate candidates (as
    :func:`selection.noise_rate_candidates`, tokens counted from the block's start).
    Counts ``finished[0]`` up as its last write.

    Returns ``(invalid, entries, above, disagree_below)``; after an invalid value the
    rest of the block is not read and the sums and candidates are meaningless.
    """
    K = P.shape[1]
    T = labels.shape[0]
    frames, cursor, partial, leaf = sums
    above = np.zeros((K, K), np.int64)
    disagree_below = np.zeros((K, K), np.int64)
    most = (K - 1) * CANDIDATE_CHUNK  # entries one chunk can add
    entries = np.empty(T // 2 + most if candidates else 0, np.int64)
    n = 0
    invalid = False
    for start in range(0, T, CANDIDATE_CHUNK):
        stop = min(start + CANDIDATE_CHUNK, T)
        if count_invalid_probabilities(P[start:stop], low, high):
            invalid = True  # checked before anything else reads the chunk
            break
        _add_batch(P[start:stop], labels[start:stop], frames, cursor, partial, leaf)
        if candidates:
            entries = with_room(entries, n, most)
            n = chunk_candidates(
                P, labels, margin, shift, start, stop, above, disagree_below, entries, n
            )
    finished[0] += 1
    return invalid, entries[:n], above, disagree_below
