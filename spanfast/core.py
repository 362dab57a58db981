"""Confident learning on flat arrays: the algorithms behind every façade.

Inputs are validated flat arrays (see :mod:`spanfast._validation`):
``labels`` int64 of shape ``(T,)``; ``probs`` either ``(T, K)`` class
probabilities or ``(T,)`` span probabilities, read as the classes
``[1 - p, p]``. Outputs are arrays: flat token positions, scores, counts.
This is also the array-native API for pipelines that already hold flat data.

Semantics are cleanlab 2.9.0's (``filter.find_label_issues``,
``count.compute_confident_joint``, ``rank.get_label_quality_scores``,
``experimental.label_issues_batched``), with one rule added: wherever cleanlab
cuts or orders by a score with an unstable sort, equal scores are taken in
position order, earlier tokens first.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from . import _counts, _cuts, _low_memory, _numpy_order, plans
from ._input.checked import (
    Checked,
    checked_flat,
    checked_positions,
)
from ._kernels import confident_joint as _cj
from ._kernels import selection, thresholds
from ._kernels.running_sum import RunningSums
from ._positions import order_by_score, sentence_and_token
from ._scoring import token_scores
from ._sentences import issue_tuples, locate, sentence_scores  # part of this API
from ._threads import concurrently
from .options import (
    FLOATING_POINT_COMPARISON,
    check_confident_joint,
    check_filter_options,
    check_n_jobs,
    check_num_to_remove_per_class,
    check_rank_by,
    check_rank_by_kwargs,
    check_score_options,
    check_ties,
)

__all__ = [
    "compute_confident_joint",
    "confident_thresholds",
    "find_label_issues",
    "find_label_issues_low_memory",
    "issue_tuples",
    "label_quality_scores",
    "locate",
    "order_by_score",
    "sentence_scores",
]


# ---------------------------------------------------------------------------------------
# Thresholds and the confident joint


def confident_thresholds(labels: np.ndarray, probs: np.ndarray) -> np.ndarray:
    """Per-class mean self-confidence, as ``cleanlab.count.get_confident_thresholds``.

    Parameters
    ----------
    labels : (T,) integer array
        The given class of each token.
    probs : (T, K) or (T,) array of probabilities
        Class probabilities per token, or span probabilities (the classes ``[1 - p, p]``).

    Returns
    -------
    (K,) array
        The dtype follows NumPy: float32 only when the probabilities are float32
        and every class is present (otherwise the missing-class placeholder
        promotes the list to float64).

    Examples
    --------
    >>> import numpy as np
    >>> from spanfast import core
    >>> core.confident_thresholds(np.array([0, 1, 1]), np.array([0.2, 0.9, 0.7]))
    array([0.8, 0.8])
    """
    data = checked_flat(labels, probs)
    return _confident_thresholds(data, _class_counts(data))


def _class_counts(data: Checked) -> np.ndarray:
    return thresholds.class_counts(data.labels, data.n_classes)


def _confident_thresholds(data: Checked, counts: np.ndarray) -> np.ndarray:
    """:func:`confident_thresholds` of checked data whose class counts are ``counts``."""
    sums = RunningSums(counts, data.probs.dtype)
    sums.add_batch(data.probs, data.labels)
    return _counts.thresholds_from_means(sums.means(), counts)


def compute_confident_joint(
    labels: np.ndarray,
    probs: np.ndarray,
    *,
    calibrate: bool = True,
    n_jobs: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """The K x K confident joint and the mask of tokens counted off its diagonal.

    As ``cleanlab.count.compute_confident_joint(..., return_indices_of_off_diagonals=True)``,
    with the indices as a boolean mask over the tokens.

    Parameters
    ----------
    labels, probs
        As in :func:`confident_thresholds`.
    calibrate : bool, default True
        Calibrate the joint to the label counts (``calibrate_confident_joint``).
    n_jobs : int, optional
        1 keeps to the calling thread; otherwise (default: every core, one thread
        when called off the main thread) the two halves of the tokens are counted
        on two threads (the counts are the same).

    Returns
    -------
    (joint, off_diagonal)
        ``joint[given, true]`` (K x K integers) and a (T,) boolean mask.

    Examples
    --------
    >>> import numpy as np
    >>> from spanfast import core
    >>> joint, off = core.compute_confident_joint(np.array([0, 1, 1]), np.array([0.2, 0.9, 0.1]))
    >>> joint.tolist(), off.tolist()
    ([[1, 0], [1, 1]], [False, False, True])
    """
    check_n_jobs(n_jobs)
    data = checked_flat(labels, probs)
    return _confident_joint(data, _class_counts(data), calibrate=calibrate, n_jobs=n_jobs)


def _confident_joint(
    data: Checked, counts: np.ndarray, *, calibrate: bool = True, n_jobs: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`compute_confident_joint` of checked data whose class counts are ``counts``."""
    labels, probs = data.labels, data.probs
    margin_thresholds = _confident_thresholds(data, counts) - FLOATING_POINT_COMPARISON
    half = labels.shape[0] // 2
    second = concurrently(
        n_jobs, _cj.confident_joint, probs[half:], labels[half:], margin_thresholds
    )
    counts_by_guess, off_diagonal = _cj.confident_joint(
        probs[:half], labels[:half], margin_thresholds
    )
    second_counts, second_off_diagonal = second()
    counts_by_guess += second_counts  # counts add up: the same matrix either way
    off_diagonal = np.concatenate([off_diagonal, second_off_diagonal])
    return _counts.joint_from_counts(counts_by_guess, counts, calibrate=calibrate), off_diagonal


