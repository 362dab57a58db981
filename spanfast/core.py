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
from ._kernels import confident_joint as _cj
from ._kernels import pooling, ranking, scores, selection, thresholds
from ._kernels.positions import sentence_of_tokens
from ._kernels.running_sum import RunningSums
from ._threads import concurrently
from ._validation import check_flat
from .errors import InvalidInputError, InvalidOptionError
from .ragged import Ragged

FILTER_BY = (
    "low_normalized_margin",
    "low_self_confidence",
    "prune_by_noise_rate",
    "prune_by_class",
    "both",
    "confident_learning",
    "predicted_neq_given",
)
RANK_BY = ("self_confidence", "normalized_margin", "confidence_weighted_entropy")
SENTENCE_SCORE_METHODS = ("min", "softmin")

# cleanlab.internal.constants
FLOATING_POINT_COMPARISON = 1e-6
CLIPPING_LOWER_BOUND = 1e-6
CONFIDENT_THRESHOLDS_LOWER_BOUND = 2 * FLOATING_POINT_COMPARISON
# Threshold of a class no token is labelled with: no probability reaches it.
MISSING_CLASS_THRESHOLD = 2
# cleanlab's low_memory path (find_label_issues_batched) reads this many tokens at a time.
LOW_MEMORY_BATCH_SIZE = 10_000
# A sentence without tokens has nothing mislabelled in it.
EMPTY_SENTENCE_SCORE = 1.0


def n_classes(probs: np.ndarray) -> int:
    return 2 if probs.ndim == 1 else probs.shape[1]


def _in_dtype(probs: np.ndarray, value: float) -> np.floating:
    return probs.dtype.type(value)


# ---------------------------------------------------------------------------------------
# Thresholds and the confident joint


