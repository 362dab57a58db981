"""Several span classes read in batches (``task="span"`` in :mod:`spanfast.streaming`
and :mod:`spanfast.dask`).

Span class ``c`` of a ``(T, C)`` dataset is the single-class span dataset of its
column, and the multi-class answer is each class's single-class answer
(:mod:`spanfast._multispan`). So a stream of several span classes is run as C
single-class streams, one per column: each batch is checked whole (errors name
global sentences and the span class), then its class's column is handed to the
single-class runner, whose passes, merges and checks between passes are those
of one span class. The results are joined by class as
:func:`spanfast.results.find_issues` joins them in memory. The cost: the source is
read once per pass per class (C single-class runs, not one run of C classes).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

import numpy as np

from ._batches import in_batch
from ._input.checked import Checked, CheckedSpans, as_probabilities
from ._input.span_classes import span_classes_checked
from ._input.where import numbered_from
from .errors import InvalidInputError
from .io import as_ragged
from .ragged import Ragged
from .results import COLUMNS, LabelIssues


def checked_batch(labels: Any, pred_probs: Any, first_sentence: int) -> CheckedSpans:
    """One batch of several span classes, checked; errors name global sentences.

    Arrow and pandas label columns of per-token rows (``(T, C)`` 0/1) are read as
    :func:`spanfast.io.as_ragged` reads them; Python lists as
    :func:`spanfast.span_classification.find_label_issues` takes them."""
    if not isinstance(labels, (list, tuple, np.ndarray, Ragged)):
        labels = as_ragged(labels, name="labels")
    try:
        with numbered_from(first_sentence):
            probs = as_probabilities(pred_probs, span=None, check_values=False)
            if probs.n_tokens == 0:  # no row to learn C from: only the sentences count
                return _empty_batch(labels, probs)
            if probs.values.ndim != 2:
                raise InvalidInputError(
                    "task='span' in batches takes (T, C) probabilities of several span "
                    f"classes; this batch has {probs.values.ndim - 1}-D entries per token "
                    "(1-D span data needs no task).",
                    field="pred_probs",
                )
            return span_classes_checked(labels, probs)
    except InvalidInputError as error:
        raise in_batch(error, first_sentence) from None


def _empty_batch(labels: Any, probs: Ragged) -> CheckedSpans:
    n_sentences = len(labels)
    if n_sentences != probs.n_sentences or any(map(len, labels)):
        raise InvalidInputError(
            f"labels has {n_sentences} sentences and {'some' if n_sentences else 'no'} tokens "
            f"but pred_probs has {probs.n_sentences} sentences and no tokens.",
            field="labels",
        )
    empty = np.zeros((0, 0), np.uint8), np.zeros((0, 0), probs.values.dtype)
    return CheckedSpans(*empty, probs.offsets)


def column_batches(read_batches: Callable, span_class: int, n_classes: int) -> Callable:
    """``read_batches`` of ``n_classes`` span classes as the single-class batches of span
    class ``span_class`` (1..C): each batch checked as a whole, then its class's column
    (labels 0/1, probabilities 1-D) with the rest of the batch (tokens, ids) unchanged."""
    c = span_class - 1

    def read() -> Iterator[tuple]:
        first_sentence = 0
        for labels, pred_probs, *rest in read_batches():
            data = checked_batch(labels, pred_probs, first_sentence)
            if data.n_tokens == 0:  # no row to take a column of: an empty batch
                empty = np.zeros(0, np.uint8), np.zeros(0, data.probs.dtype)
                yield (*(Ragged(values, data.offsets) for values in empty), *rest)
            elif data.n_classes != n_classes:
                raise InvalidInputError(
                    f"the batch from sentence {first_sentence} has {data.n_classes} span "
                    f"classes, the first batch {n_classes}",
                    field="pred_probs",
                    sentence=first_sentence,
                )
            else:
                labels_c = Ragged(np.ascontiguousarray(data.labels[:, c]), data.offsets)
                yield (labels_c, Ragged(data.probs[:, c].copy(), data.offsets), *rest)
            first_sentence += data.n_sentences

    return read


def n_classes_of(read_batches: Callable) -> int | None:
    """C, from the first batch with tokens (0 when there is none; None when its
    probabilities are 1-D, single-class span data, which needs no task)."""
    first_sentence = 0
    for labels, pred_probs, *_ in read_batches():
        with numbered_from(first_sentence):
            probs = as_probabilities(pred_probs, span=None, check_values=False)
        if probs.n_tokens and probs.values.ndim == 1:
            return None
        data = checked_batch(labels, pred_probs, first_sentence)
        if data.n_tokens:
            return data.n_classes
        first_sentence += data.n_sentences
    return 0


def joined_by_class(found: list) -> LabelIssues:
    """The :class:`LabelIssues` of each span class (1..C, in order) as one: grouped by
    class, a ``span_class`` column, sentence scores ``(n_sentences, C)``, as
    :func:`spanfast.results.find_issues` gives them in memory."""
    columns = {name: np.concatenate([getattr(f, name) for f in found]) for name in COLUMNS}
    span_class = np.repeat(np.arange(1, len(found) + 1), [len(f) for f in found])
    # a class without issues may carry no token text column: nothing of it is lost
    text = [
        np.empty(0, object) if f.token_text is None and not len(f) else f.token_text for f in found
    ]
    return replace(
        found[0],
        **columns,
        span_class=span_class.astype(np.int64),
        sentence_scores=np.stack([f.sentence_scores for f in found], axis=1),
        token_text=None
        if any(t is None for t in text) or all(f.token_text is None for f in found)
        else np.concatenate(text),
    )


def checked_column(
    labels: Any, pred_probs: Any, first_sentence: int, span_class: int, n_classes: int
) -> Checked:
    """Span class ``span_class`` (1..C) of one batch (a Dask partition) of ``n_classes``
    span classes as checked single-class span data; the whole batch is checked first."""
    data = checked_batch(labels, pred_probs, first_sentence)
    if data.n_tokens == 0:
        return Checked(np.zeros(0, np.int8), np.zeros(0, data.probs.dtype), data.offsets)
    if data.n_classes != n_classes:
        raise InvalidInputError(
            f"the batch from sentence {first_sentence} has {data.n_classes} span classes, "
            f"the first batch {n_classes}",
            field="pred_probs",
            sentence=first_sentence,
        )
    return data.column(span_class)


def n_span_classes(
    partitions: list, partition_columns: Callable, columns: tuple, scheduler: Any
) -> int | None:
    """C of the (T, C) probabilities of Dask ``partitions`` (read by
    ``partition_columns``, spanfast.dask's), from the first partition with tokens
    (None: they are 1-D, or there are none)."""
    import dask

    for index, partition in enumerate(partitions):
        task = dask.delayed(_width)(partition, partition_columns, columns, index)
        width = dask.compute(task, scheduler=scheduler)[0]
        if width != 0:
            return width if width > 0 else None
    return None


def _width(partition: Any, partition_columns: Callable, columns: tuple, index: int) -> int:
    """C of a partition's (T, C) probabilities, -1 when they are 1-D, 0 without tokens."""
    probs = partition_columns(partition, columns, index)[1]
    values = as_probabilities(probs, span=None, check_values=False).values
    return 0 if values.shape[0] == 0 else -1 if values.ndim == 1 else values.shape[1]
