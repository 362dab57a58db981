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

import gc
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from . import _counts, _cuts
from ._input.checked import (
    Checked,
    checked_flat,
    checked_offsets,
    checked_positions,
    checked_scores,
)
from ._kernels import confident_joint as _cj
from ._kernels import pooling, scores, selection, thresholds
from ._kernels.running_sum import RunningSums
from ._positions import order_by_score, sentence_and_token
from ._threads import concurrently
from .errors import InvalidInputError
from .options import (
    CLIPPING_LOWER_BOUND,
    CONFIDENT_THRESHOLDS_LOWER_BOUND,
    DEFAULT_TEMPERATURE,
    EMPTY_SENTENCE_SCORE,
    FLOATING_POINT_COMPARISON,
    LOW_MEMORY_BATCH_SIZE,
    LOW_SCORE_FILTERS,
    MISSING_CLASS_THRESHOLD,
    PRUNE_FILTERS,
    check_confident_joint,
    check_filter_options,
    check_n_jobs,
    check_num_to_remove_per_class,
    check_rank_by,
    check_rank_by_kwargs,
    check_score_options,
    check_sentence_score_method,
)
from .ragged import Ragged

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


def _margin(probs: np.ndarray) -> np.floating:
    """cleanlab's 1e-6 comparison margin, in the probabilities' dtype (as NumPy compares)."""
    return probs.dtype.type(FLOATING_POINT_COMPARISON)


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
    return thresholds_from_means(sums.means(), counts)


