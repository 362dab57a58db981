"""The flagged sentences of a result, as the report and the exports show them.

One record per sentence that holds at least one issue, worst first (in the
order its first issue has in the ranked issues): the tokens, the given and the
predicted spans, and the issues inside it. Spans are formed once here, for
both the HTML report and the annotation-tool exports:

- span data (one probability per token): runs of label 1 (given) and runs of
  ``p > 0.5`` (predicted);
- token data (K probabilities per token): runs of the same non-zero class, or,
  when the class names are BIO/IOB2 tags (``O``, ``B-X``, ``I-X``), entities
  decoded from the tags (a ``B-`` tag or a change of type starts a new one).

Spans are found with array operations over all tokens at once; only the
per-sentence records are built in Python.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator
from typing import Any, NamedTuple

import numpy as np

from ..errors import InvalidInputError

SPAN_CLASS_NAMES = ("O", "SPAN")


class Sentence(NamedTuple):
    """One flagged sentence (a named tuple: 100K of them are built at once).

    Attributes
    ----------
    sentence : int
        Its index in the dataset.
    score : float
        Its sentence score when known, else the score of its worst issue.
    tokens : list of str
    given, predicted : list of (start, end, label)
        Spans as token indices, ``end`` exclusive, with the class name.
    flagged : list of (token, score, given_label, predicted_label)
        The issues in the sentence, in rank order, labels as class names.
    span_issues : list of (start, end, kind, given_label, predicted_label, score)
        The span-level issues in the sentence (from :class:`~spanfast.SpanIssues`),
        in rank order; labels are entity types, "" where the kind has none.
    """

    sentence: int
    score: float
    tokens: list[str]
    given: list[tuple[int, int, str]]
    predicted: list[tuple[int, int, str]]
    flagged: list[tuple[int, float, str, str]]
    span_issues: list[tuple[int, int, str, str, str, float]] = []  # noqa: RUF012 -- never mutated


def class_names_for(span: bool, n_classes: int, class_names: Any = None) -> list[str]:
    """The names shown for the classes: the given ones, else ``O``/``SPAN`` or ``0..K-1``."""
    if class_names is not None:
        names = [str(name) for name in class_names]
        if len(names) < n_classes:
            raise InvalidInputError(
                f"class_names has {len(names)} names for {n_classes} classes", field="class_names"
            )
        return names
    return list(SPAN_CLASS_NAMES) if span else [str(k) for k in range(n_classes)]


def is_bio(class_names: list[str]) -> bool:
    """Whether the class names are BIO tags (``O`` and ``B-``/``I-`` prefixed types)."""
    prefixed = [name for name in class_names if name != "O"]
    return bool(prefixed) and all(name[:2] in ("B-", "I-") for name in prefixed)


def _runs(
    kinds: np.ndarray, begins: np.ndarray, offsets: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(start, end, kind) of the runs of equal non-negative ``kinds``, over flat tokens.

    A run starts where the kind changes, where ``begins`` is set, or at a
    sentence's first token; tokens of kind -1 belong to no span.
    """
    n = kinds.shape[0]
    if n == 0:
        empty = np.zeros(0, np.int64)
        return empty, empty, empty
    starts_sentence = np.zeros(n, bool)
    starts_sentence[offsets[:-1][offsets[:-1] < n]] = True
    changes = np.ones(n, bool)
    changes[1:] = kinds[1:] != kinds[:-1]
    boundary = changes | begins | starts_sentence
    inside = kinds >= 0
    start = np.flatnonzero(boundary & inside)
    # A run ends before the next boundary or outside token.
    stop_marks = np.flatnonzero(np.append(boundary[1:] | ~inside[1:], True)) + 1
    end = stop_marks[np.searchsorted(stop_marks, start, side="right")]
    end = np.minimum(end, n)
    return start.astype(np.int64), end.astype(np.int64), kinds[start].astype(np.int64)


