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
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from . import _numpy_order, core, plans
from ._input.checked import Checked, check_tokens_aligned, labels_and_probabilities
from ._input.where import numbered_from
from ._kernels.checksum import checksum
from ._kernels.confident_joint import argmax_rows
from ._positions import order_by_score, sentence_and_token
from ._threads import concurrently
from .errors import InvalidInputError, InvalidOptionError
from .options import check_filter_options, check_ties
from .ragged import Ragged
from .results import COLUMNS, LabelIssues

# progress(pass_number, n_passes, sentences_done)
Progress = Callable[[int, int, int], None]


@dataclass(eq=False)
class _Batch(plans.Batch):
    tokens: Any = None


@dataclass
class _Found:
    """Per-token details of every token that may become an issue, in position order."""

    empty: dict  # an empty array of each column's dtype
    rank_by: str
    positions: list = field(default_factory=list)
    columns: dict = field(default_factory=lambda: {name: [] for name in COLUMNS})
    token_text: list = field(default_factory=list)

    def add(self, batch: _Batch, local: np.ndarray, *, with_text: bool) -> None:
        if local.shape[0] == 0:
            return
        data = batch.data
        self.positions.append(batch.first_token + local)
        sentence, token = sentence_and_token(data.offsets, local)
        self.columns["sentence"].append(batch.first_sentence + sentence)
        self.columns["token"].append(token)
        self.columns["score"].append(core._scores(data, self.rank_by, positions=local))
        self.columns["given_label"].append(data.labels[local].astype(np.int64))
        self.columns["predicted_label"].append(argmax_rows(data.probs, local))
        if with_text:
            self.token_text.append(_token_texts(batch.tokens, local))

    def select(self, positions: np.ndarray, ties: str = "position") -> LabelIssues:
        """The details of ``positions`` (sorted, all previously added), ranked by score
        (equal scores in position order, or as NumPy's default argsort puts them)."""
        rows = np.searchsorted(_concat(self.positions, np.int64), positions)
        columns = {
            name: np.concatenate([self.empty[name], *parts])[rows]
            for name, parts in self.columns.items()
        }
        rank = order_by_score if ties == "position" else _numpy_order.order_by_score
        order = rank(np.arange(rows.shape[0]), columns["score"])  # rows: in position order
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
    ties: str = "position",
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
    ties : {"position", "numpy"}, default "position"
        As in :func:`spanfast.core.find_label_issues`. ``"numpy"`` sorts every class
        as cleanlab does, which needs the whole dataset's labels and probabilities in
        memory in the last pass (cleanlab's own memory), not one batch.

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
    check_ties(ties)
    plan = plans.plan_for(
        filter_by,
        frac_noise=frac_noise,
        num_to_remove_per_class=num_to_remove_per_class,
        min_examples_per_class=min_examples_per_class,
        ties=ties,
    )
    run = _Run(read_batches, progress, n_passes=len(plan.passes))
    state = plan.start()
    found = None
    for one_pass in plan.passes:
        merged = None
        for batch in run.batches():
            partial = run.verified(one_pass.step, batch, state)
            flagged = one_pass.flagged(partial)
            if flagged is not None:
                found.add(batch, flagged.positions - batch.first_token, with_text=run.has_tokens)
            merged = partial if merged is None else one_pass.merge(merged, partial)
        if merged is None:  # no tokens at all
            return _empty_issues()
        one_pass.finish(merged, state)
        if found is None:  # pass 1 learnt the dataset's dtype
            found = _Found(run.empty_columns(return_indices_ranked_by), return_indices_ranked_by)
    return found.select(state.positions, ties)


def _empty_issues() -> LabelIssues:
    empty = np.empty(0, np.int64)
    return LabelIssues(empty, empty, np.empty(0), empty, empty)


class _Run:
    """Reads and checks the batches of one run, numbering sentences and tokens globally.

    Pass 1 learns the layout (classes, span or token data), the dtype of the whole
    dataset (float64 if any batch is: as NumPy concatenates) and a checksum of each
    batch; later passes verify every batch against it and promote float32 batches.
    """

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
        self._checksums: list[tuple] = []  # per batch: (first sentence, labels, probs, offsets)
        self._checksum = None  # the pending checksum of the batch being read

    def batches(self) -> Iterator[_Batch]:
        self.pass_number += 1
        first_sentence = first_token = 0
        for index, raw in enumerate(self._read()):
            labels, pred_probs, *rest = raw
            tokens = rest[0] if rest else None
            try:
                with numbered_from(first_sentence):
                    data = labels_and_probabilities(labels, pred_probs, span=None)
                    if tokens is not None:
                        check_tokens_aligned(_token_lengths(tokens), data.offsets)
            except InvalidInputError as error:
                raise _in_batch(error, first_sentence) from None
            self._check_consistent(data.probs, first_sentence)
            # The checksum runs on a second core while the plan's step runs; kernels
            # stay in bounds on changed data and verified() checks it before merging.
            self._checksum = (index, first_sentence, concurrently(None, _checksums, data))
            if first_sentence == 0 and self.pass_number == 1:
                self.has_tokens = tokens is not None
            elif self.has_tokens != (tokens is not None):
                raise InvalidInputError(
                    f"batches disagree on tokens: the batch starting at sentence {first_sentence} "
                    + ("has none" if tokens is None else "has them but earlier ones do not")
                )
            if data.n_tokens == 0:  # nothing to count or flag; keep the sentence numbering
                self._verify()
                first_sentence += data.n_sentences
                continue
            if self.pass_number > 1 and data.probs.dtype != self.dtype:
                data = data.promoted(self.dtype)
            yield _Batch(data, index, first_sentence, first_token, tokens=tokens)
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

    def verified(self, step: Callable, batch: _Batch, state: plans.State) -> Any:
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
        changed = [
            name for name, old, new in zip(_CHECKED, before, (first_sentence, *sums)) if old != new
        ]
        if changed:
            raise InvalidInputError(
                f"the data changed between passes: batch {index} (from sentence "
                f"{first_sentence}) has other {' and '.join(changed)} in pass "
                f"{self.pass_number} than in pass 1 (a batched source must give the same "
                "batches on every pass)",
                sentence=first_sentence,
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
        if self.pass_number == 1:  # as np.concatenate: empty batches count too
            self.dtype = (
                values.dtype if self.dtype is None else np.promote_types(self.dtype, values.dtype)
            )
        if values.shape[0] == 0:
            return
        span = values.ndim == 1
        n_classes = 2 if span else values.shape[1]
        if self.n_classes is None:
            self.n_classes, self.span = n_classes, span
        elif (n_classes, span) != (self.n_classes, self.span):
            raise InvalidInputError(
                f"pred_probs changes layout at sentence {first_sentence}: "
                f"{_layout(n_classes, span)} there, {_layout(self.n_classes, self.span)} before.",
                sentence=first_sentence,
            )


_CHECKED = ("first sentence", "labels", "probabilities", "sentence offsets")


def _in_batch(error: InvalidInputError, first_sentence: int) -> InvalidInputError:
    """An error about a whole batch (its layout, say) located at the batch's first sentence."""
    if error.sentence is None:
        error.sentence = first_sentence
        error.args = (f"{error} (the batch from sentence {first_sentence})",)
    return error


def _checksums(data: Checked) -> tuple[int, int, int]:
    return checksum(data.labels), checksum(data.probs), checksum(data.offsets)


def _layout(n_classes: int, span: bool) -> str:
    return "span probabilities (2 classes)" if span else f"{n_classes} class probabilities"


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

    Parameters
    ----------
    paths : path, or sequence of paths
        A .parquet file, a directory of them (read in name order), or a list of files.
    labels, probs : str
        The list columns (one row per sentence) of labels and probabilities.
    tokens : str, optional
        The list column of token text (``token_text`` of the result).
    batch_size : int, default 65536
        Rows per batch.
    progress : callable, optional
        As in :func:`find_label_issues_in_batches`.
    **options
        The options of :func:`find_label_issues_in_batches`.

    Returns
    -------
    LabelIssues
        The same issues as :func:`spanfast.results.find_issues` on the whole data.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    files = _parquet_files(paths)
    columns = [labels, probs] + ([tokens] if tokens else [])

    def read_batches() -> Iterator[tuple]:
        for path in files:
            try:
                parquet_file = pq.ParquetFile(path)
                missing = [c for c in columns if c not in parquet_file.schema_arrow.names]
                if missing:
                    raise InvalidInputError(
                        f"{path}: no column {missing[0]!r}", field=missing[0], file=path
                    )
                record_batches = parquet_file.iter_batches(batch_size=batch_size, columns=columns)
                for record_batch in record_batches:
                    batch = [record_batch.column(labels), record_batch.column(probs)]
                    if tokens:
                        batch.append(record_batch.column(tokens))
                    yield tuple(batch)
            except (OSError, pa.ArrowException) as error:  # a damaged file: say which
                raise InvalidInputError(
                    f"{path}: cannot read as Parquet: {error}", file=path
                ) from error

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
