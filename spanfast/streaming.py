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

import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from . import _span_class_batches, plans
from ._batches import (
    Found,
    Scoring,
    TokenBatch,
    batch_layout,
    changed_error,
    check_batch,
    checksums,
    details,
    empty_columns,
    empty_issues,
    in_batch,
    layout_error,
)
from ._input.checked import Checked, as_labels, check_label_range, narrowed_labels
from ._input.files import ParquetBatches, list_parquet
from ._input.where import numbered_from
from ._kernels.checksum import checksum
from ._records import batch_ids, concat_ids, id_names
from ._steps import CountClasses
from ._threads import concurrently
from .errors import InvalidInputError, InvalidOptionError
from .options import (
    DEFAULT_TEMPERATURE,
    check_filter_options,
    check_rank_by,
    check_score_options,
    check_sentence_score_method,
    check_ties,
    span_task,
)
from .results import LabelIssues

# progress(pass_number, n_passes, sentences_done)
Progress = Callable[[int, int, int], None]


def find_label_issues_in_batches(
    read_batches: Callable[[], Iterable[tuple]],
    *,
    return_indices_ranked_by: str = "self_confidence",
    filter_by: str = "prune_by_noise_rate",
    frac_noise: float = 1.0,
    num_to_remove_per_class: Sequence[int] | None = None,
    min_examples_per_class: int = 1,
    progress: Progress | None = None,
    ties: str = "position",
    token_score_method: str = "self_confidence",
    sentence_score_method: str = "min",
    temperature: float = DEFAULT_TEMPERATURE,
    task: str | None = None,
    low_memory: bool = False,
) -> LabelIssues:
    """Label issues of a dataset read in batches, identical to the in-memory result.

    Parameters
    ----------
    read_batches : callable
        Each call returns a fresh iterable over the dataset's batches, in the
        same order every time: ``(labels, pred_probs)`` or ``(labels,
        pred_probs, tokens)`` per batch, whole sentences each, in any form the
        other functions accept (a Ragged or Arrow list array is zero-copy); or
        ``(labels, pred_probs, tokens, ids)`` with ``tokens`` None or a column and
        ``ids`` a mapping of id column name to one value per sentence, carried into
        the result (:attr:`~spanfast.results.LabelIssues.sentence_ids`; every batch
        names the same columns). It is called once per pass (3 to 5 times).
    return_indices_ranked_by, filter_by, frac_noise, num_to_remove_per_class, min_examples_per_class
        As in :func:`spanfast.token_classification.filter.find_label_issues`.
    progress : callable, optional
        Called as ``progress(pass_number, n_passes, sentences_done)`` after each batch.
    ties : {"position", "numpy"}, default "position"
        As in :func:`spanfast.core.find_label_issues`. ``"numpy"`` sorts every class
        as cleanlab does, which needs the whole dataset's labels and probabilities in
        memory in the last pass (cleanlab's own memory), not one batch.
    token_score_method, sentence_score_method, temperature
        How ``sentence_scores`` are computed, as in :func:`spanfast.results.find_issues`
        (computed batch by batch in the last pass; bit-identical to the in-memory run).
    task : {None, "span", "token"}, optional
        ``"span"``: 2-D probabilities are ``(T, C)``, one independent probability per
        span class (labels as :func:`spanfast.span_classification.find_label_issues`
        takes them); the result is :func:`spanfast.results.find_issues`'s with
        ``task="span"`` (a ``span_class`` column, sentence scores ``(n, C)``). Each
        class runs as single-class span data on its column, so the batches are read
        once per pass per class. Otherwise 2-D probabilities are token data.
    low_memory : bool, default False
        As in :func:`spanfast.results.find_issues` (issues in position order), in four
        passes (five with ``ties="numpy"``); what a batch's pass keeps for the
        thresholds is :mod:`spanfast._low_memory`'s (per 10,000 tokens, K counts and
        thresholds; two fragments of under 10,000 tokens per batch).

    Returns
    -------
    LabelIssues
        Issue columns in rank order (``token_text`` filled when tokens were given),
        the sentence scores (one per sentence, kept in memory, as the ids are), and the
        id columns of every sentence when the batches carry them; no token scores
        (they are as large as the data).
    """
    if return_indices_ranked_by is None:
        raise InvalidOptionError("return_indices_ranked_by must name a score to rank by.")
    filter_options = dict(
        filter_by=filter_by,
        frac_noise=frac_noise,
        num_to_remove_per_class=num_to_remove_per_class,
        min_examples_per_class=min_examples_per_class,
    )
    check_filter_options(
        return_indices_ranked_by=return_indices_ranked_by,
        **filter_options,
        low_memory=low_memory,
        stacklevel=2,
    )
    if low_memory:
        check_rank_by(return_indices_ranked_by)
    check_ties(ties)
    check_sentence_score_method(sentence_score_method)
    check_score_options(token_score_method, False)
    span_task(task)
    if task == "span":
        options = dict(
            return_indices_ranked_by=return_indices_ranked_by, filter_by=filter_by,
            frac_noise=frac_noise, num_to_remove_per_class=num_to_remove_per_class,
            min_examples_per_class=min_examples_per_class, progress=progress, ties=ties,
            token_score_method=token_score_method, sentence_score_method=sentence_score_method,
            temperature=temperature, low_memory=low_memory,
        )  # fmt: skip
        n_classes = _span_class_batches.n_classes_of(read_batches)
        if n_classes is not None:  # else 1-D: single-class span data, run as it is
            return _several_span_classes(read_batches, n_classes, options)
    scoring = Scoring(token_score_method, sentence_score_method, temperature)
    if low_memory:
        plan = plans.low_memory_plan(return_indices_ranked_by, ties=ties)
    else:
        plan = plans.plan_for(**filter_options, ties=ties)
    run = _Run(read_batches, progress, n_passes=len(plan.passes), scoring=scoring)
    if isinstance(read_batches, ParquetBatches) and all(
        isinstance(step, CountClasses) for step in plan.passes[0].steps
    ):  # counting classes needs the labels only, once K and the dtype are known
        run.known_layout = read_batches.layout()
    state = plan.start()
    found = None
    for one_pass in plan.passes:
        merged = None
        for batch in run.batches():
            partial = run.verified(one_pass.step, batch, state)
            flagged = one_pass.flagged(partial)
            local = None if flagged is None else flagged.positions - batch.first_token
            if local is not None and local.shape[0]:
                if batch.tokens is None and run.has_tokens:  # every plan flags in its last pass
                    raise RuntimeError("a pass before the last flagged issues; tokens not read")
                found.add(details(batch, local, return_indices_ranked_by, with_text=run.has_tokens))
            merged = partial if merged is None else one_pass.merge(merged, partial)
        if merged is None:  # no tokens at all
            return empty_issues()
        one_pass.finish(merged, state)
        if found is None:  # pass 1 learnt the dataset's dtype
            found = Found(
                empty_columns(run.n_classes, run.span, run.dtype, return_indices_ranked_by)
            )
    return replace(
        found.select(state.positions, ties, ranked=not low_memory),
        sentence_scores=_concat_scores(run.sentence_scores),
        sentence_ids=concat_ids(run.ids, run.id_names or ()),
    )