def _kinds(classes: np.ndarray, names: list[str], bio: bool) -> tuple[np.ndarray, np.ndarray]:
    """Per-token span kind (-1 outside) and whether the token begins a span."""
    classes = np.asarray(classes, np.int64)
    if not bio:
        kinds = np.where(classes == 0, -1, classes)
        return kinds, np.zeros(classes.shape[0], bool)
    types = sorted({name[2:] for name in names if name != "O"})
    type_of = np.array([types.index(name[2:]) if name != "O" else -1 for name in names], np.int64)
    begin_of = np.array([name.startswith("B-") for name in names], bool)
    return type_of[classes], begin_of[classes]


def span_tables(
    labels: np.ndarray,
    probs: np.ndarray,
    offsets: np.ndarray,
    names: list[str],
) -> tuple[tuple[np.ndarray, ...], tuple[np.ndarray, ...], list[str]]:
    """Given and predicted spans over all tokens: ((start, end, kind) x 2, kind names)."""
    span = probs.ndim == 1
    if span:
        given_classes = labels
        predicted_classes = (probs > 0.5).astype(np.int64)
    else:
        given_classes = labels
        predicted_classes = np.argmax(probs, axis=1)
    bio = not span and is_bio(names)
    kind_names = sorted({name[2:] for name in names if name != "O"}) if bio else names
    given = _runs(*_kinds(given_classes, names, bio), offsets)
    predicted = _runs(*_kinds(predicted_classes, names, bio), offsets)
    return given, predicted, kind_names