def confident_thresholds(
    labels: np.ndarray, probs: np.ndarray, counts: np.ndarray | None = None
) -> np.ndarray:
    """Per-class mean self-confidence, as ``cleanlab.count.get_confident_thresholds``.

    The dtype follows NumPy: float32 only when the probabilities are float32
    and every class is present (otherwise the missing-class placeholder
    promotes the list to float64).
    """
    if counts is None:
        check_flat(labels, probs)
        counts = thresholds.class_counts(labels, n_classes(probs))
    sums = RunningSums(counts, probs.dtype)
    sums.add_batch(probs, labels)
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
    counts: np.ndarray | None = None,
    n_jobs: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """The K x K confident joint and the mask of tokens counted off its diagonal.

    ``counts`` (tokens per given label) may be passed to save a pass; with
    ``n_jobs`` other than 1 the two halves of the tokens are counted on two cores.
    """
    if counts is None:
        check_flat(labels, probs)
        counts = thresholds.class_counts(labels, n_classes(probs))
    margin_thresholds = confident_thresholds(labels, probs, counts) - FLOATING_POINT_COMPARISON
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
    # [given, guess] as a transposed (Fortran-ordered) view, exactly like cleanlab's
    # `confusion_matrix(...).T`: NumPy sums in memory order, so the layout decides
    # the rounding of the calibration's total and hence the integer counts.
    joint = counts_by_guess.T
    np.fill_diagonal(joint, joint.diagonal().clip(min=1))
    if calibrate:
        joint = _counts.calibrate_confident_joint(joint, counts)
    return joint, off_diagonal


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

    With ``positions``, only those tokens are scored (the values are those of
    scoring every token and taking ``[positions]``, computed for fewer tokens).
    """
    _check_score_method(labels, probs, method, adjust_pred_probs)
    check_flat(labels, probs)
    return _label_quality_scores(labels, probs, method, adjust_pred_probs, positions)


def _check_score_method(labels, probs, method, adjust_pred_probs):
    if method not in RANK_BY:
        raise ValueError(
            f"""
            {method} is not a valid scoring method for rank_by!
            Please choose a valid rank_by: self_confidence, normalized_margin, confidence_weighted_entropy
            """
        )
    if method == "confidence_weighted_entropy":
        if adjust_pred_probs:
            raise ValueError(f"adjust_pred_probs is not currently supported for {method}.")
        # cleanlab's get_normalized_entropy is strict about [0, 1] (no 1e-6 tolerance).
        if labels.shape[0] and (probs.min() < 0 or probs.max() > 1):
            raise ValueError("All probabilities are required to be in the interval [0, 1].")


def _label_quality_scores(labels, probs, method, adjust_pred_probs=False, positions=None):
    """:func:`label_quality_scores` on arrays already checked."""
    if method == "normalized_margin" and n_classes(probs) < 2:
        raise InvalidInputError("normalized_margin needs at least 2 classes.")
    # The adjustment's thresholds come from every token, whichever are scored.
    class_thresholds = confident_thresholds(labels, probs) if adjust_pred_probs else None
    if positions is not None:
        labels, probs = labels[positions], probs[positions]
    if adjust_pred_probs:
        probs = scores.adjusted_probabilities(probs, class_thresholds)
    if method == "self_confidence":
        return scores.self_confidence(probs, labels)
    if method == "normalized_margin":
        return scores.normalized_margin(probs, labels)
    ratio = scores.entropy_over_confidence(
        probs, labels, np.log(n_classes(probs)), CLIPPING_LOWER_BOUND
    )
    return np.log(ratio + 1) / np.clip(ratio, a_min=CLIPPING_LOWER_BOUND, a_max=None)


def _rank_scores(labels, probs, method: str, rank_by_kwargs: dict, positions=None) -> np.ndarray:
    unexpected = set(rank_by_kwargs) - {"adjust_pred_probs", "method"}
    if unexpected:
        raise TypeError(
            f"get_label_quality_scores() got an unexpected keyword argument '{sorted(unexpected)[0]}'"
        )
    if "method" in rank_by_kwargs:
        raise TypeError(
            "get_label_quality_scores() got multiple values for keyword argument 'method'"
        )
    adjust_pred_probs = rank_by_kwargs.get("adjust_pred_probs", False)
    _check_score_method(labels, probs, method, adjust_pred_probs)
    return _label_quality_scores(labels, probs, method, adjust_pred_probs, positions)


def order_by_score(positions: np.ndarray, position_scores: np.ndarray) -> np.ndarray:
    """Increasing ``positions`` sorted by their scores, ascending; equal scores stay
    in position order."""
    order = np.argsort(position_scores)
    if not ranking.sort_ties_by_index(order, position_scores):
        order = np.argsort(position_scores, kind="stable")
    return positions[order]


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


def check_options(
    *,
    filter_by: str,
    return_indices_ranked_by: str | None,
    frac_noise: float = 1.0,
    num_to_remove_per_class: Sequence[int] | None = None,
    confident_joint: np.ndarray | None = None,
    n_jobs: int | None = None,
    stacklevel: int = 2,
) -> None:
    """cleanlab's checks and warnings for the options of ``find_label_issues``."""
    if filter_by not in FILTER_BY:
        raise InvalidOptionError(
            f"filter_by must be one of {', '.join(map(repr, FILTER_BY))}; got {filter_by!r}."
        )
    if return_indices_ranked_by is not None and return_indices_ranked_by not in RANK_BY:
        label_quality_scores(np.empty(0, np.int64), np.empty(0), method=return_indices_ranked_by)
    simple_filters = ("confident_learning", "predicted_neq_given") + FILTER_BY[:2]
    if filter_by in simple_filters and (frac_noise != 1.0 or num_to_remove_per_class is not None):
        warnings.warn(
            "frac_noise and num_to_remove_per_class parameters are only supported"
            " for filter_by 'prune_by_noise_rate', 'prune_by_class', and 'both'. They "
            "are not supported for methods 'confident_learning', 'predicted_neq_given', "
            "'low_normalized_margin' or 'low_self_confidence'.",
            stacklevel=stacklevel + 1,
        )
    if num_to_remove_per_class is not None and filter_by in simple_filters:
        raise ValueError(
            "filter_by 'confident_learning', 'predicted_neq_given', 'low_normalized_margin' "
            "or 'low_self_confidence' is not supported (yet) when setting 'num_to_remove_per_class'"
        )
    if filter_by == "confident_learning" and isinstance(confident_joint, np.ndarray):
        warnings.warn(
            "The supplied `confident_joint` is ignored when `filter_by = 'confident_learning'`; "
            "confident joint will be re-estimated from the given labels. To use your supplied "
            "`confident_joint`, please specify a different `filter_by` value.",
            stacklevel=stacklevel + 1,
        )
    if n_jobs is not None and not n_jobs >= 1:
        raise InvalidOptionError(f"n_jobs must be at least 1, got {n_jobs}.")


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

    Ranked by ``return_indices_ranked_by`` (equal scores in position order);
    in position order when it is None.
    """
    rank_by_kwargs = dict(rank_by_kwargs or {})
    check_options(
        filter_by=filter_by,
        return_indices_ranked_by=return_indices_ranked_by,
        frac_noise=frac_noise,
        num_to_remove_per_class=num_to_remove_per_class,
        confident_joint=confident_joint,
        n_jobs=n_jobs,
        stacklevel=3,
    )

    check_flat(labels, probs)
    T = labels.shape[0]
    K = n_classes(probs)
    if T == 0:
        return np.empty(0, np.int64)
    counts = thresholds.class_counts(labels, K)
    if np.count_nonzero(counts) < 2 and counts[0] != T:
        # cleanlab allows a single class only when it is class 0.
        raise InvalidInputError("Labels must contain at least 2 classes.")
    if confident_joint is not None:
        confident_joint = np.asarray(confident_joint)
        if confident_joint.shape != (K, K):
            raise InvalidInputError(
                f"confident_joint must have shape ({K}, {K}) for {K} classes, "
                f"got {confident_joint.shape}."
            )

    margin = _in_dtype(probs, FLOATING_POINT_COMPARISON)
    if filter_by in ("prune_by_noise_rate", "both"):
        # Needs no thresholds: found on a second core while the joint is computed.
        noise_rate_candidates = concurrently(
            n_jobs, selection.noise_rate_candidates, probs, labels, margin
        )

    off_diagonal = None
    if confident_joint is None or filter_by == "confident_learning":
        confident_joint, off_diagonal = compute_confident_joint(
            labels, probs, counts=counts, n_jobs=n_jobs
        )

    if filter_by in ("low_normalized_margin", "low_self_confidence"):
        token_scores = _label_quality_scores(labels, probs, filter_by[4:])
        # count.num_label_issues: off-diagonal tokens whose prediction is not the label
        # (calibration does not change which tokens are off the diagonal).
        if off_diagonal is None:
            _, off_diagonal = compute_confident_joint(
                labels, probs, calibrate=False, counts=counts, n_jobs=n_jobs
            )
        matches = selection.prediction_matches_label(probs, labels, margin)
        n_issues = int(np.count_nonzero(off_diagonal & ~matches))
        positions = _cuts.smallest(token_scores, n_issues)
    elif filter_by in ("prune_by_noise_rate", "prune_by_class", "both"):
        pruned = prune_counts(
            confident_joint, counts, min_examples_per_class, frac_noise, num_to_remove_per_class
        )
        applied = applied_classes(counts, min_examples_per_class, filter_by, stacklevel=3)
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

    if filter_by not in ("low_normalized_margin", "low_self_confidence"):
        # count._reduce_issues, checked only where it can change the answer.
        positions = _disagreeing(labels, probs, positions)
    if verbose:
        print(f"Number of label issues found: {positions.shape[0]}")
    if return_indices_ranked_by is None:
        return positions
    position_scores = _rank_scores(
        labels, probs, return_indices_ranked_by, rank_by_kwargs, positions=positions
    )
    return order_by_score(positions, position_scores)


def _disagreeing(labels: np.ndarray, probs: np.ndarray, positions: np.ndarray) -> np.ndarray:
    """The ``positions`` whose prediction is not their label (cleanlab's 1e-6 margin)."""
    matches = selection.prediction_matches_label(
        probs[positions], labels[positions], _in_dtype(probs, FLOATING_POINT_COMPARISON)
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
    """
    if method not in RANK_BY:
        _rank_scores(labels[:0], probs[:0], method, {})  # raises cleanlab's error
    check_flat(labels, probs)
    if labels.shape[0] == 0:
        return np.empty(0, np.int64)
    running_thresholds = thresholds.batched_thresholds(
        probs,
        labels,
        LOW_MEMORY_BATCH_SIZE,
        CONFIDENT_THRESHOLDS_LOWER_BOUND,
        _in_dtype(probs, CONFIDENT_THRESHOLDS_LOWER_BOUND),
        float(MISSING_CLASS_THRESHOLD),
        probs.dtype == np.float32,
    )
    n_issues = selection.count_confident_disagreements(
        probs, labels, running_thresholds - FLOATING_POINT_COMPARISON
    )
    token_scores = _label_quality_scores(labels, probs, method)
    return _disagreeing(labels, probs, _cuts.smallest(token_scores, n_issues))


# ---------------------------------------------------------------------------------------
# Sentence scores


def sentence_scores(
    token_scores: np.ndarray,
    offsets: np.ndarray,
    *,
    method: str = "min",
    temperature: float = 0.05,
) -> np.ndarray:
    """Pool token scores per sentence: ``min``, or ``softmin`` at ``temperature``
    (``temperature == 0`` is min, ``inf`` is the mean). Empty sentences score 1."""
    if method not in SENTENCE_SCORE_METHODS:
        raise InvalidOptionError(
            "Select from the following methods:\n" + "\n".join(SENTENCE_SCORE_METHODS)
        )
    Ragged(token_scores, offsets)  # offsets must be monotone and end at len(token_scores)
    if method == "min" or temperature == 0:
        return pooling.sentence_min(token_scores, offsets, EMPTY_SENTENCE_SCORE)
    if temperature == np.inf:
        return pooling.sentence_mean(token_scores, offsets, EMPTY_SENTENCE_SCORE)
    return pooling.sentence_softmin(
        token_scores, offsets, max(float(temperature), 1e-6), EMPTY_SENTENCE_SCORE
    )


def locate(positions: np.ndarray, offsets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(sentence, token) of each flat token position."""
    if positions.shape[0] and (positions.min() < 0 or positions.max() >= offsets[-1]):
        raise InvalidInputError(f"token positions must be in 0..{offsets[-1] - 1}.")
    if positions.shape[0] * 16 > offsets.shape[0]:  # many positions: a lookup table pays
        sentence = sentence_of_tokens(offsets, positions)
    else:
        sentence = np.searchsorted(offsets, positions, side="right") - 1
    return sentence, positions - offsets[sentence]


def issue_tuples(positions: np.ndarray, offsets: np.ndarray) -> list[tuple[int, int]]:
    """Flat token positions as cleanlab's ``(sentence, token)`` tuples of Python ints."""
    sentence, token = locate(positions, offsets)
    # Tens of thousands of new tuples would set off the cyclic garbage collector
    # dozens of times, each a walk over the caller's heap; none of them can be garbage.
    collecting = gc.isenabled()
    gc.disable()
    try:
        return list(zip(sentence.tolist(), token.tolist()))
    finally:
        if collecting:
            gc.enable()
