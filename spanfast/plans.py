"""One plan per ``filter_by`` method: the passes over the data, their states, the cuts.

cleanlab's ``filter.find_label_issues`` is, for every ``filter_by``, a few
passes over the tokens, each reducing them to a small state: class counts,
class means, the K x K confident joint, bucket counts of top-k cuts, flagged
tokens. A :class:`Plan` lists those passes once. Each pass is one or more
steps; a step has

- ``step(batch, state) -> partial``: a pure function of one :class:`Batch`
  (checked data and where it starts in the dataset) and the :class:`State`
  made by the earlier passes;
- ``merge(earlier, later) -> partial``: joins the partials of adjacent runs of
  batches, exactly and associatively (any grouping, same result);
- ``finish(merged, state)``: turns the whole dataset's partial into state
  (thresholds, cuts) for the next passes, or into the result.

Runners execute plans: :func:`run_in_memory` (one batch, the whole data, with
its two-core fast paths) here, the streaming runner in
:mod:`spanfast.streaming` (batches from a re-readable source), and any engine
that can call ``step`` on partitions and ``merge`` the partials in partition
order. The answer is the same, bit for bit, whatever the batching.

The passes (``T`` tokens, ``K`` classes):

=====================  =========================================================
filter_by              passes (each: what a batch's step gives -> what finish makes)
=====================  =========================================================
predicted_neq_given    counts; flag argmax != label
confident_learning     counts; class sums -> thresholds; joint + flag off-diagonal
low_self_confidence,   counts; class sums -> thresholds; joint issue count +
low_normalized_margin  score buckets -> the score cut; split -> issues
prune_by_noise_rate,   counts; class sums -> thresholds; joint -> prune counts
prune_by_class, both   -> cuts; cut buckets -> boundaries; split -> issues
low_memory             counts; grid batch means -> thresholds (cleanlab's batched
                       fold); confident disagreements + score buckets -> the
                       score cut; split -> issues, less matching predictions
=====================  =========================================================

(``counts``: class counts per batch -> the 2-class check and each batch's
first value of every class; a ``confident_joint`` given by the caller skips
the class sums and joint passes of the prune filters; ``low_memory=True``'s plan is
:func:`low_memory_plan`'s, whatever the ``filter_by``.) Every flagging pass
ends with cleanlab's ``_reduce_issues`` except the ``low_*`` filters'.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from . import _class_sums, _counts
from . import _low_memory as low
from ._cuts import Cuts, restricted_noise_rate
from ._input.checked import Checked
from ._kernels import selection
from ._steps import (
    Batch,
    ClassMeans,
    ConfidentJoint,
    CountClasses,
    CountCuts,
    FlagFound,
    Flagged,
    JointCounts,
    NumpyOrderCuts,
    PredictedNeqGiven,
    SplitCuts,
    State,
    _GivenJoint,
)
from ._threads import concurrently, in_blocks, thread_count
from .options import LOW_SCORE_FILTERS, PRUNE_FILTERS

__all__ = [
    "BLOCK_TOKENS",
    "Batch",
    "Flagged",
    "Head",
    "Pass",
    "Plan",
    "State",
    "low_memory_plan",
    "plan_for",
    "run_in_memory",
    "token_blocks",
]


# ---------------------------------------------------------------------------------------
# Plans


@dataclass(frozen=True)
class Pass:
    """One read of the data: its steps run on each batch, side by side."""

    steps: tuple

    def step(self, batch: Batch, state: State) -> tuple:
        return tuple(step.step(batch, state) for step in self.steps)

    def merge(self, earlier: tuple, later: tuple) -> tuple:
        return tuple(step.merge(a, b) for step, a, b in zip(self.steps, earlier, later))

    def finish(self, merged: tuple, state: State) -> None:
        for step, partial in zip(self.steps, merged):
            step.finish(partial, state)

    def flagged(self, partial: tuple) -> Flagged | None:
        """The batch's tokens that may become issues, if this pass flags any."""
        for step, part in zip(self.steps, partial):
            flagged = step.flagged(part)
            if flagged is not None:
                return flagged
        return None


