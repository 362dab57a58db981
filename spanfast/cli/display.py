"""Showing issues on the terminal: ``display_issues`` blocks, or a table without tokens."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np


def display_issues(
    issues: Sequence[tuple[int, int]],
    tokens: Any,
    *,
    labels: Any,
    pred_probs: Any,
    span: bool,
    color: bool,
    class_names: Sequence[str] | None = None,
) -> None:
    """spanfast's display_issues; without colour, the flagged token alone is marked [[so]].

    With colour this is the library's (cleanlab's) output exactly; without, the
    escape codes would be lost, so the token at the flagged position is bracketed
    (cleanlab's colouring would mark every occurrence of the same word).
    """
    from spanfast.token_classification import summary
    from spanfast.token_classification.utils import _marked_sentence

    drawing = summary._SENTENCE_LINE.set(None if color else _marked_sentence)
    try:
        summary._display_issues(
            issues,
            tokens,
            labels=labels,
            pred_probs=pred_probs,
            exclude=[],
            class_names=class_names,
            top=len(issues),
            span=span,
        )
    finally:
        summary._SENTENCE_LINE.reset(drawing)


def display_sentences(
    columns: dict[str, np.ndarray], sentences: dict[str, Any], *, color: bool
) -> None:
    """display_issues on the few sentences the issues are in (indexed by sentence number)."""
    rows = sentences["rows"].tolist()

    def by_row(ragged: Any, convert: Callable[[np.ndarray], Any]) -> dict[int, Any]:
        """Index the few sentences by their number in the dataset, as display_issues reads them."""
        return {row: convert(values) for row, values in zip(rows, ragged)}

    probs = sentences["probs"]
    display_issues(
        list(zip(columns["sentence"].tolist(), columns["token"].tolist())),
        by_row(sentences["tokens"], lambda values: [str(token) for token in values]),
        labels=by_row(sentences["labels"], lambda values: values),
        pred_probs=by_row(probs, lambda values: values),
        span=probs.values.ndim == 1,
        color=color,
    )


def print_table(columns: dict[str, np.ndarray]) -> None:
    """The issues as a right-aligned table (when there are no tokens to show)."""
    header = ["rank", "sentence", "token", "score", "given_label", "predicted_label"]
    names = ("sentence", "token", "score", "given_label", "predicted_label")
    rows = [
        [str(rank), str(i), str(j), f"{score:.6g}", str(given), str(predicted)]
        for rank, (i, j, score, given, predicted) in enumerate(
            zip(*(columns[name].tolist() for name in names)), start=1
        )
    ]
    widths = [max(len(cell) for cell in column) for column in zip(header, *rows)]
    for row in [header, *rows]:
        print("  ".join(cell.rjust(width) for cell, width in zip(row, widths)))
