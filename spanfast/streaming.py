"""Out-of-core label issues: the in-memory algorithm, run in passes over batches.

A dataset too large for memory is read batch by batch (Parquet row groups or
record batches), several times. Each pass is a pure function of one batch and
a small merged state — per-class counts, per-class running pairwise sums, the
K x K confident joint, bucket counts per cut — and the issues found. Because
every step reproduces the in-memory computation exactly (the class means walk
NumPy's pairwise-summation tree as the values stream past, and the top-k cuts
are the same count-then-split kernels the in-memory run uses), the result is
identical to :func:`spanfast.results.find_issues` on the whole dataset.

Memory is bounded by one batch plus the issues found (and the candidates at
the cut boundaries, a small multiple of them).
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from . import _counts, core
from ._cuts import Cuts, sorted_union
from ._input.checked import check_tokens_aligned, labels_and_probabilities
from ._input.where import numbered_from
from ._kernels import selection, thresholds
from ._kernels.confident_joint import argmax_rows, confident_joint
from ._kernels.running_sum import RunningSums
from .errors import InvalidInputError, InvalidOptionError
from .options import FLOATING_POINT_COMPARISON, LOW_SCORE_FILTERS, check_filter_options
from .ragged import Ragged
from .results import COLUMNS, LabelIssues

# progress(pass_number, n_passes, sentences_done)
Progress = Callable[[int, int, int], None]


@dataclass
class _Batch:
    labels: np.ndarray
    probs: np.ndarray
    offsets: np.ndarray
    tokens: Any
    first_sentence: int
    first_token: int


@dataclass
class _Found:
    """Per-token details of every token that may become an issue, in position order."""

    empty: dict  # an empty array of each column's dtype
    positions: list = field(default_factory=list)
    columns: dict = field(default_factory=lambda: {name: [] for name in COLUMNS})
    matches_label: list = field(default_factory=list)
    token_text: list = field(default_factory=list)

    def add(self, batch: _Batch, local: np.ndarray, rank_by: str, with_text: bool) -> None:
        if local.shape[0] == 0:
            return
        self.positions.append(batch.first_token + local)
        sentence = np.searchsorted(batch.offsets, local, side="right") - 1
        self.columns["sentence"].append(batch.first_sentence + sentence)
        self.columns["token"].append(local - batch.offsets[sentence])
        self.columns["score"].append(
            core.label_quality_scores(batch.labels, batch.probs, method=rank_by, positions=local)
        )
        self.columns["given_label"].append(batch.labels[local].astype(np.int64))
        self.columns["predicted_label"].append(argmax_rows(batch.probs, local))
        margin = batch.probs.dtype.type(FLOATING_POINT_COMPARISON)
        self.matches_label.append(
            selection.prediction_matches_label(batch.probs[local], batch.labels[local], margin)
        )
        if with_text:
            self.token_text.append(_token_texts(batch.tokens, local))

    def select(self, positions: np.ndarray, *, drop_matching: bool) -> LabelIssues:
        """The details of ``positions`` (sorted, all previously added), ranked by score."""
        known = _concat(self.positions, np.int64)
        rows = np.searchsorted(known, positions)
        if drop_matching:
            rows = rows[~_concat(self.matches_label, np.bool_)[rows]]
        columns = {
            name: np.concatenate([self.empty[name], *parts])[rows]
            for name, parts in self.columns.items()
        }
        order = np.argsort(columns["score"], kind="stable")  # rows are in position order
        text = _concat(self.token_text, object)[rows][order] if self.token_text else None
        return LabelIssues(
            **{name: values[order] for name, values in columns.items()}, token_text=text
        )


def _concat(parts: list, dtype) -> np.ndarray:
    if not parts:
        return np.empty(0, dtype or np.float64)
    return np.concatenate(parts)


def _token_texts(tokens: Any, local: np.ndarray) -> np.ndarray:
    """Token strings at flat positions ``local`` of a batch's token column."""
    if _is_arrow_list(tokens):
        start = tokens.offsets[0].as_py()
        flat = tokens.values.slice(start, tokens.offsets[-1].as_py() - start)
        return np.array(flat.take(local).to_pylist(), dtype=object)
    flat = (
        tokens.values
        if isinstance(tokens, Ragged)
        else np.array([t for sentence in tokens for t in sentence], dtype=object)
    )
    return np.asarray(flat, dtype=object)[local]