@dataclass(frozen=True)
class Plan:
    """The passes of one ``filter_by`` method; ``start()`` gives the empty state."""

    filter_by: str
    passes: tuple
    confident_joint: np.ndarray | None = None
    ties: str = "position"

    def start(self) -> State:
        return State(confident_joint=self.confident_joint, ties=self.ties)

    @property
    def uses_noise_rate_candidates(self) -> bool:
        return uses_noise_rate_candidates(self.filter_by, self.ties)


def uses_noise_rate_candidates(filter_by: str, ties: str) -> bool:
    """Does the plan of ``filter_by`` read :func:`selection.noise_rate_candidates`?"""
    return filter_by in ("prune_by_noise_rate", "both") and ties == "position"


def starts_with_class_sums(filter_by: str, confident_joint: Any = None) -> bool:
    """Does the plan of ``filter_by`` start with the class counts and the class sums (what
    a :class:`Head` holds)? Not ``predicted_neq_given``, nor with a given joint."""
    return filter_by != "predicted_neq_given" and confident_joint is None


def plan_for(
    filter_by: str,
    *,
    frac_noise: float = 1.0,
    num_to_remove_per_class: Sequence[int] | None = None,
    min_examples_per_class: int = 1,
    confident_joint: np.ndarray | None = None,
    ties: str = "position",
) -> Plan:
    """The plan of ``filter_by`` with checked options (``confident_joint``: K x K or None).

    ``ties="numpy"``: the cuts are cleanlab's NumPy argsorts over whole classes
    (:class:`NumpyOrderCuts`, one pass that keeps the data it is given), and the
    count rounding is cleanlab's too.

    Examples
    --------
    >>> from spanfast.plans import plan_for
    >>> len(plan_for("prune_by_noise_rate").passes), len(plan_for("predicted_neq_given").passes)
    (5, 2)
    """
    counts, means = Pass((CountClasses(),)), Pass((ClassMeans(),))
    if filter_by == "predicted_neq_given":
        return Plan(filter_by, (counts, Pass((PredictedNeqGiven(),))))
    if filter_by == "confident_learning":
        return Plan(filter_by, (counts, means, Pass((ConfidentJoint(flag=True),))))
    if filter_by in LOW_SCORE_FILTERS:
        score = LOW_SCORE_FILTERS[filter_by]
        if ties == "numpy":
            joint = Pass((ConfidentJoint(count_issues=True),))
            cut = Pass((NumpyOrderCuts(reduce=False, score=score),))
            return Plan(filter_by, (counts, means, joint, cut, _FLAG_FOUND), ties=ties)
        joint = Pass((ConfidentJoint(count_issues=True), CountCuts(score)))
        return Plan(
            filter_by, (counts, means, joint, Pass((SplitCuts(reduce=False, score=score),)))
        )
    if filter_by not in PRUNE_FILTERS:
        raise ValueError(f"no plan for filter_by={filter_by!r}")

    def make_cuts(joint: np.ndarray, state: State) -> None:
        pruned = _counts.prune_counts(
            joint,
            state.counts,
            min_examples_per_class,
            frac_noise,
            num_to_remove_per_class,
            state.ties,
        )
        applied = _counts.applied_classes(state.counts, min_examples_per_class, filter_by)
        if state.ties == "numpy":
            if filter_by in ("prune_by_class", "both"):
                state.numpy_cuts["class"] = (state.counts - np.diagonal(pruned), applied)
            if filter_by in ("prune_by_noise_rate", "both"):
                state.numpy_cuts["noise_rate"] = (pruned, applied)
            return
        state.cuts = []
        if filter_by in ("prune_by_class", "both"):
            n_to_prune = state.counts - np.diagonal(pruned)
            state.cuts.append(Cuts.by_class(n_to_prune, state.counts, applied))
        if filter_by in ("prune_by_noise_rate", "both"):
            cuts = Cuts.noise_rate(pruned, state.counts, applied)
            if state.noise_rate_candidates is not None:
                cuts = restricted_noise_rate(cuts, state.noise_rate_candidates()) or cuts
            state.cuts.append(cuts)

    if ties == "numpy":
        cut_passes = (Pass((NumpyOrderCuts(reduce=True),)), _FLAG_FOUND)
    else:
        cut_passes = (Pass((CountCuts(),)), Pass((SplitCuts(reduce=True),)))
    if confident_joint is not None:
        given = _GivenJoint(make_cuts)
        passes = (Pass((CountClasses(), given)), *cut_passes)
        return Plan(filter_by, passes, confident_joint, ties)
    joint = Pass((ConfidentJoint(then=make_cuts),))
    return Plan(filter_by, (counts, means, joint, *cut_passes), ties=ties)


