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


ISSUE_COLUMNS = (
    "sentence",
    "token",
    "span_class",
    "token_text",
    "score",
    "given_label",
    "predicted_label",
)


def print_table(columns: dict[str, np.ndarray], numbered: str = "rank") -> None:
    """The issues as a right-aligned table (without tokens, or with several span classes).

    The ``span_class`` and ``token_text`` columns are shown when the issues have them,
    and the id columns (``--id``; ``file`` and ``row_in_file`` for a directory) after
    them, so that each issue's row can be found. The rows are numbered in a first
    column named ``numbered`` ("rank", or "#" for issues in position order).
    """
    names = [name for name in ISSUE_COLUMNS if name in columns]
    names += [name for name in columns if name not in ISSUE_COLUMNS]
    number = np.arange(1, len(columns["sentence"]) + 1)
    _print_rows({numbered: number, **columns}, [numbered, *names])


def print_rows_of_sentences(columns: dict[str, np.ndarray]) -> None:
    """Where the sentences of the shown issues are: each sentence's id columns, once
    (after display_issues blocks, which name sentences by number only)."""
    ids = [name for name in columns if name not in ISSUE_COLUMNS]
    if not ids:
        return
    _, first = np.unique(columns["sentence"], return_index=True)
    shown = np.sort(first)  # in the order the issues are shown
    print()
    print("Where the sentences are:")
    _print_rows({name: columns[name][shown] for name in ["sentence", *ids]}, ["sentence", *ids])


def _print_rows(columns: dict[str, np.ndarray], names: list[str]) -> None:
    def cell(name: str, value: Any) -> str:
        return f"{value:.6g}" if name == "score" else str(value)

    rows = [
        [cell(name, value) for name, value in zip(names, values)]
        for values in zip(*(columns[name].tolist() for name in names))
    ]
    widths = [max(len(cell) for cell in column) for column in zip(names, *rows)]
    for row in [names, *rows]:
        print("  ".join(cell.rjust(width) for cell, width in zip(row, widths)))


def _label(value: Any) -> str:
    """A given or predicted entity type; '-' where the kind has none (missed, spurious)."""
    return "-" if value is None else str(value)


def print_span_issues(
    issues: Any, tokens: Any, top: int, *, labels: Any = None, class_names: Any = None
) -> None:
    """The first ``top`` span issues, each with its whole span marked ``[[New York]]``.

    The brackets show without colour (in a pipe, a log, a file). Without tokens the
    span is shown by token positions. A malformed entity also shows its given tags
    (what the scheme forbids), when ``labels`` and ``class_names`` are known.
    """
    shown = min(top, len(issues))
    print(
        f"{len(issues)} span issues found"
        + (f"; top {shown}, most likely mistake first:" if shown else ".")
    )
    for rank, issue in enumerate(issues, start=1):
        if rank > shown:
            break
        print()
        print(
            f"{rank}. sentence {issue.sentence}, tokens {issue.start}:{issue.end}: {issue.kind}"
            f" (given {_label(issue.given_label)}, predicted {_label(issue.predicted_label)};"
            f" score {issue.score:.4g})"
        )
        if tokens is not None:
            words = [_text(word) for word in tokens[issue.sentence]]
            before = words[: issue.start]
            inside = " ".join(words[issue.start : issue.end])
            print("   " + " ".join([*before, f"[[{inside}]]", *words[issue.end :]]))
        if issue.kind == "malformed" and labels is not None and class_names is not None:
            given = labels[issue.sentence][issue.start : issue.end].tolist()
            print("   given tags: " + " ".join(str(class_names[tag]) for tag in given))


def _text(word: Any) -> str:
    """A token as text (``.npz`` files store bytes)."""
    return word.decode("utf-8", "replace") if isinstance(word, bytes) else str(word)