# ---------------------------------------------------------------------------------------
# Token scores


def label_quality_scores(
    labels: np.ndarray,
    probs: np.ndarray,
    *,
    method: str = "self_confidence",
    adjust_pred_probs: bool = False,
    positions: np.ndarray | None = None,
) -> np.ndarray:
    """One score per token, as ``cleanlab.rank.get_label_quality_scores``.

    Parameters
    ----------
    labels, probs
        As in :func:`confident_thresholds`.
    method : {"self_confidence", "normalized_margin", "confidence_weighted_entropy"}
    adjust_pred_probs : bool, default False
        Subtract the class thresholds first (cleanlab's option).
    positions : integer array, optional
        Score only these flat token positions (the values are those of scoring
        every token and taking ``[positions]``, computed for fewer tokens).

    Returns
    -------
    array of float
        One score per token (or per position); lower means more likely mislabeled.

    Examples
    --------
    >>> import numpy as np
    >>> from spanfast import core
    >>> core.label_quality_scores(np.array([0, 1]), np.array([0.2, 0.4]))
    array([0.8, 0.4])
    """
    check_score_options(method, adjust_pred_probs)
    data = checked_flat(labels, probs)
    if positions is not None:
        positions = checked_positions(positions, data.n_tokens)
    return _scores(data, method, adjust_pred_probs, positions)


def _scores(data: Checked, method: str, adjust_pred_probs: bool = False, positions=None):
    """:func:`label_quality_scores` of checked data and options."""
    # The adjustment's thresholds come from every token, whichever are scored.
    class_thresholds = (
        _confident_thresholds(data, _class_counts(data)) if adjust_pred_probs else None
    )
    return token_scores(
        data.labels, data.probs, method, class_thresholds=class_thresholds, positions=positions
    )


# ---------------------------------------------------------------------------------------
# Finding label issues


