"""How well span issues find planted entity-level mistakes, against the baseline of
grouping cleanlab's token issues into their entities (``spanfast demo --spans``).

A planted mistake ``(sentence, start, end, kind)`` is *found* by an issue of the
same sentence that shares a token with it. With k = the number of planted
mistakes, per planted kind: how many are found within the top k issues
(recall at k), and for how many of those the best-ranked issue that finds it
has the planted kind; per reported kind, the precision at k (the share of the
top-k issues of that kind that find a planted mistake).

The baseline: the tokens :func:`spanfast.token_classification.filter.find_label_issues`
flags, in its rank order, each replaced by the given entity that contains it,
else the predicted entity that contains it, else the token alone; an entity
already listed is not listed again. It has no kinds.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .._positions import sentence_and_token
from .find import _predicted_tags, checked_input
from .formation import Spans, form_spans
from .table import KINDS


@dataclass(frozen=True)
class KindScore:
    """One line of the table: a kind's planted count, found at k, kind right, precision."""

    kind: str
    planted: int
    found: int
    kind_right: int
    reported: int
    reported_true: int


def evaluate(
    issues: Sequence[tuple[int, int, int, str | None]],
    planted: Sequence[tuple[int, int, int, str]],
    k: int | None = None,
) -> list[KindScore]:
    """Score the ranked ``issues`` (sentence, start, end, kind) against ``planted``.

    Parameters
    ----------
    issues : sequence of (sentence, start, end, kind or None)
        Ranked, most likely mistakes first; only the first ``k`` are read.
    planted : sequence of (sentence, start, end, kind)
        The planted mistakes.
    k : int, optional
        Issues read; ``len(planted)`` by default.

    Returns
    -------
    list of KindScore
        One per kind of ``KINDS``, then a line ``"all"``.

    Examples
    --------
    >>> rows = evaluate([(0, 1, 3, "missed"), (1, 0, 1, "type")], [(0, 2, 3, "missed")], k=2)
    >>> rows[0], rows[-1].found, rows[-1].reported_true
    (KindScore(kind='missed', planted=1, found=1, kind_right=1, reported=1, reported_true=1), 1, 1)
    """
    k = len(planted) if k is None else k
    top = list(issues)[:k]
    by_sentence: dict[int, list[tuple[int, int, int, str | None]]] = {}
    for rank, (sentence, start, end, kind) in enumerate(top):
        by_sentence.setdefault(sentence, []).append((rank, start, end, kind))
    finds_planted = [False] * len(top)
    found: dict[str, int] = dict.fromkeys(KINDS, 0)
    right: dict[str, int] = dict.fromkeys(KINDS, 0)
    count: dict[str, int] = dict.fromkeys(KINDS, 0)
    for sentence, start, end, kind in planted:
        count[kind] += 1
        hits = [h for h in by_sentence.get(sentence, ()) if h[1] < end and start < h[2]]
        for rank, *_ in hits:
            finds_planted[rank] = True
        if hits:
            found[kind] += 1
            right[kind] += min(hits)[3] == kind
    reported = dict.fromkeys(KINDS, 0)
    reported_true = dict.fromkeys(KINDS, 0)
    for (_, _, _, kind), hit in zip(top, finds_planted):
        if kind is not None:
            reported[kind] += 1
            reported_true[kind] += hit
    lines = [
        KindScore(kind, count[kind], found[kind], right[kind], reported[kind], reported_true[kind])
        for kind in KINDS
    ]
    lines.append(
        KindScore(
            "all",
            len(planted),
            sum(found.values()),
            sum(right.values()),
            len(top),
            sum(finds_planted),
        )
    )
    return lines


def baseline_issues(
    labels, pred_probs, *, class_names=None, scheme=None
) -> list[tuple[int, int, int, None]]:
    """cleanlab's token issues grouped into their entities (see the module docstring)."""
    from .. import core

    data, tags = checked_input(labels, pred_probs, class_names, scheme, None)
    positions, _ = core._find(data)
    argmax = _predicted_tags(data)
    given = form_spans(data.labels, data.offsets, tags)
    predicted = form_spans(argmax, data.offsets, tags)
    start = positions.copy()
    end = positions + 1
    for spans in (predicted, given):  # given entities take precedence: applied last
        index = np.searchsorted(spans.start, positions, side="right") - 1
        inside = (index >= 0) & (positions < _ends(spans)[np.maximum(index, 0)])
        start = np.where(inside, spans.start[np.maximum(index, 0)] if len(spans) else start, start)
        end = np.where(inside, _ends(spans)[np.maximum(index, 0)] if len(spans) else end, end)
    _, first = np.unique(start * (data.n_tokens + 1) + end, return_index=True)
    first.sort()
    sentence, local = sentence_and_token(data.offsets, start[first])
    ends = end[first] - data.offsets[sentence]
    return [(i, s, e, None) for i, s, e in zip(sentence.tolist(), local.tolist(), ends.tolist())]


def _ends(spans: Spans) -> np.ndarray:
    return spans.end if len(spans) else np.zeros(1, np.int64)