_FLAG_FOUND = Pass((FlagFound(),))


def low_memory_plan(method: str, *, ties: str = "position", batch_size: int | None = None) -> Plan:
    """The plan of cleanlab's ``low_memory=True`` (``find_label_issues_batched``).

    Passes: counts; grid batch thresholds (:mod:`spanfast._low_memory`); confident
    disagreements + score buckets; split, less the predictions that match the label.

    Parameters
    ----------
    method : str
        The token score whose lowest values are the issues (``return_indices_ranked_by``).
    ties : {"position", "numpy"}, default "position"
        As in :func:`spanfast.core.find_label_issues`.
    batch_size : int, optional
        Tokens per batch of the thresholds' grid (default 10,000, cleanlab's).

    Returns
    -------
    Plan
        Its result, ``state.positions``, is in position order.

    Examples
    --------
    >>> from spanfast.plans import low_memory_plan
    >>> len(low_memory_plan("self_confidence").passes)
    4
    """
    grid = low.BATCH_TOKENS if batch_size is None else batch_size
    means = Pass((low.LowMemoryThresholds(grid),))
    first = (Pass((low.LowMemoryCounts(),)), means)
    if ties == "numpy":
        count = Pass((low.ConfidentDisagreements(),))
        cut = Pass((NumpyOrderCuts(reduce=False, score=method),))
        return Plan("low_memory", (*first, count, cut, Pass((low.FlagDisagreeing(),))), ties=ties)
    count = Pass((low.ConfidentDisagreements(), CountCuts(method)))
    return Plan("low_memory", (*first, count, Pass((SplitCuts(reduce=True, score=method),))))


# ---------------------------------------------------------------------------------------
# The in-memory runner


# Tokens per block of a blockwise step. Fixed, so that the blocks, and so every
# partial result, do not depend on the thread count. Each block costs a little
# (its own cut buffers, merges): at 1M tokens, K = 9, one thread, 2^18 costs 1-3 ms
# over one block (2-5 %), 2^17 about 5 ms.
BLOCK_TOKENS = 1 << 18


def token_blocks(batch: Batch, block_tokens: int | None = None) -> list[Batch]:
    """``batch`` cut into blocks of ``block_tokens`` tokens (the last one shorter)."""
    size = block_tokens or BLOCK_TOKENS
    T = batch.n_tokens
    return [batch.block(start, min(start + size, T)) for start in range(0, T, size)] or [batch]