def find_label_issues(
    labels: np.ndarray,
    probs: np.ndarray,
    *,
    return_indices_ranked_by: str | None = "self_confidence",
    rank_by_kwargs: dict[str, Any] | None = None,
    filter_by: str = "prune_by_noise_rate",
    frac_noise: float = 1.0,
    num_to_remove_per_class: Sequence[int] | None = None,
    min_examples_per_class: int = 1,
    confident_joint: np.ndarray | None = None,
    n_jobs: int | None = None,
    verbose: bool = False,
    ties: str = "position",
) -> np.ndarray:
    """Flat positions of tokens with label issues (``cleanlab.filter.find_label_issues``).

    Parameters
    ----------
    labels, probs
        As in :func:`confident_thresholds`.
    return_indices_ranked_by, rank_by_kwargs, filter_by, frac_noise, num_to_remove_per_class, \
min_examples_per_class, confident_joint, n_jobs, verbose
        As in cleanlab's ``filter.find_label_issues``; ``confident_joint`` is checked
        (K x K, finite, non-negative).
    ties : {"position", "numpy"}, default "position"
        Equal scores in position order, or as NumPy's argsort orders the arrays
        cleanlab sorts (cleanlab 2.9.0's answer exactly, ties included).

    Returns
    -------
    (n_issues,) int64 array
        Flat token positions, ranked by ``return_indices_ranked_by`` (equal scores
        in position order), or in position order when it is None.

    Examples
    --------
    >>> import numpy as np
    >>> from spanfast import core
    >>> core.find_label_issues(np.array([0, 1, 1, 0]), np.array([0.1, 0.9, 0.3, 0.8]))
    array([3, 2])
    """
    positions, _ = _find(
        checked_flat(labels, probs),
        return_indices_ranked_by=return_indices_ranked_by,
        rank_by_kwargs=rank_by_kwargs,
        filter_by=filter_by,
        frac_noise=frac_noise,
        num_to_remove_per_class=num_to_remove_per_class,
        min_examples_per_class=min_examples_per_class,
        confident_joint=confident_joint,
        n_jobs=n_jobs,
        verbose=verbose,
        ties=ties,
        stacklevel=2,
    )
    return positions


def _find(
    data: Checked,
    *,
    return_indices_ranked_by: str | None = "self_confidence",
    rank_by_kwargs: dict[str, Any] | None = None,
    filter_by: str = "prune_by_noise_rate",
    frac_noise: float = 1.0,
    num_to_remove_per_class: Sequence[int] | None = None,
    min_examples_per_class: int = 1,
    confident_joint: np.ndarray | None = None,
    n_jobs: int | None = None,
    verbose: bool = False,
    ties: str = "position",
    low_memory: bool = False,
    stacklevel: int = 2,
    head: plans.Head | None = None,
    located: bool = False,
) -> tuple[Any, np.ndarray | None]:
    """:func:`find_label_issues` of checked data: (positions, their rank scores or None).

    ``low_memory``: :func:`find_label_issues_low_memory`'s issues, in position order,
    with a warning for each other option not at its default (cleanlab's batched path
    does not use them). Warnings point ``stacklevel`` frames above this function's
    caller's caller (2: the caller of the public function that called this). ``head``:
    the plan's first passes, read ahead (:class:`spanfast.plans.Head`). ``located``:
    (sentence, token) arrays instead of the positions, found on another core while the
    issues are scored and ranked."""
    check_filter_options(
        filter_by=filter_by,
        return_indices_ranked_by=return_indices_ranked_by,
        frac_noise=frac_noise,
        num_to_remove_per_class=num_to_remove_per_class,
        confident_joint=confident_joint,
        n_jobs=n_jobs,
        low_memory=low_memory,
        rank_by_kwargs=rank_by_kwargs,
        min_examples_per_class=min_examples_per_class,
        verbose=verbose,
        stacklevel=stacklevel + 1,
    )
    if low_memory:
        check_rank_by(return_indices_ranked_by)
        check_ties(ties)
        positions = _find_low_memory(data, return_indices_ranked_by, ties)
        scores = _scores(data, return_indices_ranked_by, positions=positions)
        return (sentence_and_token(data.offsets, positions) if located else positions), scores
    rank_by_kwargs = dict(rank_by_kwargs or {})
    check_ties(ties)
    if return_indices_ranked_by is not None:
        adjust_pred_probs = check_rank_by_kwargs(rank_by_kwargs)
        check_score_options(return_indices_ranked_by, adjust_pred_probs)
    K = data.n_classes
    num_to_remove_per_class = check_num_to_remove_per_class(num_to_remove_per_class, K)
    if confident_joint is not None:
        confident_joint = check_confident_joint(confident_joint, K)
    if data.n_tokens == 0:
        empty = np.empty(0, np.int64)
        found = (empty, empty.copy()) if located else empty
        return found, (None if return_indices_ranked_by is None else np.empty(0))
    plan = plans.plan_for(
        filter_by,
        frac_noise=frac_noise,
        num_to_remove_per_class=num_to_remove_per_class,
        min_examples_per_class=min_examples_per_class,
        # confident_learning counts its own joint, whatever the caller gives.
        confident_joint=None if filter_by == "confident_learning" else confident_joint,
        ties=ties,
    )
    positions = plans.run_in_memory(plan, data, n_jobs, head)
    if verbose:
        print(f"Number of label issues found: {positions.shape[0]}")
    if located:
        where = concurrently(n_jobs, sentence_and_token, data.offsets, positions)
    if return_indices_ranked_by is None:
        return (where() if located else positions), None
    position_scores = _scores(data, return_indices_ranked_by, adjust_pred_probs, positions)
    rank = order_by_score if ties == "position" else _numpy_order.order_by_score
    order = rank(np.arange(positions.shape[0]), position_scores)
    if located:
        sentence, token = where()
        return (sentence[order], token[order]), position_scores[order]
    return positions[order], position_scores[order]