def _token_lengths(tokens: Any) -> np.ndarray:
    """Number of tokens in each sentence of a batch's token column."""
    if _is_arrow_list(tokens):
        return np.diff(np.asarray(tokens.offsets))
    if isinstance(tokens, Ragged):
        return tokens.lengths
    return np.fromiter(map(len, tokens), np.int64, count=len(tokens))


def _is_arrow_list(obj: Any) -> bool:
    return type(obj).__module__.startswith("pyarrow") and hasattr(obj, "offsets")


def find_label_issues_in_batches(
    read_batches: Callable[[], Iterable[tuple]],
    *,
    return_indices_ranked_by: str = "self_confidence",
    filter_by: str = "prune_by_noise_rate",
    frac_noise: float = 1.0,
    num_to_remove_per_class: Sequence[int] | None = None,
    min_examples_per_class: int = 1,
    progress: Progress | None = None,
) -> LabelIssues:
    """Label issues of a dataset read in batches, identical to the in-memory result.

    Parameters
    ----------
    read_batches : callable
        Each call returns a fresh iterable over the dataset's batches, in the
        same order every time: ``(labels, pred_probs)`` or ``(labels,
        pred_probs, tokens)`` per batch, whole sentences each, in any form the
        other functions accept (a Ragged or Arrow list array is zero-copy).
        It is called once per pass (3 to 5 times).
    return_indices_ranked_by, filter_by, frac_noise, num_to_remove_per_class, min_examples_per_class
        As in :func:`spanfast.token_classification.filter.find_label_issues`.
    progress : callable, optional
        Called as ``progress(pass_number, n_passes, sentences_done)`` after each batch.

    Returns
    -------
    LabelIssues
        Issue columns in rank order (``token_text`` filled when tokens were given).
    """
    if return_indices_ranked_by is None:
        raise InvalidOptionError("return_indices_ranked_by must name a score to rank by.")
    check_filter_options(
        filter_by=filter_by,
        return_indices_ranked_by=return_indices_ranked_by,
        frac_noise=frac_noise,
        num_to_remove_per_class=num_to_remove_per_class,
        stacklevel=2,
    )
    run = _Run(read_batches, progress, n_passes=_passes(filter_by))

    # Pass 1: tokens per class (and every batch checked before any algorithm runs).
    counts = None
    for batch in run.batches():
        if batch.labels.shape[0] == 0:
            continue
        batch_counts = thresholds.class_counts(batch.labels, run.n_classes)
        counts = batch_counts if counts is None else counts + batch_counts
    if counts is None:
        return _empty_issues()
    if np.count_nonzero(counts) < 2 and counts[0] != run.n_tokens:
        raise InvalidInputError("Labels must contain at least 2 classes.")

    rank_by = return_indices_ranked_by
    found = _Found(run.empty_columns(rank_by))
    with_text = run.has_tokens
    margin = run.dtype.type(FLOATING_POINT_COMPARISON)

    if filter_by == "predicted_neq_given":
        for batch in run.batches():
            local = np.flatnonzero(selection.predicted_neq_given(batch.probs, batch.labels))
            found.add(batch, local, rank_by, with_text)
        return found.select(_concat(found.positions, np.int64), drop_matching=True)

    # Pass 2: class thresholds, as np.mean computes them over the whole dataset.
    sums = RunningSums(counts, run.dtype)
    for batch in run.batches():
        sums.add_batch(batch.probs, batch.labels)
    if not sums.complete:
        raise InvalidInputError(
            "the data changed between passes: the labels no longer have the class counts of "
            "pass 1 (a batched source must give the same batches on every pass)"
        )
    class_thresholds = core.thresholds_from_means(sums.means(), counts)
    margin_thresholds = class_thresholds - FLOATING_POINT_COMPARISON

    # Pass 3: the confident joint (and, for low_*, the count of issues and score cut).
    low = filter_by in LOW_SCORE_FILTERS
    joint_by_guess = np.zeros((run.n_classes, run.n_classes), np.int64)
    n_low_issues = 0
    score_cut = Cuts("score", np.zeros(1, np.int64))  # its size is known after this pass
    for batch in run.batches():
        batch_joint, off_diagonal = confident_joint(batch.probs, batch.labels, margin_thresholds)
        joint_by_guess += batch_joint
        if filter_by == "confident_learning":
            found.add(batch, np.flatnonzero(off_diagonal), rank_by, with_text)
        elif low:
            local = np.flatnonzero(off_diagonal)
            matches = selection.prediction_matches_label(
                batch.probs[local], batch.labels[local], margin
            )
            n_low_issues += int(np.count_nonzero(~matches))
            score_cut.count(_filter_scores(batch, filter_by))
    if filter_by == "confident_learning":
        return found.select(_concat(found.positions, np.int64), drop_matching=True)

    if low:
        score_cut.capacity[0] = min(n_low_issues, run.n_tokens)
        score_cut.plan()
        for batch in run.batches():
            local = score_cut.split(
                _filter_scores(batch, filter_by), first_position=batch.first_token
            )
            found.add(batch, local, rank_by, with_text)
        return found.select(score_cut.resolve(), drop_matching=False)

    # prune_by_noise_rate / prune_by_class / both: the K x K counts, then two passes.
    joint = joint_by_guess.T  # [given, guess], laid out as cleanlab's (see core)
    np.fill_diagonal(joint, joint.diagonal().clip(min=1))
    joint = _counts.calibrate_confident_joint(joint, counts)
    prune_counts = core.prune_counts(
        joint, counts, min_examples_per_class, frac_noise, num_to_remove_per_class
    )
    eligible = core.applied_classes(counts, min_examples_per_class, filter_by, stacklevel=2)
    cuts = []
    if filter_by in ("prune_by_class", "both"):
        cuts.append(Cuts.by_class(counts - np.diagonal(prune_counts), counts, eligible))
    if filter_by in ("prune_by_noise_rate", "both"):
        cuts.append(Cuts.noise_rate(prune_counts, counts, eligible))

    # Pass 4: bucket counts of every cut's keys.
    for batch in run.batches():
        for cut in cuts:
            cut.count(batch.probs, batch.labels)
    for cut in cuts:
        cut.plan()

    # Pass 5: flag tokens below each cut's boundary, collect those on it.
    for batch in run.batches():
        local = [
            cut.split(batch.probs, batch.labels, first_position=batch.first_token) for cut in cuts
        ]
        found.add(batch, functools.reduce(sorted_union, local), rank_by, with_text)
    selected = [cut.resolve() for cut in cuts]
    positions = selected[0] if len(selected) == 1 else np.intersect1d(*selected)
    return found.select(positions, drop_matching=True)


