"""``find_span_issues``: the entity-level mistakes a person would correct."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from .. import _multispan, core
from .._input.checked import Checked, CheckedSpans, as_probabilities, labels_and_probabilities
from .._input.span_classes import span_classes_checked
from .._kernels.span_issues import argmax_tags, holds_flagged, span_scores
from .._positions import sentence_and_token
from .._threads import concurrently
from ..errors import InvalidInputError, InvalidOptionError
from .formation import Spans, form_spans, match
from .schemes import Tags, check_scheme, span_tags, token_tags
from .table import KINDS, SpanIssues

MISSED, SPURIOUS, BOUNDARY, TYPE, BOUNDARY_TYPE, MALFORMED = range(6)
SCORE_METHODS = ("likelihood_ratio", "min_self_confidence")
TASKS = ("span", "token")


def find_span_issues(
    labels: Any,
    pred_probs: Any,
    *,
    class_names: Any = None,
    scheme: str | None = None,
    task: str | None = None,
    filter_by: str | None = "prune_by_noise_rate",
    score_method: str = "likelihood_ratio",
) -> SpanIssues:
    """Entity-level label issues: missed, spurious, wrong-boundary, wrong-type and
    malformed entities, most likely mistakes first.

    Parameters
    ----------
    labels, pred_probs
        Per-sentence given labels and model probabilities, in any form
        :func:`spanfast.find_issues` takes. Span data: one probability per token
        (label 1 = inside the span class). Token classification: K probabilities per
        token, the K classes being tags named by ``class_names``.
    class_names : sequence of str, optional
        Names of the K classes. For token classification, required: tags of a scheme
        (``"O"``, ``"B-PER"``, ``"I-PER"``, ...). For span data, ``[outside, span
        class]``; the span class's name is then the label shown.
    scheme : {"BIO", "IOB2", "BIOES", "IOBES", "BILOU"}, optional
        The tag scheme; by default read from the prefixes of ``class_names``.
    task : {"span", "token"}, optional
        Stated for 2-D probabilities: ``"token"`` (the default when ``class_names``
        are tags) or ``"span"``, several span classes: ``(T, C)`` probabilities, one
        independent probability per class, labels as
        :func:`spanfast.span_classification.find_label_issues` takes them (lists of
        class ids 1..C per token, or ``(T, C)`` 0/1); ``class_names`` then name the C
        span classes. 1-D probabilities are span data.
    filter_by : str or None, default "prune_by_noise_rate"
        Keep the span issues containing a token that
        :func:`spanfast.token_classification.filter.find_label_issues` flags with this
        ``filter_by`` (and every malformed entity); None keeps every disagreement
        between the given and the predicted entities.
    score_method : {"likelihood_ratio", "min_self_confidence"}
        How an issue over tokens ``start:end`` is scored: ``prod p(given tag) /
        p(argmax tag)`` over those tokens, or the minimum ``p(given tag)``
        (cleanlab's self-confidence, pooled as its ``"min"`` sentence score). A
        malformed entity scores 0: the scheme forbids it, whatever the model says.

    Returns
    -------
    SpanIssues
        One row per issue: ``sentence``, ``start``, ``end`` (end exclusive), ``kind``,
        ``given_label``, ``predicted_label``, ``score``; lowest score first, equal
        scores by position.

    Notes
    -----
    Given entities are formed from the given tags, predicted entities from the
    argmax tag of every token (span data: runs of label 1, and runs of
    ``p > 0.5``), by one rule (:mod:`spanfast.spans.formation`): ``I-X`` after
    ``B-X`` / ``I-X`` continues the entity; a forbidden ``I-X`` / ``E-X`` right after
    an entity token joins that entity, which is then malformed (as is one opened
    by a forbidden tag after ``O``, or, in BIOES, one not closed by ``E-X``).
    Entities sharing tokens are matched one-to-one: largest overlap first, then
    same type, then position. A matched pair with a different extent is a
    "boundary" issue, with a different type a "type" issue, with both a
    "boundary+type" issue (over the union of the two extents); an unmatched
    predicted entity is "missed", an unmatched given one "spurious"; every
    malformed given entity is also a "malformed" issue.

    Every token that ``find_label_issues`` flags (with the same ``filter_by``) lies
    inside some span issue, except where the given and predicted tags differ only
    in a prefix that makes the same entity: a flagged token's argmax tag differs
    from its given tag, so it lies in a given or a predicted entity that is
    unmatched or matched with a different extent or type — unless both tag
    sequences form the same entity there (given ``B-PER``, argmax ``I-PER`` after
    ``O``: the model's tags are the malformed ones; the given entity is right).
    In span data this exception cannot happen.

    Several span classes: each class's column is single-class span data, its issues
    found, filtered and scored as that data's (the token issues: each class's
    ``find_label_issues`` answer); an issue's given or predicted label is its span
    class, and its kind is missed, spurious or boundary (a span labelled A where the
    model puts B is a spurious A and a missed B: the classes are independent). Equal
    scores are ordered by position, then span class.

    Examples
    --------
    >>> import numpy as np
    >>> from spanfast import find_span_issues
    >>> names = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC"]
    >>> tags = [[1, 2, 0, 3], [0, 2, 0]]   # "I-PER" after "O": malformed
    >>> predicted = [[1, 2, 0, 1], [0, 1, 0]]
    >>> probs = [np.eye(5)[p] * 0.9 + 0.02 for p in predicted]
    >>> issues = find_span_issues(tags, probs, class_names=names, filter_by=None)
    >>> [(i.sentence, i.start, i.end, i.kind, i.given_label, i.predicted_label)
    ...  for i in issues]
    [(1, 1, 2, 'malformed', 'PER', 'PER'), (0, 3, 4, 'type', 'LOC', 'PER')]
    """
    data, scheme_tags = checked_input(labels, pred_probs, class_names, scheme, task)
    if score_method not in SCORE_METHODS:
        raise InvalidOptionError(
            f"score_method={score_method!r}; use one of {', '.join(SCORE_METHODS)}."
        )
    if isinstance(data, CheckedSpans):
        return _span_class_issues(data, scheme_tags, filter_by, score_method)
    return _find_span_issues(data, scheme_tags, filter_by, score_method)


def checked_input(
    labels: Any, pred_probs: Any, class_names: Any, scheme: Any, task: Any
) -> tuple[Checked | CheckedSpans, Tags]:
    """Checked data and the tags of its classes; every input error before any work."""
    if task is not None and task not in TASKS:
        raise InvalidOptionError(f"task={task!r}; use 'span', 'token' or None.")
    key = check_scheme(scheme)
    if class_names is not None and (
        isinstance(class_names, str) or not hasattr(class_names, "__len__")
    ):
        raise InvalidInputError(
            "class_names must be a sequence of class names (one per class).", field="class_names"
        )
    if task == "span":
        probs = as_probabilities(pred_probs, span=None, check_values=False)
        if probs.values.ndim == 2:
            return _span_classes_input(labels, probs, class_names, key, scheme)
        pred_probs = probs
    data = labels_and_probabilities(labels, pred_probs, span=None)
    K = data.n_classes
    if class_names is not None and len(class_names) != K:
        layout = (
            "span data has 2 classes (outside, the span class)"
            if data.span
            else (f"pred_probs has {K} columns")
        )
        raise InvalidInputError(
            f"class_names has {len(class_names)} names but {layout}.", field="class_names"
        )
    if data.span:
        if task == "token":
            raise InvalidInputError(
                "task='token' needs K probabilities per token; these are 1-D (span data).",
                field="pred_probs",
            )
        if key not in (None, "io"):
            raise InvalidInputError(
                f"scheme={scheme!r} is for tags; span data (1-D probabilities) has none.",
                field="scheme",
            )
        return data, span_tags(class_names)
    if class_names is None:
        raise InvalidInputError(
            f"token classification needs class_names: the {K} tags "
            "('O', 'B-PER', 'I-PER', ...) of the pred_probs columns.",
            field="class_names",
        )
    return data, token_tags(class_names, key)


def _span_classes_input(
    labels: Any, probs: Any, class_names: Any, key: str | None, scheme: Any
) -> tuple[CheckedSpans, Tags]:
    """Several span classes: (T, C) probabilities, labels in any form of
    :mod:`spanfast._input.span_classes`; ``class_names`` name the C span classes."""
    if key not in (None, "io"):
        raise InvalidInputError(
            f"scheme={scheme!r} is for tags; several span classes have none.", field="scheme"
        )
    data = span_classes_checked(labels, probs)
    C = data.n_classes
    if class_names is not None and len(class_names) != C:
        raise InvalidInputError(
            f"class_names has {len(class_names)} names but pred_probs has {C} span classes.",
            field="class_names",
        )
    names = tuple(class_names) if class_names is not None else tuple(range(1, C + 1))
    return data, dataclasses.replace(span_tags(), type_names=names)


def _kinds(given: Spans, predicted: Spans, match_of_given: np.ndarray) -> tuple:
    """Rows (start, end, kind, given type, predicted type) of every disagreement."""
    matched = np.flatnonzero(match_of_given >= 0)
    partner = match_of_given[matched]
    same_extent = (given.start[matched] == predicted.start[partner]) & (
        given.end[matched] == predicted.end[partner]
    )
    same_type = given.entity_type[matched] == predicted.entity_type[partner]
    kind = np.where(same_extent, TYPE, np.where(same_type, BOUNDARY, BOUNDARY_TYPE))
    differ = ~(same_extent & same_type)
    matched, partner, kind = matched[differ], partner[differ], kind[differ]
    spurious = np.flatnonzero(match_of_given < 0)
    taken = np.zeros(len(predicted), bool)
    taken[match_of_given[match_of_given >= 0]] = True
    missed = np.flatnonzero(~taken)
    malformed = np.flatnonzero(given.malformed)
    malformed_partner = match_of_given[malformed]
    # index -1 (no partner) reads the appended 0: no type
    predicted_type_or_none = np.append(predicted.entity_type, 0)

    start = np.concatenate(
        [
            np.minimum(given.start[matched], predicted.start[partner]),
            given.start[spurious],
            predicted.start[missed],
            given.start[malformed],
        ]
    )
    end = np.concatenate(
        [
            np.maximum(given.end[matched], predicted.end[partner]),
            given.end[spurious],
            predicted.end[missed],
            given.end[malformed],
        ]
    )
    kinds = np.concatenate(
        [
            kind,
            np.full(spurious.size, SPURIOUS),
            np.full(missed.size, MISSED),
            np.full(malformed.size, MALFORMED),
        ]
    )
    given_type = np.concatenate(
        [
            given.entity_type[matched],
            given.entity_type[spurious],
            np.zeros(missed.size, np.int64),
            given.entity_type[malformed],
        ]
    )
    predicted_type = np.concatenate(
        [
            predicted.entity_type[partner],
            np.zeros(spurious.size, np.int64),
            predicted.entity_type[missed],
            predicted_type_or_none[malformed_partner],
        ]
    )
    return start, end, kinds, given_type, predicted_type


def _predicted_tags(data: Checked) -> np.ndarray:
    """The model's tag of every token: its argmax class (span data: ``p > 0.5``, the
    argmax of ``[1 - p, p]``, class 0 on a tie)."""
    if data.span:
        return (data.probs > 0.5).view(np.int8)
    return argmax_tags(data.probs, data.labels)


def _find_span_issues(
    data: Checked, tags: Tags, filter_by: str | None, score_method: str
) -> SpanIssues:
    """:func:`find_span_issues` of checked input."""
    # The entities need no flagged tokens: formed on another core meanwhile.
    entities = concurrently(None, _entities, data, tags)
    flagged = None
    if filter_by is not None:
        flagged, _ = core._find(data, filter_by=filter_by, return_indices_ranked_by=None)
    start, end, kind, given_type, predicted_type, score = _issue_rows(
        data, flagged, score_method, entities()
    )
    order = np.lexsort((kind, end, start, score))
    sentence, local_start = sentence_and_token(data.offsets, start[order])
    return _table(
        tags, sentence, local_start, (end - start)[order], kind, given_type, predicted_type,
        score, order,
    )  # fmt: skip


def _span_class_issues(
    data: CheckedSpans, tags: Tags, filter_by: str | None, score_method: str
) -> SpanIssues:
    """Several span classes: each class's column is single-class span data, so the
    columns laid end to end (class by class, T tokens each) are one single-class
    dataset of C x n sentences; its span issues are every class's own. The type of an
    issue is its span class, so kinds are missed, spurious and boundary only."""
    C, T, n = data.n_classes, data.n_tokens, data.n_sentences
    flat = _multispan.columns_end_to_end(data)
    flagged = None
    if filter_by == "prune_by_noise_rate":  # the span default: all classes in one pass
        span_class, positions = _multispan.find_positions(data)
        flagged = np.sort((span_class - 1) * T + positions)
    elif filter_by is not None:
        flagged = np.concatenate(
            [
                core._find(data.column(c), filter_by=filter_by, return_indices_ranked_by=None)[0]
                + (c - 1) * T
                for c in range(1, C + 1)
            ]
        )
    start, end, kind, given_type, predicted_type, score = _issue_rows(
        flat, flagged, score_method, _entities(flat, tags)
    )
    span_class = start // max(T, 1)
    position = start - span_class * T
    order = np.lexsort((span_class, kind, end - start, position, score))
    flat_sentence, local_start = sentence_and_token(flat.offsets, start[order])
    given_type = np.where(given_type > 0, span_class + 1, 0)
    predicted_type = np.where(predicted_type > 0, span_class + 1, 0)
    return _table(
        tags, flat_sentence % max(n, 1), local_start, (end - start)[order], kind, given_type,
        predicted_type, score, order,
    )  # fmt: skip


def _entities(data: Checked, tags: Tags) -> tuple:
    """The given and the predicted entities, matched: :func:`_kinds`' rows."""
    given = form_spans(data.labels, data.offsets, tags)
    predicted = form_spans(_predicted_tags(data), data.offsets, tags)
    return _kinds(given, predicted, match(given, predicted))


