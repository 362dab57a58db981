"""Flat token positions back to (sentence, token)."""

from __future__ import annotations

import numpy as np

from .._numba import kernel

_BUCKET_BITS = 6  # one table entry per 64 tokens
# Sentences a position is compared with when its bucket spans few of them; a bucket
# of more sentences (short or empty ones) is searched by bisection.
_NEAR = 8


@kernel
def sentence_and_token_of(offsets, positions):
    """(sentence, token within it) of each token position: ``s = searchsorted(offsets,
    p, "right") - 1`` and ``p - offsets[s]``.

    ``offsets`` must be valid (from 0, non-decreasing) and every position in
    ``0..offsets[-1]-1``. A coarse table gives the sentence of every 64th token;
    a position's sentence lies between those of its bucket's ends, usually a few
    sentences apart, and is counted there without a branch (``offsets[s] <= p``
    for each of them): mispredicted branches, not memory, were the cost of a
    bisection per position.
    """
    n_found = positions.shape[0]
    sentence = np.empty(n_found, np.int64)
    token = np.empty(n_found, np.int64)
    if n_found == 0:
        return sentence, token
    n_tokens = offsets[-1]  # >= 1: there is a position
    n_buckets = (n_tokens >> _BUCKET_BITS) + 1
    # The last sentence with a token (later ones are empty); offsets[0] = 0 < n_tokens.
    last = offsets.shape[0] - 2
    while offsets[last] >= n_tokens and last > 0:
        last -= 1
    # first[b]: the last sentence s <= last with offsets[s] <= 64 b, i.e. the sentence
    # of token min(64 b, n_tokens - 1). Each sentence writes itself into the bucket its
    # start rounds up to (<= n_buckets, as offsets[s] <= n_tokens - 1); a running
    # maximum fills the buckets no sentence starts in.
    first = np.full(n_buckets + 1, -1, np.int64)
    round_up = (1 << _BUCKET_BITS) - 1
    for s in range(last + 1):
        first[(offsets[s] + round_up) >> _BUCKET_BITS] = s
    for b in range(1, n_buckets + 1):
        first[b] = max(first[b], first[b - 1])
    first[n_buckets] = last
    for n in range(n_found):
        p = positions[n]
        b = p >> _BUCKET_BITS  # <= n_buckets - 1
        lo = first[b]  # offsets[lo] <= p
        hi = first[b + 1]  # no later sentence starts at or before p
        if hi - lo <= _NEAR:
            s = lo
            for j in range(1, _NEAR + 1):
                s += (lo + j <= hi) & (offsets[min(lo + j, hi)] <= p)
        else:
            while lo < hi:
                mid = (lo + hi + 1) >> 1
                if offsets[mid] <= p:
                    lo = mid
                else:
                    hi = mid - 1
            s = lo
        sentence[n] = s
        token[n] = p - offsets[s]
    return sentence, token
