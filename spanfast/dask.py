"""Label issues of a dataset on a Dask cluster, identical to the in-memory result.

The plan of a ``filter_by`` method (:mod:`spanfast.plans`) runs pass by pass:
every partition's step runs where the partition is (a worker), the partials
come back to the client, which merges them in partition order and finishes
the pass; the small state it makes goes out again with the next pass's tasks.
Because steps are pure functions of (partition, state) and merges are exact,
the result is :func:`spanfast.results.find_issues` on the whole data, bit for
bit, whatever the partitioning, the workers and the order tasks finish in.

What travels back per partition: its counts, its part of each class's
pairwise-sum tree, the K x K joint counts, bucket histograms, and its flagged
tokens with their details (score, labels, token text) — never its tokens.
Pass 1 also gives each partition's size, layout and checksum; later passes
place a partition by the sizes of those before it and check that it is the
partition pass 1 read (a recomputed partition must be the same data).

Each worker keeps the checked arrays of the partitions it read in pass 1, up to
``keep_bytes`` (:mod:`spanfast._dask_keep`), and the later passes of a kept
partition run there; any other partition is computed again from its graph
(``dd.read_parquet``: read again) and checked against pass 1.
``import spanfast`` does not import this module or Dask.

Examples
--------
>>> import dask.dataframe as dd, pandas as pd, pyarrow as pa
>>> from spanfast.dask import find_issues
>>> table = pa.table({"labels": [[0, 0, 1, 1], [1, 1, 0]],
...                   "probs": [[0.9, 0.9, 0.9, 0.1], [0.1, 0.1, 0.9]]})
>>> frame = dd.from_pandas(table.to_pandas(types_mapper=pd.ArrowDtype), npartitions=2)
>>> find_issues(frame, scheduler="synchronous").to_tuples()
[(0, 0), (0, 1), (0, 3), (1, 0), (1, 1)]
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from . import _low_memory, plans
from ._batches import (
    Found,
    Scoring,
    empty_columns,
    empty_issues,
    layout_error,
)
from ._counts import thresholds_from_means
from ._dask_job import Job, Sized, frozen_joint, thawed_joint
from ._dask_keep import DEFAULT_KEEP_BYTES
from ._dask_parts import (
    ParquetParts,
    is_client,
    parquet_files,
    partition_columns,
    partitions_of,
    read_parquet_file,
)
from ._dask_tasks import Recipe, counter, forget_everywhere, run_tasks
from ._dask_work import checked, first_pass, later_pass
from ._records import FILE, ROW_IN_FILE, concat_ids, file_and_row, id_names
from ._scoring import token_scores
from ._span_class_batches import joined_by_class, n_span_classes
from ._steps import ClassMeans
from .errors import InvalidInputError, InvalidOptionError
from .options import (
    DEFAULT_TEMPERATURE,
    check_confident_joint,
    check_filter_options,
    check_rank_by_kwargs,
    check_score_options,
    check_sentence_score_method,
    check_ties,
    span_task,
)
from .results import LabelIssues

__all__ = ["find_issues", "find_issues_parquet"]


def find_issues(
    data: Any,
    labels: str = "labels",
    probs: str = "probs",
    tokens: str | None = None,
    *,
    id: str | Sequence[str] | None = None,
    task: str | None = None,
    span: bool | None = None,
    return_indices_ranked_by: str = "self_confidence",
    rank_by_kwargs: dict | None = None,
    filter_by: str = "prune_by_noise_rate",
    frac_noise: float = 1.0,
    num_to_remove_per_class: Sequence[int] | None = None,
    min_examples_per_class: int = 1,
    confident_joint: Any = None,
    ties: str = "position",
    token_score_method: str = "self_confidence",
    sentence_score_method: str = "min",
    temperature: float = DEFAULT_TEMPERATURE,
    scheduler: Any = None,
    keep_bytes: int = DEFAULT_KEEP_BYTES,
    progress: Any = None,
    low_memory: bool = False,
) -> LabelIssues:
    """Label issues of a Dask collection, identical to the in-memory result.

    Parameters
    ----------
    data : dask DataFrame, dask Bag, or list of dask.delayed
        One row per sentence, in dataset order (partition order, then row order):
        a DataFrame with list columns (``dd.read_parquet(path, dtype_backend="pyarrow")``,
        ``dd.from_pandas``); a Bag of records (dicts with the columns) or of tables; or
        a list of delayed pyarrow Tables / RecordBatches / pandas DataFrames / dicts
        of columns.
    labels, probs : str
        The columns of per-token labels and probabilities.
    tokens : str, optional
        The column of token text (``token_text`` of the result).
    id : str or list of str, optional
        Columns carried unchanged into every issue and sentence row (record identity:
        each partition's come back to the client, one value per sentence; a null is an
        error naming the sentence, duplicates are carried as they are).
    task : {None, "span", "token"}
        ``"span"``: one probability per token; ``"token"``: K per token; None: read
        from the data.
    span : bool, optional
        The former name of ``task``, as in :func:`spanfast.results.find_issues`.
    return_indices_ranked_by, rank_by_kwargs, filter_by, frac_noise, \