def _filter_scores(batch: _Batch, filter_by: str) -> np.ndarray:
    return core.label_quality_scores(
        batch.labels, batch.probs, method=LOW_SCORE_FILTERS[filter_by]
    )


def _passes(filter_by: str) -> int:
    if filter_by == "predicted_neq_given":
        return 2
    if filter_by == "confident_learning":
        return 3
    if filter_by in ("low_normalized_margin", "low_self_confidence"):
        return 4
    return 5


def _empty_issues() -> LabelIssues:
    empty = np.empty(0, np.int64)
    return LabelIssues(empty, empty, np.empty(0), empty, empty)


class _Run:
    """Reads and checks the batches of one run, numbering sentences and tokens globally."""

    def __init__(self, read_batches, progress, n_passes: int) -> None:
        self._read = read_batches
        self._progress = progress
        self.n_passes = n_passes
        self.pass_number = 0
        self.n_classes = None
        self.dtype = None
        self.span = None
        self.n_tokens = 0
        self.n_sentences = 0
        self.has_tokens = False

    def batches(self) -> Iterator[_Batch]:
        self.pass_number += 1
        first_sentence = first_token = 0
        for raw in self._read():
            labels, pred_probs, *rest = raw
            tokens = rest[0] if rest else None
            with numbered_from(first_sentence):
                data = labels_and_probabilities(labels, pred_probs, span=self.span)
                if tokens is not None:
                    check_tokens_aligned(_token_lengths(tokens), data.offsets)
            self._check_consistent(data.probs, first_sentence)
            if first_sentence == 0 and self.pass_number == 1:
                self.has_tokens = tokens is not None
            elif self.has_tokens != (tokens is not None):
                raise InvalidInputError(
                    f"batches disagree on tokens: the batch starting at sentence {first_sentence} "
                    + ("has none" if tokens is None else "has them but earlier ones do not")
                )
            if data.n_tokens == 0:  # nothing to count or flag; keep the sentence numbering
                first_sentence += data.n_sentences
                continue
            yield _Batch(
                data.labels, data.probs, data.offsets, tokens, first_sentence, first_token
            )
            first_sentence += data.n_sentences
            first_token += data.n_tokens
            if self._progress is not None:
                self._progress(self.pass_number, self.n_passes, first_sentence)
        if self.pass_number == 1:
            self.n_tokens, self.n_sentences = first_token, first_sentence
        elif (first_token, first_sentence) != (self.n_tokens, self.n_sentences):
            raise InvalidInputError(
                f"the data changed between passes: pass {self.pass_number} read {first_sentence} "
                f"sentences and {first_token} tokens, pass 1 read {self.n_sentences} and "
                f"{self.n_tokens} (a batched source must give the same batches on every pass)"
            )

    def empty_columns(self, rank_by: str) -> dict[str, np.ndarray]:
        """Zero-length arrays with the dtypes the issue columns will have."""
        empty_probs = np.empty((0,) if self.span else (0, self.n_classes), self.dtype)
        empty = {name: np.empty(0, np.int64) for name in COLUMNS}
        empty["score"] = core.label_quality_scores(
            np.empty(0, np.int8), empty_probs, method=rank_by
        )
        return empty

    def _check_consistent(self, values: np.ndarray, first_sentence: int) -> None:
        if values.shape[0] == 0:
            return
        span = values.ndim == 1
        n_classes = 2 if span else values.shape[1]
        if self.n_classes is None:
            self.n_classes, self.dtype, self.span = n_classes, values.dtype, span
        elif (n_classes, values.dtype, span) != (self.n_classes, self.dtype, self.span):
            raise InvalidInputError(
                f"pred_probs changes layout at sentence {first_sentence}: "
                f"{n_classes} classes of {values.dtype} there, "
                f"{self.n_classes} classes of {self.dtype} before."
            )