def _several_span_classes(read_batches: Callable, C: int, options: dict) -> LabelIssues:
    """``task="span"`` with (T, C) probabilities: each class's column run as single-class
    span data (spanfast._span_class_batches), the results joined by class."""
    if C == 0:
        return empty_issues()
    found = [
        find_label_issues_in_batches(
            _span_class_batches.column_batches(read_batches, c, C), **options
        )
        for c in range(1, C + 1)
    ]
    return _span_class_batches.joined_by_class(found)


def _concat_scores(parts: list[np.ndarray]) -> np.ndarray:
    return np.concatenate(parts) if parts else np.empty(0)


def _labels_batch(
    labels: Any, first_sentence: int, n_classes: int, span: bool, dtype: np.dtype
) -> Checked:
    """A batch of labels alone, checked as :func:`check_batch` checks them (the same
    narrow label type and range check), for a pass that only counts classes. The
    probabilities are a zero-stride stand-in of the dataset's layout and the batch's
    dtype (its file's), never read: the next pass reads and checks the real ones."""
    try:
        with numbered_from(first_sentence):
            ragged = as_labels(labels)
            narrow, out_of_range = narrowed_labels(ragged, n_classes)
            if out_of_range:
                check_label_range(ragged, n_classes, span=span)
    except InvalidInputError as error:
        raise in_batch(error, first_sentence) from None
    shape = (ragged.n_tokens,) if span else (ragged.n_tokens, n_classes)
    return Checked(narrow, np.broadcast_to(np.zeros((), dtype), shape), ragged.offsets)