def find_label_issues_low_memory(
    labels: np.ndarray,
    probs: np.ndarray,
    *,
    method: str = "self_confidence",
    ties: str = "position",
) -> np.ndarray:
    """Flat positions, in position order, as cleanlab's ``low_memory=True`` finds them
    (``experimental.label_issues_batched.find_label_issues_batched``).

    Thresholds are the batch-by-batch running means cleanlab accumulates; the
    number of issues is the count of confidently mispredicted tokens; the
    issues are the tokens with the lowest ``method`` scores, less those whose
    prediction matches the label.

    Parameters
    ----------
    labels, probs
        As in :func:`confident_thresholds`.
    method : str, default "self_confidence"
        The token score whose lowest values are flagged.
    ties : {"position", "numpy"}, default "position"
        As in :func:`find_label_issues`.

    Returns
    -------
    (n_issues,) int64 array
        Flat token positions, in position order.

    Examples
    --------
    >>> import numpy as np
    >>> from spanfast import core
    >>> core.find_label_issues_low_memory(np.array([0, 1, 1, 0]), np.array([0.1, 0.9, 0.2, 0.8]))
    array([2, 3])
    """
    check_rank_by(method)
    check_ties(ties)
    return _find_low_memory(checked_flat(labels, probs), method, ties)


def _find_low_memory(
    data: Checked,
    method: str,
    ties: str = "position",
    n_jobs: int | None = None,
    batch_size: int | None = None,
) -> np.ndarray:
    """:func:`find_label_issues_low_memory` of checked data (``batch_size``: cleanlab's
    10,000 tokens unless given).

    The kernels of :func:`spanfast.plans.low_memory_plan` called directly, on two
    threads where ``n_jobs`` allows (the same answer as the plan on any batching, which
    the tests check): the plan's step machinery cost 10-20 % more CPU time here at 1M
    tokens, K = 9 (``python tools/low_memory_speed.py --n-jobs 1``)."""
    if data.n_tokens == 0:
        return np.empty(0, np.int64)
    labels, probs = data.labels, data.probs
    grid = _low_memory.BATCH_TOKENS if batch_size is None else batch_size
    margin_thresholds = (
        _low_memory.thresholds_in_memory(probs, labels, grid, n_jobs) - FLOATING_POINT_COMPARISON
    )
    half = labels.shape[0] // 2
    second = concurrently(
        n_jobs,
        selection.count_confident_disagreements,
        probs[half:],
        labels[half:],
        margin_thresholds,
    )
    n_issues = selection.count_confident_disagreements(
        probs[:half], labels[:half], margin_thresholds
    )
    n_issues += second()
    smallest = _cuts.smallest if ties == "position" else _numpy_order.smallest
    positions = smallest(_scores(data, method), n_issues)
    matches = selection.prediction_matches_label_at(
        probs, labels, positions, probs.dtype.type(FLOATING_POINT_COMPARISON)
    )
    return positions[~matches]