num_to_remove_per_class, min_examples_per_class, confident_joint, ties
        As in :func:`spanfast.results.find_issues` (a ``confident_joint`` given skips the
        passes that count it).
    token_score_method, sentence_score_method, temperature
        How ``sentence_scores`` are computed, as in :func:`spanfast.results.find_issues`
        (per partition in the last pass; bit-identical to the in-memory run).
    scheduler : optional
        A ``distributed.Client`` or a scheduler for ``dask.compute`` (e.g.
        ``"synchronous"``); default: Dask's (the distributed client, when there is one).
    keep_bytes : int, default 384 MiB
        Bytes of checked partitions (labels, probabilities, offsets, tokens, ids) each
        worker process keeps between passes; 0 reads every partition in every pass.
        Either way the result is the same.
    progress : callable, optional
        Called on the client as ``progress(pass_number, n_passes, sentences_done)``
        (as :func:`spanfast.streaming.find_label_issues_in_batches` calls it) when a
        partition's task finishes (on a ``distributed.Client``) or a pass ends.
    low_memory : bool, default False
        As in :func:`spanfast.results.find_issues` (issues in position order); what
        travels back per partition for its thresholds: K counts and thresholds per
        10,000 tokens and two fragments of under 10,000 tokens (:mod:`spanfast._low_memory`).

    Returns
    -------
    LabelIssues
        The issue columns of :func:`spanfast.results.find_issues` on the whole data,
        in its order, with global sentence numbers (``token_text`` when ``tokens``),
        the sentence scores and the id columns of every sentence.
    """
    if return_indices_ranked_by is None:
        raise InvalidOptionError("return_indices_ranked_by must name a score to rank by.")
    span = span_task(task, span)
    check_filter_options(
        filter_by=filter_by,
        return_indices_ranked_by=return_indices_ranked_by,
        frac_noise=frac_noise,
        num_to_remove_per_class=num_to_remove_per_class,
        confident_joint=confident_joint,
        low_memory=low_memory,
        rank_by_kwargs=rank_by_kwargs,
        min_examples_per_class=min_examples_per_class,
        stacklevel=2,
    )
    if low_memory:  # the filter options are not used (warned), as in memory
        filter_by, rank_by_kwargs, confident_joint = "low_memory", None, None
    check_ties(ties)
    adjust_pred_probs = check_rank_by_kwargs(dict(rank_by_kwargs or {}))
    check_score_options(return_indices_ranked_by, adjust_pred_probs)
    check_sentence_score_method(sentence_score_method)
    check_score_options(token_score_method, False)
    job = Job(
        filter_by=filter_by,
        frac_noise=frac_noise,
        num_to_remove_per_class=(
            None if num_to_remove_per_class is None else tuple(num_to_remove_per_class)
        ),
        min_examples_per_class=min_examples_per_class,
        ties=ties,
        columns=(labels, probs, tokens),
        span=span,
        rank_by=return_indices_ranked_by,
        # confident_learning counts its own joint, whatever the caller gives (as in memory)
        joint=None if filter_by == "confident_learning" else frozen_joint(confident_joint),
        ids=id_names(id),
        scoring=Scoring(token_score_method, sentence_score_method, temperature),
        warm_up=is_client(scheduler),
        run=uuid.uuid4().hex,
        keep_bytes=int(keep_bytes),
        adjust_pred_probs=adjust_pred_probs,
        low_memory_batch_size=_low_memory.BATCH_TOKENS if low_memory else 0,
    )
    lists = [c for c in job.columns if c]
    files = getattr(data, "files", None)  # find_issues_parquet's: file, row_in_file
    partitions = partitions_of(data, lists, list(job.ids))

    def run(job: Job) -> LabelIssues:
        try:
            return _Runner(job, partitions, scheduler, progress, files).run()
        finally:
            if job.keep_bytes:
                forget_everywhere(scheduler, job.run)

    C = (
        n_span_classes(partitions, partition_columns, job.columns, scheduler)
        if task == "span"
        else None
    )
    if not C:
        return run(job)
    # (T, C) span probabilities: each class's column a single-class run, joined by class
    classes = [replace(job, span_class=(c, C), run=f"{job.run}-{c}") for c in range(1, C + 1)]
    return joined_by_class([run(one) for one in classes])


def find_issues_parquet(
    paths: Any,
    labels: str,
    probs: str,
    tokens: str | None = None,
    *,
    file_and_row: bool | None = None,
    scheduler: Any = None,
    **options: Any,
) -> LabelIssues:
    """Label issues of Parquet files on Dask, identical to the streaming result.

    Parameters
    ----------
    paths : path, or sequence of paths
        A .parquet file, a directory of them (read in name order), or a list of files;
        each file is one partition, read on a worker.
    labels, probs, tokens : str
        The list columns, as in :func:`find_issues`.
    file_and_row : bool, optional
        Add the id columns ``file`` (relative to the directory) and ``row_in_file``;
        by default when ``paths`` is a directory.
    scheduler : optional
        As in :func:`find_issues`.
    **options
        The other options of :func:`find_issues` (``id``, ``filter_by``, ...).

    Returns
    -------
    LabelIssues
        The result of :func:`spanfast.streaming.find_label_issues_parquet` on the same
        files, in every column, dtype and order.

    Raises
    ------
    InvalidInputError
        As :func:`spanfast.streaming.find_label_issues_parquet` raises it: ``sentence``
        global, and ``file`` and ``row`` (within the file) where a sentence is named.

    Examples
    --------
    >>> import os, tempfile, pyarrow as pa, pyarrow.parquet as pq
    >>> directory = tempfile.mkdtemp()
    >>> pq.write_table(pa.table({"labels": [[0, 0, 1, 1], [1, 1, 0]],
    ...     "probs": [[0.9, 0.9, 0.9, 0.1], [0.1, 0.1, 0.9]]}),
    ...     os.path.join(directory, "a.parquet"))
    >>> issues = find_issues_parquet(directory, "labels", "probs", scheduler="synchronous")
    >>> issues.to_tuples(), set(issues.to_dict()["file"])
    ([(0, 0), (0, 1), (0, 3), (1, 0), (1, 1)], {'a.parquet'})
    """
    import dask

    listing, relative = parquet_files(paths, file_and_row)
    columns = (labels, probs, tokens, *id_names(options.get("id")))
    parts = ParquetParts(
        dask.delayed(read_parquet_file)(path, [c for c in columns if c]) for path in listing.files
    )
    parts.files = None if relative[0] is None else relative
    with listing.errors_located():  # file and row of a global sentence (one file a partition)
        return find_issues(parts, labels, probs, tokens, scheduler=scheduler, **options)


class _Runner:
    def __init__(
        self, job: Job, partitions: list, scheduler: Any, progress=None, files=None
    ) -> None:
        self.job, self.partitions, self.scheduler = job, partitions, scheduler
        self.progress, self.files = progress, files
        self.id_names = job.ids + ((FILE, ROW_IN_FILE) if files is not None else ())

    def _compute(self, tasks: list) -> tuple:
        import dask

        return dask.compute(*tasks, scheduler=self.scheduler) if tasks else ()

    def run(self) -> LabelIssues:
        states = list(self.passes())
        if not states:
            return empty_issues()
        return replace(
            self.found.select(
                states[-1].positions, self.job.ties, ranked=not self.job.low_memory_batch_size
            ),
            sentence_scores=np.concatenate(self.sentence_scores),
            sentence_ids=concat_ids(self.ids, self.id_names),
        )

    def passes(self) -> Iterator[plans.State]:
        """The state after each pass (none for a dataset without tokens); the flagged
        tokens' details go to ``self.found``."""
        job, plan = self.job, self.job.plan
        n_passes = len(plan.passes)
        sized = run_tasks(
            self.scheduler,
            first_pass,
            self.partitions,
            [(i,) for i in range(len(self.partitions))],
            job,
            done=counter(self.progress, 1, n_passes, lambda _, result: result.n_sentences),
        )
        first_sentences = np.concatenate([[0], np.cumsum([s.n_sentences for s in sized])])
        first_tokens = np.concatenate([[0], np.cumsum([s.n_tokens for s in sized])])
        n_classes, span, dtype = self._check_sized(sized, first_sentences)
        if job.joint is not None and n_classes is not None:  # as in memory, once K is known
            check_confident_joint(thawed_joint(job.joint), n_classes)
        state = plan.start()
        merged = _merge_in_order(plan.passes[0], [s.partial for s in sized if s.n_tokens])
        if merged is None:  # no tokens at all
            return
        plan.passes[0].finish(merged, state)
        self.found = Found(empty_columns(n_classes, span, dtype, job.rank_by))
        empty_probs = np.empty((0,) if span else (0, n_classes), dtype)
        yield state
        where = [
            ((i, int(first_sentences[i]), int(first_tokens[i]), s.sums),)
            for i, s in enumerate(sized)
        ]
        # A kept partition's task goes to the worker keeping it, with its graph as a
        # fallback; any other partition is computed again, where Dask decides.
        sources = [Recipe(p) if s.kept else p for p, s in zip(self.partitions, sized)]
        workers = [s.worker if s.kept else None for s in sized]
        dataset = (n_classes, span, dtype)
        class_thresholds = None
        self.sentence_scores: list = []
        self.ids: list = []
        for pass_number, one_pass in enumerate(plan.passes[1:], start=2):
            results = run_tasks(
                self.scheduler,
                later_pass,
                sources,
                where,
                (job, pass_number, dataset, state, class_thresholds),
                workers,
                done=counter(
                    self.progress, pass_number, n_passes, lambda i, _: sized[i].n_sentences
                ),
            )
            partials = []
            for index, result in enumerate(results):  # in partition order, as always
                partial, flagged, sentences = result
                if partial is not None:
                    partials.append(partial)
                if flagged is not None:
                    self.found.add(flagged)
                if sentences is not None:
                    self.sentence_scores.append(sentences[0])
                    if self.id_names:
                        self.ids.append(self._ids(index, sentences[1], sized[index]))
            merged = _merge_in_order(one_pass, partials)
            if isinstance(one_pass.steps[0], ClassMeans):  # for adjust_pred_probs' scores
                class_thresholds = thresholds_from_means(merged[0].means(), state.counts)
                if job.adjust_pred_probs:  # the scores' dtype follows the thresholds'
                    self.found.empty["score"] = token_scores(
                        np.empty(0, np.int8),
                        empty_probs,
                        job.rank_by,
                        class_thresholds=class_thresholds,
                    )
            one_pass.finish(merged, state)
            yield state

    def _ids(self, index: int, ids: dict | None, sized: Sized) -> dict:
        """A partition's id columns: its own, then its file and rows (as streaming's)."""
        ids = dict(ids or {})
        if self.files is not None:
            ids.update(file_and_row(self.files[index], sized.n_sentences, 0))
        return ids

    def _check_sized(self, sized: tuple, first_sentences: np.ndarray) -> tuple:
        """The dataset's layout and dtype; the first bad partition's error, raised."""
        import dask

        layout = dtype = None
        for index, part in enumerate(sized):
            first = int(first_sentences[index])
            if part.failed:  # its error again, now with global sentence numbers
                self._compute(
                    [dask.delayed(checked)(self.partitions[index], self.job, first, index)]
                )
                raise InvalidInputError(  # pragma: no cover - the check passed this time
                    f"partition {index} (from sentence {first}) failed its check once "
                    "and passed it when recomputed: its data is not deterministic"
                )
            if part.n_tokens:  # as the streaming runner: only partitions with tokens
                dtype = part.dtype if dtype is None else np.promote_types(dtype, part.dtype)
            if part.layout is None:
                continue
            layout = part.layout if layout is None else layout
            error = layout_error(*part.layout, layout, first)
            if error is not None:
                raise error
        n_classes, span = layout if layout is not None else (None, None)
        return n_classes, span, dtype


def _merge_in_order(one_pass: plans.Pass, partials: list) -> Any:
    """The partials of consecutive partitions merged left to right (None if none)."""
    merged = None
    for partial in partials:
        merged = partial if merged is None else one_pass.merge(merged, partial)
    return merged