def _label_checksums(data: Checked) -> tuple[int, None, int]:
    """:func:`checksums` of a :func:`_labels_batch` (no probabilities read yet)."""
    return checksum(data.labels), None, checksum(data.offsets)


class _Run:
    """Reads and checks the batches of one run, numbering sentences and tokens globally.

    Pass 1 learns the layout (classes, span or token data), the dtype of the whole
    dataset (float64 if any batch with tokens is: as NumPy concatenates) and a checksum
    of each batch; later passes verify every batch against it and promote float32 batches.
    """

    def __init__(self, read_batches, progress, n_passes: int, scoring: Scoring) -> None:
        self._read = read_batches
        self._scoring = scoring
        self.sentence_scores: list[np.ndarray] = []  # per batch, in the last pass
        self.ids: list[dict] = []  # per batch, in the last pass
        self.id_names: tuple | None = None
        self._progress = progress
        self.n_passes = n_passes
        self.pass_number = 0
        self.n_classes = None
        self.dtype = None
        self.span = None
        self.n_tokens = 0
        self.n_sentences = 0
        self.has_tokens = False
        self._checksums: list[tuple] = []  # per batch: (first sentence, labels, probs, offsets)
        self._checksum = None  # the pending checksum of the batch being read
        # (n_classes, span) from a Parquet reader's schemas: pass 1 reads labels only
        self.known_layout: tuple | None = None

    def batches(self) -> Iterator[TokenBatch]:
        self.pass_number += 1
        first_sentence = first_token = 0
        last_pass = self.pass_number == self.n_passes
        projected = isinstance(self._read, ParquetBatches)
        labels_only = self.pass_number == 1 and self.known_layout is not None
        batches = (
            self._read(last_pass=last_pass, labels_only=labels_only) if projected else self._read()
        )
        for index, raw in enumerate(batches):
            labels, pred_probs, *rest = raw
            tokens = rest[0] if rest else None
            ids = rest[1] if len(rest) > 1 else None
            if labels_only:  # pred_probs: the dtype of the batch's file
                data = _labels_batch(labels, first_sentence, *self.known_layout, pred_probs)
            else:
                data = check_batch(labels, pred_probs, tokens, first_sentence)
            self._check_consistent(data, first_sentence)
            # The checksum runs on a second core while the plan's step runs; kernels
            # stay in bounds on changed data and verified() checks it before merging.
            sums = _label_checksums if labels_only else checksums
            self._checksum = (index, first_sentence, concurrently(None, sums, data))
            if projected:  # tokens and ids are read in the last pass only
                self.has_tokens = self._read.has_tokens
            elif first_sentence == 0 and self.pass_number == 1:
                self.has_tokens = tokens is not None
            elif self.has_tokens != (tokens is not None):
                raise InvalidInputError(
                    f"batches disagree on tokens: the batch starting at sentence {first_sentence} "
                    + ("has none" if tokens is None else "has them but earlier ones do not")
                )
            if data.n_tokens and self.pass_number > 1 and data.probs.dtype != self.dtype:
                data = data.promoted(self.dtype)
            if last_pass:
                self._keep_sentences(data, ids, first_sentence)
            if data.n_tokens == 0:  # nothing to count or flag; keep the sentence numbering
                self._verify()
                first_sentence += data.n_sentences
                continue
            yield TokenBatch(data, index, first_sentence, first_token, tokens=tokens)
            self._verify()  # in case the caller did not
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

    def _keep_sentences(self, data: Checked, ids: Any, first_sentence: int) -> None:
        """The sentence scores and ids of a batch of the last pass."""
        self.sentence_scores.append(
            self._scoring.sentence_scores(data, self.n_classes, self.span, self.dtype)
        )
        names = () if ids is None else tuple(ids)
        if self.id_names is None:
            self.id_names = names
        elif names != self.id_names:
            raise InvalidInputError(
                f"batches disagree on ids: the batch starting at sentence {first_sentence} "
                f"has {list(names)}, earlier ones {list(self.id_names)}",
                sentence=first_sentence,
            )
        if names:
            self.ids.append(batch_ids(ids, data.n_sentences, first_sentence))

    def verified(self, step: Callable, batch: TokenBatch, state: plans.State) -> Any:
        """``step(batch, state)`` of the batch just read, once its checksum matches pass 1's."""
        try:
            result = step(batch, state)
        except InvalidInputError:
            self._verify()  # a changed batch is the better explanation
            raise
        self._verify()
        return result

    def _verify(self) -> None:
        if self._checksum is None:
            return
        index, first_sentence, pending = self._checksum
        self._checksum = None
        sums = pending()
        if self.pass_number == 1:
            self._checksums.append((first_sentence, *sums))
            return
        if index >= len(self._checksums):
            raise InvalidInputError(
                f"the data changed between passes: pass {self.pass_number} has a batch {index} "
                f"(from sentence {first_sentence}); pass 1 read {len(self._checksums)} batches "
                "(a batched source must give the same batches on every pass)",
                sentence=first_sentence,
            )
        before = self._checksums[index]
        if before[2] is None:  # pass 1 read labels only: the probabilities' sum is pass 2's
            before = self._checksums[index] = (*before[:2], sums[1], before[3])
        error = changed_error(
            index, first_sentence, self.pass_number, self._checksums[index], (first_sentence, *sums)
        )
        if error is not None:
            raise error

    def _check_consistent(self, data: Checked, first_sentence: int) -> None:
        # As np.concatenate of the batches with tokens: one without has no dtype of its
        # own (an empty Python list reads as float64), as empty sentences in memory.
        if self.pass_number == 1 and data.n_tokens:
            dtype = data.probs.dtype
            self.dtype = dtype if self.dtype is None else np.promote_types(self.dtype, dtype)
        layout = batch_layout(data)
        if layout is None:
            return
        if self.n_classes is None:
            self.n_classes, self.span = layout
        error = layout_error(*layout, (self.n_classes, self.span), first_sentence)
        if error is not None:
            raise error


