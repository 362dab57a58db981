"""Flat token positions back to (sentence, token)."""

from __future__ import annotations

import numpy as np

from .._numba import kernel

_BUCKET_BITS = 6  # one table entry per 64 tokens


@kernel
def sentence_of_tokens(offsets, positions):
    """The sentence holding each token position (``searchsorted(offsets, p, "right") - 1``).

    A coarse table gives, for every 64th token, its sentence; each position is
    then found by a binary search between the sentences of its bucket's ends
    (a few steps for real sentence lengths). Cheaper than a full binary search
    per position, and than a per-token table, which writes every token.
    """
    n_tokens = offsets[-1]
    n_buckets = (n_tokens >> _BUCKET_BITS) + 1
    first_sentence = np.empty(n_buckets + 1, np.int64)
    s = 0
    for b in range(n_buckets):
        token = min(b << _BUCKET_BITS, n_tokens - 1)
        while offsets[s + 1] <= token:
            s += 1
        first_sentence[b] = s
    first_sentence[n_buckets] = offsets.shape[0] - 2
    out = np.empty(positions.shape[0], np.int64)
    for n in range(positions.shape[0]):
        p = positions[n]
        b = p >> _BUCKET_BITS
        lo = first_sentence[b]  # offsets[lo] <= p
        hi = first_sentence[b + 1]  # every later sentence starts after p
        while lo < hi:
            mid = (lo + hi + 1) >> 1
            if offsets[mid] <= p:
                lo = mid
            else:
                hi = mid - 1
        out[n] = lo
    return out
