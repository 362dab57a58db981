"""Array-native results for pipelines: label issues as columns, not Python objects.

:func:`find_issues` runs the same algorithms as the cleanlab-compatible
functions but returns a :class:`LabelIssues`: flat arrays (sentence, token,
score, given and predicted label per issue), the sentence scores, and the
token scores as a :class:`~spanfast.Ragged`. Nothing is built per token or per
sentence; ``to_pandas()`` / ``to_arrow()`` make one table.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from . import _multispan, _sentences, core
from ._facades import span_data
from ._input.checked import CheckedSpans, labels_and_probabilities
from ._kernels.confident_joint import argmax_rows
from ._positions import sentence_and_token
from ._records import id_names, sentence_ids
from .errors import InvalidOptionError
from .options import (
    DEFAULT_TEMPERATURE,
    check_score_options,
    check_sentence_score_method,
    span_task,
)
from .ragged import Ragged

COLUMNS = ("sentence", "token", "score", "given_label", "predicted_label")


@dataclass(frozen=True, eq=False)
class LabelIssues:
    """Label issues as columns, most likely mislabeled first.

    Attributes
    ----------
    sentence, token : int64 arrays
        Where each issue is: token ``token[n]`` of sentence ``sentence[n]``.
    score : float array
        The issue's label quality score (``return_indices_ranked_by``); lower is worse.
    given_label, predicted_label : int64 arrays
        The label in the data and the model's argmax class.
    sentence_scores : array or None
        One score per sentence (``get_label_quality_scores``), when computed.
    token_scores : Ragged or None
        One score per token, per sentence, when computed.
    token_text : object array or None
        The token string of each issue, when tokens were given.
    sentence_ids : dict of arrays, or None
        The id columns (``id=``) of every sentence, when given; each issue's are
        :attr:`ids`, and they are written beside the issue columns.
    span_class : int64 array or None
        With several span classes: the span class (1..C) of each issue, whose
        binary column ``given_label`` and ``predicted_label`` (0/1) refer to.
    """

    sentence: np.ndarray
    token: np.ndarray
    score: np.ndarray
    given_label: np.ndarray
    predicted_label: np.ndarray
    sentence_scores: np.ndarray | None = None
    token_scores: Ragged | None = None
    token_text: np.ndarray | None = None
    sentence_ids: dict[str, np.ndarray] | None = None
    span_class: np.ndarray | None = None

    def __len__(self) -> int:
        return int(self.sentence.shape[0])

    # -- a table: rows, slices, equality, a summary --------------------------------------

    def __iter__(self) -> Iterator[tuple]:
        """The issues as named tuples (``issue.sentence``, ``issue.score``, ...), in rank order."""
        row = self._row_type()
        return (row(*values) for values in zip(*(v.tolist() for v in self.to_dict().values())))

    def __getitem__(self, key: Any) -> Any:
        """``issues[n]``: one row (a named tuple); a slice, an integer array or a boolean
        mask: a LabelIssues of those rows (sentence scores, token scores and ids kept)."""
        if isinstance(key, (int, np.integer)):
            n = int(key)
            if not -len(self) <= n < len(self):
                raise IndexError(f"issue {n} of {len(self)}")
            return self._row_type()(
                *(v[n].item() if hasattr(v[n], "item") else v[n] for v in self.to_dict().values())
            )
        rows = {name: getattr(self, name)[key] for name in COLUMNS}
        text = None if self.token_text is None else self.token_text[key]
        return replace(self, **rows, token_text=text)

    def head(self, n: int = 5) -> LabelIssues:
        """The first ``n`` issues (the most likely mislabeled)."""
        return self[:n]

    def _row_type(self) -> type:
        return namedtuple("Issue", list(self.to_dict()), rename=True)

    def __eq__(self, other: object) -> bool:
        """Equal by value: the same issue columns, sentence scores, token scores and ids."""
        if not isinstance(other, LabelIssues):
            return NotImplemented
        mine, theirs = self.to_dict(), other.to_dict()
        if list(mine) != list(theirs) or not all(_same(mine[name], theirs[name]) for name in mine):
            return False
        for name in ("sentence_scores", "token_scores"):
            a, b = getattr(self, name), getattr(other, name)
            if (a is None) != (b is None):
                return False
            if isinstance(a, Ragged):
                if not (_same(a.values, b.values) and _same(a.offsets, b.offsets)):
                    return False
            elif a is not None and not _same(a, b):
                return False
        ids, other_ids = self.sentence_ids or {}, other.sentence_ids or {}
        return list(ids) == list(other_ids) and all(_same(ids[n], other_ids[n]) for n in ids)

    __hash__ = None  # type: ignore[assignment]  # mutable arrays: not hashable

    def __repr__(self) -> str:
        """A summary: how many issues, in how many sentences, and per (given, predicted)."""
        counts = self.class_counts()
        pairs = [f"{g}->{p}: {n}" for g, p, n in zip(*(v.tolist() for v in counts.values()))]
        shown = ", ".join(pairs[:6]) + (f", ... ({len(pairs)} pairs)" if len(pairs) > 6 else "")
        where = len(np.unique(self.sentence))
        scored = "" if self.sentence_scores is None else f" of {len(self.sentence_scores)}"
        return (
            f"<LabelIssues: {len(self)} issues in {where}{scored} sentences"
            + (f"; by given->predicted label: {shown}" if pairs else "")
            + ">"
        )

    def to_polars(self) -> Any:
        """A ``polars.DataFrame`` with one row per issue (from the Arrow table)."""
        import polars as pl

        return pl.from_arrow(self.to_arrow())

    def to_tuples(self) -> list[tuple[int, int]]:
        """The issues as cleanlab's list of ``(sentence, token)`` tuples."""
        return list(zip(self.sentence.tolist(), self.token.tolist()))

    def to_dict(self) -> dict[str, np.ndarray]:
        """The issue columns (with ``token_text`` when known)."""
        columns = {name: getattr(self, name) for name in COLUMNS}
        if self.span_class is not None:
            columns = {"span_class": self.span_class, **columns}
        if self.token_text is not None:
            columns["token_text"] = self.token_text
        columns.update(self.ids)
        return columns

    def class_counts(self) -> dict[str, np.ndarray]:
        """Issues per (given label, predicted label) swap, most frequent first.

        Returns
        -------
        dict of arrays
            ``given_label``, ``predicted_label``, ``num_label_issues``: the counts of
            :func:`spanfast.token_classification.summary.common_label_issues` (with
            labels and pred_probs) summed over the tokens; equal counts ordered by
            (given, predicted).
        """
        pairs = np.stack([self.given_label, self.predicted_label], axis=1).reshape(-1, 2)
        unique, counts = np.unique(pairs, axis=0, return_counts=True)
        order = np.argsort(-counts, kind="stable")
        return {
            "given_label": unique[order, 0].astype(np.int64),
            "predicted_label": unique[order, 1].astype(np.int64),
            "num_label_issues": counts[order].astype(np.int64),
        }

    @property
    def ids(self) -> dict[str, np.ndarray]:
        """The id columns of each issue's sentence (empty without ``id=``)."""
        if not self.sentence_ids:
            return {}
        return {name: values[self.sentence] for name, values in self.sentence_ids.items()}

    def sentences(self, order: str = "rank") -> dict[str, np.ndarray]:
        """One row per sentence: ``sentence``, ``score``, ``n_issues`` and the id columns.

        Parameters
        ----------
        order : {"rank", "position"}, default "rank"
            Lowest sentence score first (equal scores in position order), or in
            dataset order.

        Returns
        -------
        dict of arrays
            The columns, all of one length (the number of sentences).
        """
        if self.sentence_scores is None:
            raise InvalidOptionError("these results have no sentence scores.")
        if order not in ("rank", "position"):
            raise InvalidOptionError(f"order must be 'rank' or 'position', not {order!r}.")
        scores = np.asarray(self.sentence_scores)
        n_sentences = scores.shape[0]
        columns = {
            "sentence": np.arange(n_sentences, dtype=np.int64),
            "score": scores,
            "n_issues": np.bincount(self.sentence, minlength=n_sentences).astype(np.int64),
            **(self.sentence_ids or {}),
        }
        if order == "position":
            return columns
        rank = np.argsort(scores, kind="stable")  # NaN last; ties in position order
        return {name: values[rank] for name, values in columns.items()}

    def to_pandas(self) -> Any:
        """A ``pandas.DataFrame`` with one row per issue."""
        import pandas as pd

        return pd.DataFrame(self.to_dict())

    def to_arrow(self) -> Any:
        """A ``pyarrow.Table`` with one row per issue (zero-copy from the arrays)."""
        import pyarrow as pa

        return pa.table(self.to_dict())

    def _repr_html_(self) -> str:
        """A compact table of the top 20 issues for notebooks (every value HTML-escaped)."""
        import html

        top = min(len(self), 20)
        columns = self.to_dict()
        head = "".join(f"<th>{html.escape(name)}</th>" for name in columns)
        rows = []
        for n in range(top):
            cells = []
            for name, values in columns.items():
                value = values[n]
                text = f"{value:.4g}" if name == "score" else str(value)
                cells.append(f"<td>{html.escape(text)}</td>")
            rows.append("<tr>" + "".join(cells) + "</tr>")
        caption = f"{len(self)} label issues" + (
            f", top {top}, most likely mislabeled first" if len(self) > top else ""
        )
        return (
            f"<table><caption>{html.escape(caption)}</caption><tr>{head}</tr>"
            + "".join(rows)
            + "</table>"
        )


