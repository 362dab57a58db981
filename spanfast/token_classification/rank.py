"""Drop-in for ``cleanlab.token_classification.rank``."""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import _sentences
from .._facades import quality_scores
from .._input.checked import checked_scores
from .._positions import order_by_score, sentence_and_token
from .._token_scores import TokenScores
from ..errors import InvalidInputError
from ..options import check_ties
from ..ragged import Ragged


def get_label_quality_scores(
    labels: list,
    pred_probs: list,
    *,
    tokens: list | None = None,
    token_score_method: str = "self_confidence",
    sentence_score_method: str = "min",
    sentence_score_kwargs: dict = {},  # noqa: B006 - cleanlab's signature, never mutated
) -> tuple[np.ndarray, TokenScores]:
    """Label quality scores for each sentence and for each token.

    Same parameters and results as cleanlab 2.9.0's
    ``token_classification.rank.get_label_quality_scores``.

    Parameters
    ----------
    labels : nested list, list of arrays, Ragged, or a pipeline column
        ``labels[i][j]``: the given class of token j of sentence i, in ``0..K-1``.
    pred_probs : list of (T_i, K) arrays, nested list, Ragged, or a pipeline column
        The model's class probabilities for every token.
    tokens : list of list of str, optional
        When given, each sentence's Series is indexed by its tokens.
    token_score_method : {"self_confidence", "normalized_margin", "confidence_weighted_entropy"}
    sentence_score_method : {"min", "softmin"}
    sentence_score_kwargs : dict
        ``{"temperature": t}`` for ``softmin`` (default 0.05).

    Returns
    -------
    (sentence_scores, token_scores)
        One score per sentence (an array; lower means more likely mislabeled; a
        sentence without tokens scores 1.0), and the token scores as a
        :class:`~spanfast._token_scores.TokenScores`, a list-like of ``pd.Series``
        built on access (``.values``/``.offsets`` give the flat scores).

    Examples
    --------
    >>> import numpy as np
    >>> from spanfast.token_classification.rank import get_label_quality_scores
    >>> labels = [[0, 0, 1], [0, 1]]
    >>> pred_probs = [
    ...     np.array([[0.9, 0.1], [0.7, 0.3], [0.05, 0.95]]),
    ...     np.array([[0.8, 0.2], [0.8, 0.2]]),
    ... ]
    >>> sentence_scores, token_scores = get_label_quality_scores(labels, pred_probs)
    >>> sentence_scores
    array([0.7, 0.2])
    >>> token_scores[0].tolist()
    [0.9, 0.7, 0.95]
    """
    return quality_scores(
        labels,
        pred_probs,
        span=False,
        tokens=tokens,
        token_score_method=token_score_method,
        sentence_score_method=sentence_score_method,
        sentence_score_kwargs=sentence_score_kwargs,
    )


def _flat_scores(token_scores: Any) -> Ragged:
    if isinstance(token_scores, TokenScores):
        return token_scores.ragged
    return checked_scores(token_scores)


def issues_from_scores(
    sentence_scores: np.ndarray,
    *,
    token_scores: list | None = None,
    threshold: float = 0.1,
    ties: str = "position",
) -> list | np.ndarray:
    """Issues whose score is below ``threshold``, most severe first.

    Parameters
    ----------
    sentence_scores : (n_sentences,) array
        As :func:`get_label_quality_scores` returns them.
    token_scores : list of per-sentence scores, optional
        When given, issues are tokens instead of sentences.
    threshold : float, default 0.1
        Scores below it are issues.
    ties : {"position", "numpy"}, default "position"
        How equal scores are ordered (see the README).

    Returns
    -------
    array of sentence indices, or list of (sentence, token)
        Most severe first.

    Same as cleanlab 2.9.0's ``issues_from_scores``, without its crashes: every
    sentence may be below the threshold, and ``token_scores`` may be a list,
    an array, a :class:`~spanfast.Ragged` or the ``TokenScores`` returned by
    :func:`get_label_quality_scores`. Equal scores are in position order; with
    ``ties="numpy"`` sentences are ranked by NumPy's default argsort, as cleanlab
    ranks them (its token issues are in position order either way).

    Examples
    --------
    >>> import numpy as np
    >>> from spanfast.token_classification.rank import issues_from_scores
    >>> sentence_scores = np.array([0.1, 0.3, 0.6, 0.2, 0.05, 0.9, 0.8, 0.0125, 0.5, 0.6])
    >>> issues_from_scores(sentence_scores)
    array([7, 4])
    >>> issues_from_scores(sentence_scores, threshold=0.5)
    array([7, 4, 0, 3, 1])
    >>> issues_from_scores(sentence_scores[:2], token_scores=[[0.9, 0.05], [0.01]])
    [(1, 0), (0, 1)]
    """
    check_ties(ties)
    if token_scores is not None and len(token_scores) > 0:
        # Tokens come in position order whatever ``ties`` says: cleanlab sorts them
        # with Python's stable sorted(), which is the position rule.
        ragged = _flat_scores(token_scores)
        # Compared as NumPy compares cleanlab's per-token scalars with the threshold:
        # in float32 for float32 scores when the threshold is a Python float (NEP 50).
        positions = np.flatnonzero(ragged.values < threshold)
        positions = order_by_score(positions, ragged.values[positions])
        return _sentences._issue_tuples(*sentence_and_token(ragged.offsets, positions))
    sentence_scores = np.asarray(sentence_scores)
    if sentence_scores.ndim != 1 or sentence_scores.dtype.kind not in "fiub":
        raise InvalidInputError(
            "sentence_scores must be a 1-D array of numbers, one per sentence; got "
            f"dtype {sentence_scores.dtype} and shape {sentence_scores.shape}.",
            field="sentence_scores",
        )
    # cleanlab ranks sentences with NumPy's default (unstable) argsort.
    kind = "stable" if ties == "position" else None
    ranking = np.argsort(sentence_scores, kind=kind)
    return ranking[: int(np.count_nonzero(sentence_scores < threshold))]


def _softmin_sentence_score(token_scores: list, *, temperature: float = 0.05) -> np.ndarray:
    """Sentence scores by softmin pooling of ``token_scores`` (cleanlab's helper).

    Examples
    --------
    >>> from spanfast.token_classification.rank import _softmin_sentence_score
    >>> _softmin_sentence_score([[0.9, 0.6], [0.0, 0.8, 0.8], [0.8]])
    array([6.00741787e-01, 1.80056239e-07, 8.00000000e-01])
    """
    ragged = _flat_scores(token_scores)
    return _sentences._sentence_scores(ragged.values, ragged.offsets, "softmin", temperature)