def flagged_sentences(
    issues: Any,
    tokens: Any,
    *,
    labels: Any = None,
    pred_probs: Any = None,
    class_names: Any = None,
    limit: int | None = None,
    with_predicted: bool = True,
) -> tuple[list[Sentence], dict[str, Any]]:
    """The flagged sentences, worst first, and what was found out about the data.

    Parameters
    ----------
    issues : LabelIssues or SpanIssues
        Token issues (``spanfast.results.find_issues``) or span-level issues
        (``spanfast.find_span_issues``).
    tokens : nested list of str, Ragged, or column
        The token text of every sentence.
    labels, pred_probs : optional
        The data the issues were found in; without them no spans are drawn.
    class_names : sequence of str, optional
        Names of the classes (BIO tags are decoded into entities).
    limit : int, optional
        Keep only the first ``limit`` sentences.
    with_predicted : bool, default True
        Form the predicted spans too (False leaves them empty, for outputs without them).

    Returns
    -------
    (list of Sentence, dict)
        The records and ``{"task", "n_sentences", "n_tokens", "class_names"}``.
    """
    from ..io import as_ragged

    token_ragged = as_ragged(tokens, name="tokens")
    token_offsets = np.asarray(token_ragged.offsets, np.int64)
    n_sentences = token_offsets.shape[0] - 1
    from ..spans.table import SpanIssues

    span_level = isinstance(issues, SpanIssues)
    sentence = np.asarray(issues.sentence, np.int64)
    if span_level:
        token = np.asarray(issues.start, np.int64)
        _check_positions(sentence, token, token_offsets)
        _check_positions(sentence, np.asarray(issues.end, np.int64) - 1, token_offsets)
    else:
        token = np.asarray(issues.token, np.int64)
        _check_positions(sentence, token, token_offsets)

    info: dict[str, Any] = {"n_sentences": n_sentences, "n_tokens": int(token_offsets[-1])}
    given_table = predicted_table = None
    if labels is not None or pred_probs is not None:
        if labels is None or pred_probs is None:
            raise InvalidInputError("labels and pred_probs are given together", field="labels")
        from .._input.checked import labels_and_probabilities

        data = labels_and_probabilities(labels, pred_probs, span=None)
        if not np.array_equal(np.asarray(data.offsets), token_offsets):
            raise InvalidInputError(
                "tokens and labels have different sentence lengths", field="tokens"
            )
        span = data.probs.ndim == 1
        n_classes = 2 if span else data.probs.shape[1]
        names = class_names_for(span, n_classes, class_names)
        given_table, predicted_table, kind_names = span_tables(
            np.asarray(data.labels), np.asarray(data.probs), token_offsets, names
        )
        info.update(task="span" if span else "token", class_names=names)
    elif span_level:
        names = [] if class_names is None else [str(name) for name in class_names]
        kind_names = names
        info.update(task="unknown", class_names=names)
    else:
        n_classes = (
            int(max(issues.given_label.max(initial=0), issues.predicted_label.max(initial=0))) + 1
        )
        names = class_names_for(n_classes <= 2, max(n_classes, 2), class_names)
        kind_names = names
        info.update(task="unknown", class_names=names)

    order = _sentences_in_rank_order(sentence)
    if limit is not None:
        order = order[:limit]
    scores = np.asarray(issues.score, np.float64)
    if span_level:
        issue_items = _span_issue_rows(issues)
    else:
        # NaN is no JSON number: a missing score is None from here on.
        score_items = _none_for_nan(scores)
        label_names = np.asarray(names, dtype=object)
        issue_items = list(
            zip(
                token.tolist(),
                score_items,
                label_names[np.asarray(issues.given_label, np.int64)].tolist(),
                label_names[np.asarray(issues.predicted_label, np.int64)].tolist(),
            )
        )
    # The issues of each sentence, in rank order: rows sorted by sentence (stably).
    by_sentence = np.argsort(sentence, kind="stable")
    sorted_sentences = sentence[by_sentence]
    issue_items = [issue_items[r] for r in by_sentence.tolist()]
    first_at = np.searchsorted(sorted_sentences, order, side="left")
    worst = np.minimum.reduceat(scores[by_sentence], first_at) if len(order) else scores[:0]
    first_issue = first_at.tolist()
    last_issue = np.searchsorted(sorted_sentences, order, side="right").tolist()
    sentence_scores = getattr(issues, "sentence_scores", None)
    shown = worst if sentence_scores is None else np.asarray(sentence_scores, np.float64)[order]
    shown_scores = shown.tolist()

    words, word_offsets = _words_of(token_ragged.values, token_offsets, order)
    given = _spans_by_sentence(given_table, token_offsets, order, kind_names)
    predicted = _spans_by_sentence(
        predicted_table if with_predicted else None, token_offsets, order, kind_names
    )
    records = []
    with without_gc():
        for n, index in enumerate(order.tolist()):
            items = issue_items[first_issue[n] : last_issue[n]]
            records.append(
                Sentence(
                    index,
                    shown_scores[n],
                    words[word_offsets[n] : word_offsets[n + 1]],
                    given[n],
                    predicted[n],
                    [] if span_level else items,
                    items if span_level else [],
                )
            )
    return records, info