def _same(a: Any, b: Any) -> bool:
    """Arrays equal by value and dtype (NaN equal to NaN)."""
    a, b = np.asarray(a), np.asarray(b)
    if a.dtype != b.dtype or a.shape != b.shape:
        return False
    return bool(np.array_equal(a, b, equal_nan=a.dtype.kind in "fc"))


def issues_from_positions(
    positions: np.ndarray,
    position_scores: np.ndarray,
    labels: np.ndarray,
    probs: np.ndarray,
    offsets: np.ndarray,
) -> LabelIssues:
    """Columns for the issues at flat ``positions`` (already in their final order).

    Parameters
    ----------
    positions, position_scores : (n,) arrays
        Flat token positions of the issues and their scores, in rank order.
    labels, probs, offsets : arrays
        The checked flat data the positions point into.

    Returns
    -------
    LabelIssues
        Without sentence or token scores.
    """
    sentence, token = sentence_and_token(offsets, positions)
    return LabelIssues(
        sentence=sentence.astype(np.int64),
        token=token.astype(np.int64),
        score=np.asarray(position_scores),
        given_label=labels[positions].astype(np.int64),
        predicted_label=argmax_rows(probs, positions).astype(np.int64),
    )


def find_issues(
    labels: Any,
    pred_probs: Any,
    *,
    task: str | None = None,
    span: bool | None = None,
    return_indices_ranked_by: str = "self_confidence",
    rank_by_kwargs: dict | None = None,
    filter_by: str = "prune_by_noise_rate",
    frac_noise: float = 1.0,
    num_to_remove_per_class: Any = None,
    min_examples_per_class: int = 1,
    confident_joint: np.ndarray | None = None,
    token_score_method: str = "self_confidence",
    sentence_score_method: str = "min",
    temperature: float = DEFAULT_TEMPERATURE,
    ties: str = "position",
    id: Mapping[str, Any] | None = None,
    low_memory: bool = False,
) -> LabelIssues:
    """Find label issues and score sentences, returning arrays.

    Parameters
    ----------
    labels, pred_probs
        Per-sentence labels and probabilities in any form the other functions take.
    task : {"span", "token"}, optional
        Span data or token data. 1-D probabilities per sentence are span data; 2-D
        ``(T, K)`` are token data unless ``task="span"``, when they are ``(T, C)``,
        one independent probability per span class (the task is never guessed from
        the shape). With several span classes the result has a ``span_class``
        column and the sentence and token scores one column per class.
    span : bool, optional
        The former name of ``task``: True is ``task="span"``, False ``task="token"``.
    return_indices_ranked_by, rank_by_kwargs, filter_by, frac_noise, \
num_to_remove_per_class, min_examples_per_class, confident_joint
        As in :func:`spanfast.token_classification.filter.find_label_issues`.
    token_score_method, sentence_score_method, temperature
        How ``token_scores`` and ``sentence_scores`` are computed, as in
        :func:`spanfast.token_classification.rank.get_label_quality_scores`.
    ties : {"position", "numpy"}, default "position"
        As in :func:`spanfast.core.find_label_issues`.
    id : mapping of column name to per-sentence values, optional
        Record identity: one value per sentence for each name, carried unchanged
        into every issue row (:attr:`LabelIssues.ids`) and every sentence row. Nulls
        are an error; duplicates are carried as they are (:mod:`spanfast._records`).
        With a table, :func:`find_issues_in_table` takes the id columns by name.
    low_memory : bool, default False
        The token filter's ``low_memory=True`` (per span class): issues in position order.

    Returns
    -------
    LabelIssues
        The issue columns in rank order, the sentence scores and the token scores.

    The issues are those of :func:`spanfast.token_classification.filter.find_label_issues`
    (or the span version when ``span`` is true; with ``span=None`` span data
    is recognised by having one probability per token), in the same order.

    Examples
    --------
    >>> import numpy as np
    >>> from spanfast.results import find_issues
    >>> issues = find_issues([[0, 0, 1, 1], [1, 1, 0]],
    ...                      [np.array([0.9, 0.9, 0.9, 0.1]), np.array([0.1, 0.1, 0.9])])
    >>> issues.to_tuples()
    [(0, 0), (0, 1), (0, 3), (1, 0), (1, 1)]
    >>> issues.predicted_label.tolist()
    [1, 1, 0, 0, 0]
    >>> issues.sentence_scores
    array([0.1, 0.1])
    """
    if return_indices_ranked_by is None:
        raise InvalidOptionError("return_indices_ranked_by must name a score to rank by.")
    check_sentence_score_method(sentence_score_method)
    check_score_options(token_score_method, False)
    span = span_task(task, span)
    if span:
        data = span_data(labels, pred_probs)
    else:
        data = labels_and_probabilities(labels, pred_probs, span=span)
    if isinstance(data, CheckedSpans):
        options = {
            "return_indices_ranked_by": return_indices_ranked_by,
            "rank_by_kwargs": rank_by_kwargs,
            "filter_by": filter_by,
            "frac_noise": frac_noise,
            "num_to_remove_per_class": num_to_remove_per_class,
            "min_examples_per_class": min_examples_per_class,
            "confident_joint": confident_joint,
            "low_memory": low_memory,
        }
        issues = _span_classes_issues(
            data, ties, options, token_score_method, sentence_score_method, temperature
        )
        return replace(issues, sentence_ids=sentence_ids(id, data.offsets.shape[0] - 1))
    positions, position_scores = core._find(
        data,
        return_indices_ranked_by=return_indices_ranked_by,
        rank_by_kwargs=rank_by_kwargs,
        filter_by=filter_by,
        frac_noise=frac_noise,
        num_to_remove_per_class=num_to_remove_per_class,
        min_examples_per_class=min_examples_per_class,
        confident_joint=confident_joint,
        ties=ties,
        low_memory=low_memory,
    )
    token_scores = core._scores(data, token_score_method)
    sentence_scores = _sentences._sentence_scores(
        token_scores, data.offsets, sentence_score_method, temperature
    )
    issues = issues_from_positions(
        positions, position_scores, data.labels, data.probs, data.offsets
    )
    return LabelIssues(
        **{name: getattr(issues, name) for name in COLUMNS},
        sentence_scores=sentence_scores,
        token_scores=Ragged(token_scores, data.offsets),
        sentence_ids=sentence_ids(id, data.n_sentences),
    )


