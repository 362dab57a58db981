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
from ._facades import issue_tuples, quality_scores, span_find_data
from ._input.checked import CheckedSpans
from ._token_scores import TokenScores


def find_label_issues(
    labels: list, pred_probs: list, *, ties: str = "position"
) -> list[tuple[int, int]] | dict[int, list[tuple[int, int]]]:
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
    data, head = span_find_data(labels, pred_probs, ties)
    if isinstance(data, CheckedSpans):
        return _multispan.issues_by_class(data, ties)
    return issue_tuples(data, "self_confidence", False, {}, ties, head)


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

    if isinstance(issues, dict):  # several span classes: {c: [(i, j), ...]}
        # class_names name the span classes; within a class, labels are 0/1 (named
        # "0" and "1", which also leaves out the hint about class indices).
        for c in sorted(issues):
            if not len(issues[c]) or top <= 0:
                continue
            name = class_names[c - 1] if class_names is not None and len(class_names) else c
            print(f"Span class: {name}")
            _display_issues(
                issues[c],
                tokens,
                labels=None if labels is None else _ClassColumn(labels, c, "labels"),
                pred_probs=None if pred_probs is None else _ClassColumn(pred_probs, c, "probs"),
                exclude=exclude,
                class_names=["0", "1"],
                top=top,
                span=True,
            )
        return
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


class _ClassColumn:
    """Span class ``c`` of per-sentence multi-class labels or probabilities, read lazily
    as single-class span data (``view[i][j]``): a label is 1 when the token's list of
    class ids holds ``c`` (or its 0/1 row has a 1 in column ``c - 1``, or its one id is
    ``c``); a probability is column ``c - 1`` of the token's row."""

    def __init__(self, sentences: Any, span_class: int, kind: str) -> None:
        self.sentences, self.span_class, self.kind = sentences, span_class, kind

    def __len__(self) -> int:
        return len(self.sentences)

    def __getitem__(self, i: int) -> _SentenceOfClass:
        return _SentenceOfClass(self.sentences[i], self.span_class, self.kind)


class _SentenceOfClass:
    def __init__(self, sentence: Any, span_class: int, kind: str) -> None:
        self.sentence, self.span_class, self.kind = sentence, span_class, kind

    def __len__(self) -> int:
        return len(self.sentence)

    def __getitem__(self, j: int) -> Any:
        entry = self.sentence[j]
        if self.kind == "probs":
            return np.asarray(entry)[self.span_class - 1]
        if isinstance(entry, np.ndarray) and entry.ndim == 1:
            return int(entry[self.span_class - 1])
        if isinstance(entry, (list, tuple)):
            return int(self.span_class in entry)
        return int(entry == self.span_class)