def find_label_issues_parquet(
    paths: str | os.PathLike | Sequence[str | os.PathLike],
    *,
    labels: str,
    probs: str,
    tokens: str | None = None,
    batch_size: int = 65_536,
    progress: Progress | None = None,
    id: str | Sequence[str] | None = None,
    file_and_row: bool | None = None,
    **options: Any,
) -> LabelIssues:
    """Label issues of Parquet data larger than memory, read in batches of sentences.

    Parameters
    ----------
    paths : path, or sequence of paths
        A .parquet (or .pq) file, a directory of them in any layout (nested,
        Hive-partitioned ``split=train/...``; files in sorted relative-path order, then
        row order: :mod:`spanfast._input.files`), or a list of files (in that order).
    labels, probs : str
        The list columns (one row per sentence) of labels and probabilities.
    tokens : str, optional
        The list column of token text (``token_text`` of the result).
    batch_size : int, default 65536
        Rows per batch.
    progress : callable, optional
        As in :func:`find_label_issues_in_batches`.
    id : str or list of str, optional
        Columns carried unchanged into every issue and sentence row (record identity;
        a null id is an error naming file and row, duplicates are carried as they are).
        A Hive partition key of a directory (``split``) is a column too.
    file_and_row : bool, optional
        Add the id columns ``file`` (the path relative to the directory given) and
        ``row_in_file``; by default when ``paths`` is a directory.
    **options
        The options of :func:`find_label_issues_in_batches`.

    Returns
    -------
    LabelIssues
        The same issues and sentence scores as :func:`spanfast.results.find_issues`
        on the whole data (rows in file order, then row order), with the id columns.

    Raises
    ------
    InvalidInputError
        For bad data, as the in-memory run raises it (``sentence`` counted over all the
        files); where a sentence is named, also with ``file`` (the path read: the
        directory joined with the file's relative path, or the path given) and ``row``
        (the sentence's row within that file).

    Notes
    -----
    Only the columns a pass needs are read: labels and probabilities in every pass,
    the tokens and id columns in the last one (the only pass that flags issues).
    """
    listing = list_parquet(paths)
    names = id_names(id)
    if file_and_row is None:
        file_and_row = listing.directory is not None
    reader = ParquetBatches(listing, (labels, probs, tokens), names, file_and_row, batch_size)
    rows_per_file = listing.check(reader.columns(last_pass=True))
    with listing.errors_located(rows_per_file):  # file and row of a global sentence
        issues = find_label_issues_in_batches(reader, progress=progress, **options)
    return reader.with_file_and_row(issues)