@contextlib.contextmanager
def without_gc() -> Iterator[None]:
    """No garbage collection while many small containers without cycles live.

    Each collection pass would scan every record built so far; at 100K
    sentences that is most of the time. Callers keep the block open until the
    records are freed (by reference counting), so that the collection that
    follows has nothing of theirs left to scan. Blocks nest.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _none_for_nan(values: np.ndarray) -> list:
    """``values.tolist()`` with NaN as None."""
    items = values.tolist()
    if np.isnan(values).any():
        items = [None if value != value else value for value in items]
    return items


def _words_of(
    values: np.ndarray, offsets: np.ndarray, order: np.ndarray
) -> tuple[list[str], list[int]]:
    """The words of the sentences ``order``, concatenated, and where each sentence starts."""
    lengths = offsets[order + 1] - offsets[order]
    starts = np.zeros(len(order) + 1, np.int64)
    np.cumsum(lengths, out=starts[1:])
    flat = np.repeat(offsets[order] - starts[:-1], lengths) + np.arange(starts[-1])
    words = values[flat].tolist()
    if values.dtype.kind != "U":
        words = [word if type(word) is str else str(word) for word in words]
    return words, starts.tolist()


def _spans_by_sentence(
    table: tuple[np.ndarray, ...] | None, offsets: np.ndarray, order: np.ndarray, names: list[str]
) -> list[list[tuple[int, int, str]]]:
    """The spans of each sentence of ``order`` (local token indices), from a flat span table."""
    if table is None:
        return [[]] * len(order)  # one shared empty list: never mutated
    span_start, span_end, kind = table
    first = np.searchsorted(span_start, offsets[order]).tolist()
    last = np.searchsorted(span_start, offsets[order + 1]).tolist()
    owner = np.searchsorted(offsets, span_start, side="right") - 1
    base = offsets[owner] if owner.size else span_start
    spans = list(
        zip(
            (span_start - base).tolist(),
            (span_end - base).tolist(),
            np.asarray(names, dtype=object)[kind].tolist() if kind.size else [],
        )
    )
    return [spans[a:b] for a, b in zip(first, last)]


def _span_issue_rows(issues: Any) -> list[tuple[int, int, str, str, str, float]]:
    """Each span issue as (start, end, kind, given, predicted, score); a missing label is ""."""
    columns = zip(
        issues.start.tolist(),
        issues.end.tolist(),
        issues.kind.tolist(),
        issues.given_label.tolist(),
        issues.predicted_label.tolist(),
        issues.score.tolist(),
    )
    return [
        (
            int(a),
            int(b),
            str(kind),
            "" if g is None else str(g),
            "" if p is None else str(p),
            float(x),
        )
        for a, b, kind, g, p, x in columns
    ]


def _check_positions(sentence: np.ndarray, token: np.ndarray, offsets: np.ndarray) -> None:
    """Every issue names a sentence and a token that the tokens hold."""
    n_sentences = offsets.shape[0] - 1
    outside = np.flatnonzero((sentence < 0) | (sentence >= n_sentences))
    if outside.size:
        row = int(outside[0])
        raise InvalidInputError(
            f"issue {row} is in sentence {int(sentence[row])}, but the tokens have "
            f"{n_sentences} sentences",
            field="tokens",
            sentence=int(sentence[row]),
        )
    lengths = offsets[sentence + 1] - offsets[sentence]
    outside = np.flatnonzero((token < 0) | (token >= lengths))
    if outside.size:
        row = int(outside[0])
        raise InvalidInputError(
            f"issue {row} is token {int(token[row])} of sentence {int(sentence[row])}, which has "
            f"{int(lengths[row])} tokens",
            field="tokens",
            sentence=int(sentence[row]),
            token=int(token[row]),
        )


def _sentences_in_rank_order(sentence: np.ndarray) -> np.ndarray:
    """The distinct sentences, in the order of their first (worst) issue."""
    unique, first = np.unique(sentence, return_index=True)
    return unique[np.argsort(first, kind="stable")]


def sentence_spans(
    classes: np.ndarray, names: list[str]
) -> tuple[list[tuple[int, int, str]], list[str]]:
    """The spans of one sentence's class ids, as the report and the exports form them.

    Parameters
    ----------
    classes : int array
        The class id of each token of the sentence.
    names : list of str
        The class names (BIO tags are decoded into entity types).

    Returns
    -------
    (list of (start, end, label), list of str)
        The spans (token indices, end exclusive) and the span labels there can be.

    Examples
    --------
    >>> sentence_spans(np.array([0, 1, 2, 1]), ["O", "B-PER", "I-PER"])
    ([(1, 3, 'PER'), (3, 4, 'PER')], ['PER'])
    """
    classes = np.asarray(classes, np.int64)
    bio = is_bio(names)
    kind_names = sorted({name[2:] for name in names if name != "O"}) if bio else names
    start, end, kind = _runs(*_kinds(classes, names, bio), np.array([0, classes.shape[0]]))
    spans = [(a, b, kind_names[k]) for a, b, k in zip(start.tolist(), end.tolist(), kind.tolist())]
    return spans, kind_names
