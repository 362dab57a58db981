"""What every :mod:`spanfast.dask` task is given (the job) and what pass 1 gives back."""

from __future__ import annotations

import functools
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from . import plans
from ._batches import Scoring
from ._steps import ClassMeans


@dataclass(frozen=True)
class Job:
    """What every task needs to know: the plan's options, the columns, the scores."""

    filter_by: str
    frac_noise: float
    num_to_remove_per_class: tuple | None
    min_examples_per_class: int
    ties: str
    columns: tuple  # (labels, probs, tokens or None)
    span: bool | None
    rank_by: str
    ids: tuple = ()
    scoring: Scoring = Scoring()
    warm_up: bool = False  # a distributed.Client: warm each worker up under a lock
    run: str = ""  # names this run's kept partitions on the workers
    keep_bytes: int = 0
    joint: tuple | None = None  # a confident_joint given: (dtype, shape, values)
    adjust_pred_probs: bool = False  # rank_by_kwargs: scores by adjusted probabilities
    # task="span" with (T, C) probabilities: (span class 1..C, C) this run reads
    span_class: tuple | None = None
    # low_memory=True: the tokens per batch of its thresholds (the client's grid), else 0
    low_memory_batch_size: int = 0

    @property
    def plan(self) -> plans.Plan:
        return plan_of(self)


@functools.lru_cache(maxsize=16)
def plan_of(job: Job) -> plans.Plan:
    # Plans hold closures (not picklable): each process builds its own from the options.
    if job.low_memory_batch_size:
        return plans.low_memory_plan(
            job.rank_by, ties=job.ties, batch_size=job.low_memory_batch_size
        )
    plan = plans.plan_for(
        job.filter_by,
        frac_noise=job.frac_noise,
        num_to_remove_per_class=job.num_to_remove_per_class,
        min_examples_per_class=job.min_examples_per_class,
        confident_joint=thawed_joint(job.joint),
        ties=job.ties,
    )
    steps = [step for one_pass in plan.passes for step in one_pass.steps]
    if job.adjust_pred_probs and not any(isinstance(s, ClassMeans) for s in steps):
        # The adjusted scores need the class thresholds: one more pass makes them.
        passes = (plan.passes[0], plans.Pass((ClassMeans(),)), *plan.passes[1:])
        plan = replace(plan, passes=passes)
    return plan


def frozen_joint(joint: Any) -> tuple | None:
    """A confident joint as a hashable value of the job (checked once K is known)."""
    if joint is None:
        return None
    joint = np.asarray(joint)
    return joint.dtype.str, joint.shape, tuple(joint.reshape(-1).tolist())


def thawed_joint(frozen: tuple | None) -> np.ndarray | None:
    if frozen is None:
        return None
    dtype, shape, values = frozen
    return np.array(values, dtype=dtype).reshape(shape)


@dataclass(frozen=True)
class Sized:
    """Pass 1 of a partition: its size, layout, dtype, checksums and step's partial."""

    n_sentences: int
    n_tokens: int = 0
    dtype: Any = None
    layout: tuple | None = None
    sums: tuple = ()
    partial: Any = None
    failed: bool = False  # its check failed; run again, numbered, to raise the error
    kept: bool = False  # its checked arrays are kept by the worker that read it
    worker: str | None = None  # that worker's address (on a distributed.Client)
