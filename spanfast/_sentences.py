"""Sentences: token scores pooled per sentence, and flat positions as (sentence, token).

Part of the flat-array API of :mod:`spanfast.core` (which re-exports the public
functions); the private ones take checked scores and offsets.
"""

from __future__ import annotations

import gc

import numpy as np

from ._input.checked import checked_offsets, checked_positions, checked_scores
from ._kernels import pooling
from ._positions import sentence_and_token
from .errors import InvalidInputError
from .options import DEFAULT_TEMPERATURE, EMPTY_SENTENCE_SCORE, check_sentence_score_method
from .ragged import Ragged


def sentence_scores(
    token_scores: np.ndarray,
    offsets: np.ndarray,
    *,
    method: str = "min",
    temperature: float = DEFAULT_TEMPERATURE,
) -> np.ndarray:
    """Pool token scores per sentence.

    Parameters
    ----------
    token_scores : (T,) array of numbers
        One score per token, sentence after sentence.
    offsets : (n_sentences + 1,) integer array
        Sentence ``i`` is ``token_scores[offsets[i]:offsets[i + 1]]``.
    method : {"min", "softmin"}
        ``softmin`` at ``temperature`` (``temperature == 0`` is min, ``inf`` the mean).

    Returns
    -------
    (n_sentences,) array
        Empty sentences score 1.

    Examples
    --------
    >>> import numpy as np
    >>> from spanfast import core
    >>> core.sentence_scores(np.array([0.9, 0.2, 0.5]), np.array([0, 2, 2, 3]))
    array([0.2, 1. , 0.5])
    """
    check_sentence_score_method(method)
    token_scores = np.asarray(token_scores)
    if token_scores.ndim != 1:
        raise InvalidInputError(
            f"token_scores must be a 1-D array, got shape {token_scores.shape}.",
            field="token_scores",
        )
    ragged = checked_scores(Ragged(token_scores, checked_offsets(offsets, token_scores.shape[0])))
    return _sentence_scores(ragged.values, ragged.offsets, method, temperature)


def _sentence_scores(token_scores, offsets, method: str, temperature: float) -> np.ndarray:
    """:func:`sentence_scores` of checked scores and offsets."""
    if method == "min" or temperature == 0:
        return pooling.sentence_min(token_scores, offsets, EMPTY_SENTENCE_SCORE)
    if temperature == np.inf:
        return pooling.sentence_mean(token_scores, offsets, EMPTY_SENTENCE_SCORE)
    return pooling.sentence_softmin(
        token_scores, offsets, max(float(temperature), 1e-6), EMPTY_SENTENCE_SCORE
    )


def locate(positions: np.ndarray, offsets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(sentence, token) of each flat token position.

    Parameters
    ----------
    positions : (n,) integer array
        Flat token positions, each in ``0..offsets[-1]-1``.
    offsets : (n_sentences + 1,) integer array
        Sentence offsets.

    Returns
    -------
    (sentence, token) : two (n,) int64 arrays

    Examples
    --------
    >>> import numpy as np
    >>> from spanfast import core
    >>> core.locate(np.array([3, 0]), np.array([0, 2, 5]))
    (array([1, 0]), array([1, 0]))
    """
    offsets = np.asarray(offsets)
    n_tokens = int(offsets[-1]) if offsets.ndim == 1 and offsets.size else 0
    offsets = checked_offsets(offsets, n_tokens)
    return sentence_and_token(offsets, checked_positions(positions, n_tokens))


def issue_tuples(positions: np.ndarray, offsets: np.ndarray) -> list[tuple[int, int]]:
    """Flat token positions as cleanlab's ``(sentence, token)`` tuples of Python ints.

    Parameters
    ----------
    positions, offsets
        As in :func:`locate`.

    Returns
    -------
    list of (int, int)

    Examples
    --------
    >>> import numpy as np
    >>> from spanfast import core
    >>> core.issue_tuples(np.array([3, 0]), np.array([0, 2, 5]))
    [(1, 1), (0, 0)]
    """
    return _issue_tuples(*locate(positions, offsets))


def _issue_tuples(sentence: np.ndarray, token: np.ndarray) -> list[tuple[int, int]]:
    # Tens of thousands of new tuples would set off the cyclic garbage collector
    # dozens of times, each a walk over the caller's heap; none of them can be garbage.
    collecting = gc.isenabled()
    gc.disable()
    try:
        return list(zip(sentence.tolist(), token.tolist()))
    finally:
        if collecting:
            gc.enable()
