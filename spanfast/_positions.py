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
    order = np.argsort(position_scores)
    if not ranking.sort_ties_by_index(order, position_scores):
        order = np.argsort(position_scores, kind="stable")
    return positions[order]