def _issue_rows(data: Checked, flagged: np.ndarray | None, score_method: str, rows: tuple):
    """Flat rows (start, end, kind, given type, predicted type, score) of the span issues
    of checked data, in no order, from :func:`_entities`' ``rows``; ``flagged`` (sorted
    flat positions, or None): keep only the issues holding one of these tokens, and the
    malformed ones."""
    start, end, kind, given_type, predicted_type = rows
    if flagged is not None:
        keep = holds_flagged(flagged, data.n_tokens, start, end) | (kind == MALFORMED)
        start, end, kind = start[keep], end[keep], kind[keep]
        given_type, predicted_type = given_type[keep], predicted_type[keep]
    lowest, ratio = span_scores(data.probs, data.labels, start, end)
    score = ratio if score_method == "likelihood_ratio" else lowest
    # A tag sequence the scheme forbids is a mistake whatever the model says.
    score[kind == MALFORMED] = 0.0
    return start, end, kind, given_type, predicted_type, score


def _table(tags, sentence, start, length, kind, given_type, predicted_type, score, order):
    """The :class:`SpanIssues` of rows taken in ``order`` (sentence, start, length:
    already in it)."""
    names = np.array((None, *tags.type_names), dtype=object)
    return SpanIssues(
        sentence=sentence,
        start=start,
        end=start + length,
        kind=np.array(KINDS, dtype=object)[kind[order]],
        given_label=names[given_type[order]],
        predicted_label=names[predicted_type[order]],
        score=np.clip(score[order], 0.0, 1.0),
    )