@dataclass(frozen=True, eq=False)
class Head:
    """What the first read of a dataset gives every plan that starts with the class
    counts and the class sums (all but ``predicted_neq_given``, a given confident joint
    and ``low_memory``), read ahead of the plan: while a list input was still being
    converted (:mod:`spanfast._read_ahead`) or by two cores at once
    (:mod:`spanfast._span_head`). The whole dataset's class counts, its class sums, and
    :func:`selection.noise_rate_candidates` of it (or None: not read); ``joint``: the
    confident joint's raw counts ``[guess, given]`` too (or None: not counted), for
    the plans whose third pass is the joint alone."""

    counts: np.ndarray
    class_sums: _class_sums.ClassSums
    noise_rate_candidates: tuple | None = None
    joint: np.ndarray | None = None

    def fits(self, plan: Plan) -> bool:
        """Does ``plan`` start with the passes this head has done?"""
        steps = [one_pass.steps for one_pass in plan.passes[: self._n_passes]]
        kinds = [[type(step) for step in one_pass] for one_pass in steps]
        if kinds[:2] != [[CountClasses], [ClassMeans]]:
            return False
        if self.joint is None:
            return True
        joint = steps[2][0] if kinds[2:] == [[ConfidentJoint]] else None
        return joint is not None and not (joint.flag or joint.count_issues)

    @property
    def _n_passes(self) -> int:
        return 2 if self.joint is None else 3

    def start(self, plan: Plan, batch: Batch, state: State) -> tuple:
        """Finish the plan's first passes in ``state`` with what was read ahead (the
        partials of one batch, the whole data); the passes left to run."""
        counts, means = plan.passes[:2]
        batch.cached("class_counts", lambda: self.counts)
        counts.finish((((batch.index, self.counts),),), state)
        means.finish((self.class_sums,), state)
        if self.joint is not None:
            plan.passes[2].finish((JointCounts(self.joint, None, 0),), state)
        return plan.passes[self._n_passes :]


def _entry_cuts_left(passes: Sequence[Pass], state: State) -> bool:
    """Are ``passes`` the noise-rate cuts' count and split, with ``_reduce_issues``, and
    the cuts restricted to the candidates' entries (:func:`_cuts.restricted_noise_rate`)?
    In memory the whole dataset is one batch: :meth:`Cuts.kept_disagreeing` does both."""
    steps = [step for one_pass in passes for step in one_pass.steps]
    return (
        [type(step) for step in steps] == [CountCuts, SplitCuts]
        and steps[0].score is None
        and steps[1].reduce
        and len(state.cuts) == 1
        and state.cuts[0].entries is not None
    )


def run_in_memory(
    plan: Plan, data: Checked, n_jobs: int | None = None, head: Head | None = None
) -> np.ndarray:
    """Sorted flat positions of the issues ``plan`` finds in ``data`` (one batch).

    Blockwise steps run on fixed-size token blocks shared out among ``n_jobs``
    threads (:mod:`spanfast._threads`), their partials merged in block order: the
    same answer for every thread count. The noise-rate cuts run on the few tokens
    that can survive them when :func:`_cuts.restricted_noise_rate` says that keeps
    the answer. ``head``: the first passes, already read (used when the plan fits it).
    """
    batch = Batch(data)
    state = plan.start()
    state.threads, state.span = thread_count(n_jobs), data.span
    passes = plan.passes
    fits = head is not None and head.fits(plan)
    if plan.uses_noise_rate_candidates:  # before the head's joint: its cuts use them
        if head is not None and head.noise_rate_candidates is not None:
            candidates = head.noise_rate_candidates
            state.noise_rate_candidates = lambda: candidates
        else:  # needs no thresholds: found on another core while the joint is computed
            state.noise_rate_candidates = concurrently(
                n_jobs, selection.noise_rate_candidates, data.probs, data.labels, batch.margin()
            )
            state.threads -= 1  # busy with them while the class sums run
    if fits:
        passes = head.start(plan, batch, state)
    blocks = token_blocks(batch)  # made once: each block's memo serves every pass
    for index, one_pass in enumerate(passes):
        if _entry_cuts_left(passes[index:], state):  # all in one kernel call
            state.positions = state.cuts[0].kept_disagreeing(
                data.probs, data.labels, batch.margin()
            )
            break
        partials = []
        for step in one_pass.steps:
            if step.in_blocks(state) and len(blocks) > 1:
                step.prepare_blocks(blocks, state, n_jobs)
                parts = in_blocks(n_jobs, step.step, blocks, state)
                partials.append(functools.reduce(step.merge, parts))
            else:
                partials.append(step.step(batch, state))
        one_pass.finish(tuple(partials), state)
    return state.positions
