"""Flat token positions back to (sentence, token)."""

from __future__ import annotations

import numpy as np

from .._numba import kernel


@kernel
def sentence_of_tokens(offsets, positions):
    """The sentence holding each token position, through a per-token lookup table.

    One sequential write per token plus one read per position: cheaper than a
    binary search per position once there are more than a few positions.
    """
    sentence_of = np.empty(offsets[-1], np.int32)
    for s in range(offsets.shape[0] - 1):
        sentence_of[offsets[s] : offsets[s + 1]] = s
    out = np.empty(positions.shape[0], np.int64)
    for n in range(positions.shape[0]):
        out[n] = sentence_of[positions[n]]
    return out