def thresholds_from_means(means: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Class means (in the probabilities' dtype) to thresholds, with NumPy's dtype rule."""
    present = counts > 0
    if present.all():
        result = means
    else:
        result = np.where(present, means.astype(np.float64), float(MISSING_CLASS_THRESHOLD))
    return np.clip(result, a_min=CONFIDENT_THRESHOLDS_LOWER_BOUND, a_max=None)


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
        1 keeps to one core; otherwise the two halves of the tokens are counted
        on two cores (the counts are the same).

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
    return joint_from_counts(counts_by_guess, counts, calibrate=calibrate), off_diagonal


def joint_from_counts(counts_by_guess: np.ndarray, counts: np.ndarray, *, calibrate: bool = True):
    """The confident joint ``[given, guess]`` from the counts ``[guess, given]`` the
    kernel adds up, as cleanlab's ``compute_confident_joint`` finishes it."""
    # A transposed (Fortran-ordered) view, exactly like cleanlab's
    # `confusion_matrix(...).T`: NumPy sums in memory order, so the layout decides
    # the rounding of the calibration's total and hence the integer counts.
    joint = counts_by_guess.T
    np.fill_diagonal(joint, joint.diagonal().clip(min=1))
    if calibrate:
        joint = _counts.calibrate_confident_joint(joint, counts)
    return joint


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
    labels, probs = data.labels, data.probs
    if method == "normalized_margin" and data.n_classes < 2:
        raise InvalidInputError("normalized_margin needs at least 2 classes.", field="pred_probs")
    if method == "confidence_weighted_entropy" and labels.shape[0]:
        # cleanlab's get_normalized_entropy is strict about [0, 1] (no 1e-6 tolerance).
        if probs.min() < 0 or probs.max() > 1:
            raise ValueError("All probabilities are required to be in the interval [0, 1].")
    # The adjustment's thresholds come from every token, whichever are scored.
    class_thresholds = (
        _confident_thresholds(data, _class_counts(data)) if adjust_pred_probs else None
    )
    if positions is not None:
        labels, probs = labels[positions], probs[positions]
    if adjust_pred_probs:
        probs = scores.adjusted_probabilities(probs, class_thresholds)
    if method == "self_confidence":
        return scores.self_confidence(probs, labels)
    if method == "normalized_margin":
        return scores.normalized_margin(probs, labels)
    ratio = scores.entropy_over_confidence(
        probs, labels, np.log(data.n_classes), CLIPPING_LOWER_BOUND
    )
    return np.log(ratio + 1) / np.clip(ratio, a_min=CLIPPING_LOWER_BOUND, a_max=None)


# ---------------------------------------------------------------------------------------
# Finding label issues


def applied_classes(
    counts: np.ndarray, min_examples_per_class: int, filter_by: str, *, stacklevel: int
) -> np.ndarray:
    """Classes the prune_by_* cuts apply to, with cleanlab's warnings for the others."""
    too_few = np.flatnonzero(counts <= min_examples_per_class)
    hints = []
    if filter_by in ("prune_by_class", "both"):
        hints.append("see argument: `min_examples_per_class`")
    if filter_by in ("prune_by_noise_rate", "both"):
        hints.append("see `min_examples_per_class` argument")
    for hint in hints:
        for k in too_few:
            warnings.warn(
                f"May not flag all label issues in class: {k}, it has too few examples ({hint})",
                stacklevel=stacklevel + 1,
            )
    # cleanlab only writes a class's mask back when the class has 2+ tokens.
    return (counts > min_examples_per_class) & (counts > 1)


def prune_counts(
    confident_joint: np.ndarray,
    counts: np.ndarray,
    min_examples_per_class: int,
    frac_noise: float,
    num_to_remove_per_class: Sequence[int] | None,
) -> np.ndarray:
    """How many tokens to prune per (true, given) class pair (cleanlab's prune_count_matrix)."""
    counts_to_prune = _counts.keep_at_least_n_per_class(
        confident_joint.T, min_examples_per_class, frac_noise
    )
    if num_to_remove_per_class is not None:
        counts_to_prune = _counts.prune_counts_for_removal(
            counts_to_prune, num_to_remove_per_class, counts
        )
    return counts_to_prune


def check_two_classes(counts: np.ndarray) -> None:
    """cleanlab allows a single class only when it is class 0."""
    if np.count_nonzero(counts) < 2 and counts[0] != counts.sum():
        raise InvalidInputError("Labels must contain at least 2 classes.", field="labels")


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
    stacklevel: int = 2,
) -> tuple[np.ndarray, np.ndarray | None]:
    """:func:`find_label_issues` of checked data: (positions, their rank scores or None).

    Warnings point ``stacklevel`` frames above this function's caller's caller
    (2: the caller of the public function that called this)."""
    rank_by_kwargs = dict(rank_by_kwargs or {})
    check_filter_options(
        filter_by=filter_by,
        return_indices_ranked_by=return_indices_ranked_by,
        frac_noise=frac_noise,
        num_to_remove_per_class=num_to_remove_per_class,
        confident_joint=confident_joint,
        n_jobs=n_jobs,
        stacklevel=stacklevel + 1,
    )
    if return_indices_ranked_by is not None:
        adjust_pred_probs = check_rank_by_kwargs(rank_by_kwargs)
        check_score_options(return_indices_ranked_by, adjust_pred_probs)
    labels, probs = data.labels, data.probs
    T, K = data.n_tokens, data.n_classes
    num_to_remove_per_class = check_num_to_remove_per_class(num_to_remove_per_class, K)
    if confident_joint is not None:
        confident_joint = check_confident_joint(confident_joint, K)
    if T == 0:
        empty = np.empty(0, np.int64)
        return empty, (None if return_indices_ranked_by is None else np.empty(0))
    counts = _class_counts(data)
    check_two_classes(counts)

    margin = _margin(probs)
    if filter_by in ("prune_by_noise_rate", "both"):
        # Needs no thresholds: found on a second core while the joint is computed.
        noise_rate_candidates = concurrently(
            n_jobs, selection.noise_rate_candidates, probs, labels, margin
        )

    off_diagonal = None
    if confident_joint is None or filter_by == "confident_learning":
        confident_joint, off_diagonal = _confident_joint(data, counts, n_jobs=n_jobs)

    if filter_by in LOW_SCORE_FILTERS:
        token_scores = _scores(data, LOW_SCORE_FILTERS[filter_by])
        # count.num_label_issues: off-diagonal tokens whose prediction is not the label
        # (calibration does not change which tokens are off the diagonal).
        if off_diagonal is None:
            _, off_diagonal = _confident_joint(data, counts, calibrate=False, n_jobs=n_jobs)
        matches = selection.prediction_matches_label(probs, labels, margin)
        n_issues = int(np.count_nonzero(off_diagonal & ~matches))
        positions = _cuts.smallest(token_scores, n_issues)
    elif filter_by in PRUNE_FILTERS:
        pruned = prune_counts(
            confident_joint, counts, min_examples_per_class, frac_noise, num_to_remove_per_class
        )
        applied = applied_classes(
            counts, min_examples_per_class, filter_by, stacklevel=stacklevel + 1
        )
        if filter_by in ("prune_by_class", "both"):
            n_to_prune = counts - np.diagonal(pruned)
            by_class = _cuts.prune_by_class(probs, labels, n_to_prune, counts, applied)
        if filter_by in ("prune_by_noise_rate", "both"):
            by_noise_rate = _cuts.prune_by_noise_rate(
                probs, labels, pruned, counts, applied, noise_rate_candidates()
            )
        if filter_by == "prune_by_class":
            positions = by_class
        elif filter_by == "prune_by_noise_rate":
            positions = by_noise_rate
        else:
            positions = np.intersect1d(by_class, by_noise_rate, assume_unique=True)
    elif filter_by == "confident_learning":
        positions = np.flatnonzero(off_diagonal)
    else:
        positions = np.flatnonzero(selection.predicted_neq_given(probs, labels))

    if filter_by not in LOW_SCORE_FILTERS:
        # count._reduce_issues, checked only where it can change the answer.
        positions = _disagreeing(data, positions)
    if verbose:
        print(f"Number of label issues found: {positions.shape[0]}")
    if return_indices_ranked_by is None:
        return positions, None
    position_scores = _scores(data, return_indices_ranked_by, adjust_pred_probs, positions)
    order = order_by_score(np.arange(positions.shape[0]), position_scores)
    return positions[order], position_scores[order]


def _disagreeing(data: Checked, positions: np.ndarray) -> np.ndarray:
    """The ``positions`` whose prediction is not their label (cleanlab's 1e-6 margin)."""
    matches = selection.prediction_matches_label(
        data.probs[positions], data.labels[positions], _margin(data.probs)
    )
    return positions[~matches]


def find_label_issues_low_memory(
    labels: np.ndarray, probs: np.ndarray, *, method: str = "self_confidence"
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
    return _find_low_memory(checked_flat(labels, probs), method)


def _find_low_memory(data: Checked, method: str) -> np.ndarray:
    """:func:`find_label_issues_low_memory` of checked data."""
    labels, probs = data.labels, data.probs
    if labels.shape[0] == 0:
        return np.empty(0, np.int64)
    running_thresholds = thresholds.batched_thresholds(
        probs,
        labels,
        LOW_MEMORY_BATCH_SIZE,
        CONFIDENT_THRESHOLDS_LOWER_BOUND,
        probs.dtype.type(CONFIDENT_THRESHOLDS_LOWER_BOUND),
        float(MISSING_CLASS_THRESHOLD),
        probs.dtype == np.float32,
    )
    n_issues = selection.count_confident_disagreements(
        probs, labels, running_thresholds - FLOATING_POINT_COMPARISON
    )
    token_scores = _scores(data, method)
    return _disagreeing(data, _cuts.smallest(token_scores, n_issues))


# ---------------------------------------------------------------------------------------
# Sentence scores


def sentence_scores(
    token_scores: np.ndarray,
    offsets: np.ndarray,
    *,
    method: str = "min",
    temperature: float = DEFAULT_TEMPERATURE,
) -> np.ndarray:
    """Pool token scores per sentence.

    Parameters
    ----------
    token_scores : (T,) array of numbers
        One score per token, sentence after sentence.
    offsets : (n_sentences + 1,) integer array
        Sentence ``i`` is ``token_scores[offsets[i]:offsets[i + 1]]``.
    method : {"min", "softmin"}
        ``softmin`` at ``temperature`` (``temperature == 0`` is min, ``inf`` the mean).

    Returns
    -------
    (n_sentences,) array
        Empty sentences score 1.

    Examples
    --------
    >>> import numpy as np
    >>> from spanfast import core
    >>> core.sentence_scores(np.array([0.9, 0.2, 0.5]), np.array([0, 2, 2, 3]))
    array([0.2, 1. , 0.5])
    """
    check_sentence_score_method(method)
    token_scores = np.asarray(token_scores)
    if token_scores.ndim != 1:
        raise InvalidInputError(
            f"token_scores must be a 1-D array, got shape {token_scores.shape}.",
            field="token_scores",
        )
    ragged = checked_scores(Ragged(token_scores, checked_offsets(offsets, token_scores.shape[0])))
    return _sentence_scores(ragged.values, ragged.offsets, method, temperature)


def _sentence_scores(token_scores, offsets, method: str, temperature: float) -> np.ndarray:
    """:func:`sentence_scores` of checked scores and offsets."""
    if method == "min" or temperature == 0:
        return pooling.sentence_min(token_scores, offsets, EMPTY_SENTENCE_SCORE)
    if temperature == np.inf:
        return pooling.sentence_mean(token_scores, offsets, EMPTY_SENTENCE_SCORE)
    return pooling.sentence_softmin(
        token_scores, offsets, max(float(temperature), 1e-6), EMPTY_SENTENCE_SCORE
    )


def locate(positions: np.ndarray, offsets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(sentence, token) of each flat token position.

    Parameters
    ----------
    positions : (n,) integer array
        Flat token positions, each in ``0..offsets[-1]-1``.
    offsets : (n_sentences + 1,) integer array
        Sentence offsets.

    Returns
    -------
    (sentence, token) : two (n,) int64 arrays

    Examples
    --------
    >>> import numpy as np
    >>> from spanfast import core
    >>> core.locate(np.array([3, 0]), np.array([0, 2, 5]))
    (array([1, 0]), array([1, 0]))
    """
    offsets = np.asarray(offsets)
    n_tokens = int(offsets[-1]) if offsets.ndim == 1 and offsets.size else 0
    offsets = checked_offsets(offsets, n_tokens)
    return sentence_and_token(offsets, checked_positions(positions, n_tokens))


def issue_tuples(positions: np.ndarray, offsets: np.ndarray) -> list[tuple[int, int]]:
    """Flat token positions as cleanlab's ``(sentence, token)`` tuples of Python ints.

    Parameters
    ----------
    positions, offsets
        As in :func:`locate`.

    Returns
    -------
    list of (int, int)

    Examples
    --------
    >>> import numpy as np
    >>> from spanfast import core
    >>> core.issue_tuples(np.array([3, 0]), np.array([0, 2, 5]))
    [(1, 1), (0, 0)]
    """
    return _issue_tuples(*locate(positions, offsets))


def _issue_tuples(sentence: np.ndarray, token: np.ndarray) -> list[tuple[int, int]]:
    # Tens of thousands of new tuples would set off the cyclic garbage collector
    # dozens of times, each a walk over the caller's heap; none of them can be garbage.
    collecting = gc.isenabled()
    gc.disable()
    try:
        return list(zip(sentence.tolist(), token.tolist()))
    finally:
        if collecting:
            gc.enable()
