"""The tasks of :mod:`spanfast.dask` that run on the workers: one partition's pass.

``first_pass`` checks a partition, counts its classes (pass 1 of every plan) and,
within the worker's budget, keeps the checked arrays for the later passes;
``later_pass`` runs one later pass's step on a partition (kept, or read and checked
again against pass 1's checksums) and returns its small partial state, the details
of its flagged tokens and, in the last pass, its sentence scores.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from ._batches import TokenBatch, batch_layout, changed_error, check_batch, checksums, details
from ._dask_job import Job, Sized
from ._dask_keep import keep_checked, kept, worker_address
from ._dask_parts import partition_columns, peek_key, warm_up_key, warmed
from ._dask_tasks import Recipe
from ._records import batch_ids
from ._scoring import token_scores
from ._span_class_batches import checked_column
from .errors import InvalidInputError
from .ragged import Ragged


def checked(partition: Any, job: Job, first_sentence: int, index: int) -> tuple:
    """A partition's checked data, tokens and ids, its sentences numbered from ``first_sentence``."""
    labels, probs, tokens, ids = partition_columns(partition, job.columns, index, job.ids)
    if job.span_class is not None:  # one class's column of several, as single-class data
        column = checked_column(labels, probs, first_sentence, *job.span_class)
        labels, probs = Ragged(column.labels, column.offsets), Ragged(column.probs, column.offsets)
    data = check_batch(labels, probs, tokens, first_sentence, job.span)
    if ids is not None:
        ids = batch_ids(ids, data.n_sentences, first_sentence)
    return data, tokens, ids


def first_pass(partition: Any, job: Job, index: int) -> Sized:
    if job.warm_up:
        return warmed(
            lambda: first_pass(partition, replace(job, warm_up=False), index),
            lambda sized: warm_up_key(*(sized.layout or (None, None)), sized.dtype),
            peek_key(partition, job.columns[1], job.span),
        )
    try:
        data, tokens, ids = checked(partition, job, 0, index)
    except InvalidInputError:  # its sentence numbers are local: the client asks again
        return Sized(0, failed=True)
    partial = None
    if data.n_tokens:
        # Pass 1 (class counts) reads no position: the partition is placed later.
        partial = job.plan.passes[0].step(TokenBatch(data, index, tokens=tokens), job.plan.start())
    is_kept = job.keep_bytes > 0 and keep_checked(job.run, index, data, tokens, ids, job.keep_bytes)
    return Sized(
        data.n_sentences,
        data.n_tokens,
        data.probs.dtype,
        batch_layout(data),
        checksums(data),
        partial,
        kept=is_kept,
        worker=worker_address() if is_kept else None,
    )


def later_pass(source: Any, shared: tuple, where: tuple) -> tuple:
    """(partial, flagged details, (sentence scores, ids) in the last pass) of a partition."""
    job, pass_number, dataset, state, class_thresholds = shared
    index, first_sentence, first_token, sums = where
    n_classes, span, dtype = dataset
    if job.warm_up:
        unwarmed = (replace(job, warm_up=False), pass_number, dataset, state, class_thresholds)
        return warmed(
            lambda: later_pass(source, unwarmed, where),
            lambda _: None,
            warm_up_key(n_classes, span, dtype),
        )
    entry = kept(job.run, index) if job.keep_bytes else None
    if entry is not None:  # the arrays pass 1 checked, here
        data, tokens, ids = entry
    else:
        partition = source.compute() if isinstance(source, Recipe) else source
        data, tokens, ids = checked(partition, job, first_sentence, index)
        error = changed_error(
            index,
            first_sentence,
            pass_number,
            (first_sentence, *sums),
            (first_sentence, *checksums(data)),
            what="partition",
            rule="a partition must be the same data each time it is computed",
        )
        if error is not None:
            raise error
    if data.n_tokens and data.probs.dtype != dtype:  # as np.concatenate: float64 if any is
        data = data.promoted(dtype)
    sentences = None
    if pass_number == len(job.plan.passes):
        sentences = (job.scoring.sentence_scores(data, n_classes, span, dtype), ids)
    if data.n_tokens == 0:
        return None, None, sentences
    batch = TokenBatch(data, index, first_sentence, first_token, tokens=tokens)
    one_pass = job.plan.passes[pass_number - 1]
    partial = one_pass.step(batch, state)
    flagged = one_pass.flagged(partial)
    local = None if flagged is None else flagged.positions - first_token
    if local is None or local.shape[0] == 0:
        return partial, None, sentences
    found = details(batch, local, job.rank_by, with_text=tokens is not None)
    if job.adjust_pred_probs:  # by the whole dataset's thresholds, as in memory
        found["score"] = token_scores(
            data.labels, data.probs, job.rank_by, class_thresholds=class_thresholds, positions=local
        )
    return partial, found, sentences
