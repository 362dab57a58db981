"""Positions in ragged data: lengths to offsets, flat token index to (sentence,
token), and the tie rule. One helper for each, used everywhere."""

from __future__ import annotations

import numpy as np

from ._kernels import ranking
from ._kernels.positions import sentence_and_token_of


def offsets_from_lengths(lengths: np.ndarray) -> np.ndarray:
    """Sentence offsets (int64, ``n + 1`` entries from 0) of sentences of these lengths."""
    offsets = np.zeros(np.shape(lengths)[0] + 1, np.int64)
    np.cumsum(lengths, out=offsets[1:])
    return offsets


def sentence_and_token(offsets: np.ndarray, positions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(sentence, token within it) of each flat token position, as int64 arrays.

    ``offsets`` must be valid and every position in ``0..offsets[-1]-1``.
    """
    positions = np.asarray(positions, np.int64)
    if positions.shape[0] * 16 > offsets.shape[0]:  # many positions: a lookup table pays
        return sentence_and_token_of(offsets, positions)
    sentence = np.searchsorted(offsets, positions, side="right") - 1
    return sentence, positions - offsets[sentence]


def order_by_score(positions: np.ndarray, position_scores: np.ndarray) -> np.ndarray:
    """``positions`` (increasing) sorted by their scores, ascending.

    The tie rule of spanfast: equal scores stay in position order, earlier
    tokens first (cleanlab's unstable sort leaves their order unspecified).

    Parameters
    ----------
    positions : (n,) integer array
        Increasing flat token positions.
    position_scores : (n,) array
        Their scores.

    Returns
    -------
    (n,) array
        ``positions``, lowest score first.

    Examples
    --------
    >>> import numpy as np
    >>> from spanfast.core import order_by_score
    >>> order_by_score(np.array([2, 5, 9]), np.array([0.3, 0.1, 0.3]))
    array([5, 2, 9])
    """
    return positions[stable_order(position_scores)]


# A stable argsort of floats is several times slower than a sort of int64 (NumPy's
# AVX-512 sort): keys packed with their index sort stably, so that is what is sorted
# up to this many scores (the index takes the key's lowest bits).
_PACKED_UP_TO = 1 << 24


def stable_order(scores: np.ndarray) -> np.ndarray:
    """``np.argsort(scores, kind="stable")``: lowest first, equal scores by index.

    Each float's bits as an int64 that orders as the float does, its lowest bits
    replaced by its index, sorted as integers: equal scores come out by index, and
    scores that differ only in those lowest bits are put in order afterwards
    (:func:`ranking.sort_packed_runs`). NaN (last, as NumPy sorts it) or runs too long
    to put in order that way are left to an unstable argsort whose ties are then put in
    index order, or to a stable one.
    """
    n = scores.shape[0]
    if scores.dtype.kind == "f" and n <= _PACKED_UP_TO:
        index_bits = np.int64(max(1, (n - 1).bit_length()))
        values, packed, has_nan = ranking.packed_keys(scores, index_bits)
        if not has_nan:
            packed.sort()
            order = packed & ((1 << int(index_bits)) - 1)
            if ranking.sort_packed_runs(packed, order, values, index_bits):
                return order
    order = np.argsort(scores)
    if not ranking.sort_ties_by_index(order, scores):
        order = np.argsort(scores, kind="stable")
    return order