def find_label_issues_parquet(
    paths: str | os.PathLike | Sequence[str | os.PathLike],
    *,
    labels: str,
    probs: str,
    tokens: str | None = None,
    batch_size: int = 65_536,
    progress: Progress | None = None,
    **options: Any,
) -> LabelIssues:
    """Label issues of Parquet data larger than memory, read in batches of sentences.

    ``paths``: a .parquet file, a directory of them (read in name order), or a
    list of files. ``labels`` / ``probs`` / ``tokens`` name list columns (one
    row per sentence). ``batch_size`` is in rows. Other options are those of
    :func:`find_label_issues_in_batches`.
    """
    import pyarrow.parquet as pq

    files = _parquet_files(paths)
    columns = [labels, probs] + ([tokens] if tokens else [])

    def read_batches() -> Iterator[tuple]:
        for path in files:
            parquet_file = pq.ParquetFile(path)
            missing = [c for c in columns if c not in parquet_file.schema_arrow.names]
            if missing:
                raise InvalidInputError(f"{path}: no column {missing[0]!r}")
            for record_batch in parquet_file.iter_batches(batch_size=batch_size, columns=columns):
                batch = [record_batch.column(labels), record_batch.column(probs)]
                if tokens:
                    batch.append(record_batch.column(tokens))
                yield tuple(batch)

    return find_label_issues_in_batches(read_batches, progress=progress, **options)


def _parquet_files(paths: Any) -> list[str]:
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    files: list[str] = []
    for path in map(os.fspath, paths):
        if os.path.isdir(path):
            files.extend(
                sorted(
                    os.path.join(path, name)
                    for name in os.listdir(path)
                    if name.endswith(".parquet")
                )
            )
        else:
            files.append(path)
    if not files:
        raise InvalidInputError(f"no .parquet files in {', '.join(map(str, paths))}")
    return files