def find_issues_in_table(
    table: Any,
    labels: str = "labels",
    probs: str = "probs",
    tokens: str | None = None,
    *,
    id: str | Sequence[str] | None = None,
    split: str | None = None,
    **options: Any,
) -> LabelIssues:
    """:func:`find_issues` on the columns of a table, with its id and token columns.

    The same arguments as :func:`spanfast.dask.find_issues` and
    :func:`spanfast.streaming.find_label_issues_parquet` (a table, column names),
    so one call reads the same in memory, streamed and on Dask.

    Parameters
    ----------
    table : pyarrow Table or RecordBatch, pandas or polars DataFrame, ``datasets.Dataset``
        One row per sentence, as :func:`spanfast.io.columns_from_table` reads; also a
        polars ``LazyFrame`` (collected with only the columns read) or a
        ``datasets.DatasetDict`` with ``split``.
    labels, probs : str
        The list columns of per-token labels and probabilities.
    tokens : str, optional
        The list column of token text (``token_text`` of the result).
    id : str or list of str, optional
        Columns carried unchanged into every issue and sentence row.
    split : str, optional
        The split of a ``datasets.DatasetDict`` to read (required for one; an error
        names the splits).
    **options
        The options of :func:`find_issues`.

    Returns
    -------
    LabelIssues
        As :func:`find_issues`, with ``token_text`` and the id columns.

    Examples
    --------
    >>> import pyarrow as pa
    >>> from spanfast.results import find_issues_in_table
    >>> table = pa.table({"doc": ["a", "b"], "labels": [[0, 0, 1, 1], [1, 1, 0]],
    ...                   "probs": [[0.9, 0.9, 0.9, 0.1], [0.1, 0.1, 0.9]]})
    >>> find_issues_in_table(table, id="doc").ids["doc"].tolist()
    ['a', 'a', 'a', 'b', 'b']
    """
    from ._input.frames import resolved_table, table_column
    from .io import columns_from_table

    names = id_names(id)
    wanted = [labels, probs] + ([tokens] if tokens is not None else []) + list(names)
    table = resolved_table(table, wanted, split)
    label_column, prob_column, token_column = columns_from_table(
        table, labels=labels, probs=probs, tokens=tokens
    )
    ids = {name: table_column(table, name) for name in names}
    issues = find_issues(label_column, prob_column, id=ids if names else None, **options)
    if token_column is None:
        return issues
    text = token_column.values[token_column.offsets[issues.sentence] + issues.token]
    return replace(issues, token_text=np.asarray(text, dtype=object))


def _span_classes_issues(
    data: CheckedSpans, ties, options, token_score_method, sentence_score_method, temperature
) -> LabelIssues:
    """:func:`find_issues` of several span classes: a ``span_class`` column; sentence
    scores ``(n_sentences, C)`` and token scores a Ragged of ``(T, C)``."""
    columns = _multispan.issue_columns(data, ties, options)
    sentence_scores, token_scores = _multispan.quality_scores_by_class(
        data, token_score_method, sentence_score_method, temperature, None
    )
    C = data.n_classes
    return LabelIssues(
        **columns,
        sentence_scores=np.stack([sentence_scores[c] for c in range(1, C + 1)], axis=1),
        token_scores=Ragged(
            np.stack([token_scores[c].values for c in range(1, C + 1)], axis=1), data.offsets
        ),
    )
