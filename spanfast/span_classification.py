"""Drop-in for ``cleanlab.experimental.span_classification``.

Span data has one probability ``p`` per token (that the token is inside a
span). cleanlab turns every sentence into a ``(T, 2)`` array ``[1 - p, p]``
and runs token classification; spanfast reads ``p`` directly as those two
classes, with no copy.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import _multispan
from ._facades import issue_tuples, quality_scores, span_data
from ._input.checked import CheckedSpans
from ._token_scores import TokenScores


def find_label_issues(
    labels: list, pred_probs: list, *, ties: str = "position"
) -> list[tuple[int, int]]:
    """Identify tokens with label issues in a span classification dataset.

    Parameters
    ----------
    labels : nested list, list of arrays, or Ragged
        ``labels[i][j]`` is 1 if token j of sentence i is labelled inside a span, else 0.
    pred_probs : list of arrays, nested list, or Ragged
        ``pred_probs[i][j]``: the model's probability that the token is inside a span.
    ties : {"position", "numpy"}, default "position"
        Equal scores in position order, or ordered as NumPy's argsort orders the
        arrays cleanlab sorts (cleanlab 2.9.0's answer exactly, ties included).

    Returns
    -------
    list of (int, int)
        ``(i, j)`` for each token with a likely label issue, most likely first
        (by self-confidence; equal scores in position order).

    Examples
    --------
    >>> import numpy as np
    >>> from spanfast.span_classification import find_label_issues
    >>> labels = [[0, 0, 1, 1], [1, 1, 0]]
    >>> pred_probs = [np.array([0.9, 0.9, 0.9, 0.1]), np.array([0.1, 0.1, 0.9])]
    >>> find_label_issues(labels, pred_probs)
    [(0, 0), (0, 1), (0, 3), (1, 0), (1, 1)]
    """
    data = span_data(labels, pred_probs)
    if isinstance(data, CheckedSpans):
        return _multispan.issues_by_class(data, ties)
    return issue_tuples(data, "self_confidence", False, {}, ties)


def get_label_quality_scores(
    labels: list, pred_probs: list, **kwargs: Any
) -> tuple[np.ndarray, TokenScores]:
    """Label quality scores per sentence and per token of a span dataset.

    Parameters
    ----------
    labels : nested list, list of arrays, Ragged, or a pipeline column
        ``labels[i][j]`` is 1 if token j of sentence i is labelled inside a span, else 0.
    pred_probs : list of arrays, nested list, Ragged, or a pipeline column
        ``pred_probs[i][j]``: the model's probability that the token is inside a span.
    **kwargs
        ``tokens``, ``token_score_method``, ``sentence_score_method``,
        ``sentence_score_kwargs``, as in
        :func:`spanfast.token_classification.rank.get_label_quality_scores`.

    Returns
    -------
    (sentence_scores, token_scores)
        One score per sentence (an array; lower means more likely mislabeled, an
        empty sentence scores 1.0), and the token scores as a list-like of one
        ``pd.Series`` per sentence, built on access.

    Examples
    --------
    >>> import numpy as np
    >>> from spanfast.span_classification import get_label_quality_scores
    >>> sentence_scores, token_scores = get_label_quality_scores(
    ...     [[0, 1], [1]], [np.array([0.2, 0.7]), np.array([0.4])]
    ... )
    >>> sentence_scores
    array([0.7, 0.4])
    """
    return quality_scores(labels, pred_probs, span=True, **kwargs)


def display_issues(
    issues: list,
    tokens: list[list[str]],
    *,
    labels: list | None = None,
    pred_probs: list | None = None,
    exclude: list[tuple[int, int]] = [],  # noqa: B006 - cleanlab's signature, never mutated
    class_names: list[str] | None = None,
    top: int = 20,
) -> None:
    """Print the sentences with label issues, the problematic token highlighted.

    Same as cleanlab's, except that the predicted label shown is right: it is
    1 when ``p > 1 - p`` (cleanlab always shows 0 for span data).

    Parameters
    ----------
    issues : list of (int, int)
        ``(sentence, token)`` pairs, as :func:`find_label_issues` returns them.
    tokens : list of list of str
        The text of every token of every sentence.
    labels, pred_probs : optional
        When given, the given and predicted label of each issue are shown too.
    exclude : list of (given, predicted) pairs
        Issues with these label pairs are skipped.
    class_names : list of str, optional
        Names shown instead of class indices.
    top : int, default 20
        How many issues to show (``top <= 0`` shows none).

    Returns
    -------
    None
        The issues are printed.

    Examples
    --------
    >>> from spanfast.span_classification import display_issues
    >>> display_issues([(0, 1)], [["A", "?weird", "sentence"]])
    Sentence index: 0, Token index: 1
    Token: ?weird
    ----
    A ...?weird... sentence
    """
    from .token_classification.summary import _display_issues

    _display_issues(
        issues,
        tokens,
        labels=labels,
        pred_probs=pred_probs,
        exclude=exclude,
        class_names=class_names,
        top=top,
        span=True,
    )
