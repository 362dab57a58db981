"""The options of every filter and score, and cleanlab's constants: one table.

Option checks live here too, with cleanlab 2.9.0's wording (its ``assert`` and
``ValueError`` messages), so that a user switching over sees familiar errors.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from .errors import InvalidInputError, InvalidOptionError

# cleanlab.filter.find_label_issues' filter_by methods.
FILTER_BY = (
    "low_normalized_margin",
    "low_self_confidence",
    "prune_by_noise_rate",
    "prune_by_class",
    "both",
    "confident_learning",
    "predicted_neq_given",
)
# filter_by methods that flag the tokens with the lowest score, and that score.
LOW_SCORE_FILTERS = {
    "low_normalized_margin": "normalized_margin",
    "low_self_confidence": "self_confidence",
}
# filter_by methods that prune per class or class pair (frac_noise, num_to_remove_per_class).
PRUNE_FILTERS = ("prune_by_noise_rate", "prune_by_class", "both")
RANK_BY = ("self_confidence", "normalized_margin", "confidence_weighted_entropy")
SENTENCE_SCORE_METHODS = ("min", "softmin")
# How equal scores are ordered: by position (spanfast's rule), or as NumPy's default
# argsort orders the arrays cleanlab sorts (to equal cleanlab 2.9.0 exactly).
TIES = ("position", "numpy")

# cleanlab.internal.constants
FLOATING_POINT_COMPARISON = 1e-6
CLIPPING_LOWER_BOUND = 1e-6
TINY_VALUE = 1e-100
CONFIDENT_THRESHOLDS_LOWER_BOUND = 2 * FLOATING_POINT_COMPARISON
# cleanlab accepts probabilities within this margin of [0, 1].
PROBABILITY_TOLERANCE = FLOATING_POINT_COMPARISON
# Threshold of a class no token is labelled with: no probability reaches it.
MISSING_CLASS_THRESHOLD = 2
# cleanlab's low_memory path (find_label_issues_batched) reads this many tokens at a time.
LOW_MEMORY_BATCH_SIZE = 10_000
# A sentence without tokens has nothing mislabelled in it.
EMPTY_SENTENCE_SCORE = 1.0
DEFAULT_TEMPERATURE = 0.05


def check_rank_by(method: str) -> None:
    """cleanlab's error for an unknown token score method."""
    if method not in RANK_BY:
        raise ValueError(
            f"""
            {method} is not a valid scoring method for rank_by!
            Please choose a valid rank_by: self_confidence, normalized_margin, confidence_weighted_entropy
            """
        )


def check_score_options(method: str, adjust_pred_probs: bool) -> None:
    """The score ``method`` exists and supports ``adjust_pred_probs`` (cleanlab's errors)."""
    check_rank_by(method)
    if method == "confidence_weighted_entropy" and adjust_pred_probs:
        raise ValueError(f"adjust_pred_probs is not currently supported for {method}.")


def check_rank_by_kwargs(rank_by_kwargs: dict[str, Any]) -> bool:
    """The keyword arguments cleanlab passes on to ``get_label_quality_scores``;
    returns ``adjust_pred_probs``."""
    unexpected = set(rank_by_kwargs) - {"adjust_pred_probs", "method"}
    if unexpected:
        raise TypeError(
            f"get_label_quality_scores() got an unexpected keyword argument '{sorted(unexpected)[0]}'"
        )
    if "method" in rank_by_kwargs:
        raise TypeError(
            "get_label_quality_scores() got multiple values for keyword argument 'method'"
        )
    return bool(rank_by_kwargs.get("adjust_pred_probs", False))


def check_sentence_score_method(method: str) -> None:
    if method not in SENTENCE_SCORE_METHODS:
        raise InvalidOptionError(
            "Select from the following methods:\n" + "\n".join(SENTENCE_SCORE_METHODS)
        )


def span_task(task: str | None, span: bool | None = None) -> bool | None:
    """``task`` (or its former name ``span``) as True (span), False (token) or None
    (1-D probabilities are span data, 2-D token data)."""
    if task not in (None, "span", "token"):
        raise InvalidOptionError(f'task must be "span" or "token", got {task!r}.')
    if task is None:
        return None if span is None else bool(span)
    if span is not None and bool(span) != (task == "span"):
        raise InvalidOptionError(f"span={span!r} contradicts task={task!r}.")
    return task == "span"


def check_ties(ties: str) -> None:
    if ties not in TIES:
        raise InvalidOptionError(f"ties must be one of {', '.join(map(repr, TIES))}; got {ties!r}.")


def check_n_jobs(n_jobs: int | None) -> None:
    if n_jobs is not None and not n_jobs >= 1:
        raise InvalidOptionError(f"n_jobs must be at least 1, got {n_jobs}.")


def check_filter_options(
    *,
    filter_by: str,
    return_indices_ranked_by: str | None,
    frac_noise: float = 1.0,
    num_to_remove_per_class: Sequence[int] | None = None,
    confident_joint: Any = None,
    n_jobs: int | None = None,
    low_memory: bool = False,
    rank_by_kwargs: dict[str, Any] | None = None,
    min_examples_per_class: int = 1,
    verbose: bool = False,
    stacklevel: int = 2,
) -> None:
    """cleanlab's checks and warnings for the options of ``find_label_issues``.

    With ``low_memory``, nothing is checked: cleanlab's warning instead for each option
    ``low_memory=True`` does not use that is not at its default (``rank_by_kwargs``,
    ``min_examples_per_class`` and ``verbose`` count only there). Warnings point
    ``stacklevel`` frames above this function (2: the caller of its caller).
    """
    if low_memory:
        given = dict(
            rank_by_kwargs=rank_by_kwargs,
            filter_by=filter_by,
            frac_noise=frac_noise,
            num_to_remove_per_class=num_to_remove_per_class,
            min_examples_per_class=min_examples_per_class,
            confident_joint=confident_joint,
            n_jobs=n_jobs,
            verbose=verbose,
        )
        warn_unused_by_low_memory(set_unused_by_low_memory(given), stacklevel + 1)
        return
    if filter_by not in FILTER_BY:
        raise InvalidOptionError(
            f"filter_by must be one of {', '.join(map(repr, FILTER_BY))}; got {filter_by!r}."
        )
    if return_indices_ranked_by is not None:
        check_rank_by(return_indices_ranked_by)
    prunes = filter_by in PRUNE_FILTERS
    if not prunes and (frac_noise != 1.0 or num_to_remove_per_class is not None):
        warnings.warn(
            "frac_noise and num_to_remove_per_class parameters are only supported"
            " for filter_by 'prune_by_noise_rate', 'prune_by_class', and 'both'. They "
            "are not supported for methods 'confident_learning', 'predicted_neq_given', "
            "'low_normalized_margin' or 'low_self_confidence'.",
            stacklevel=stacklevel + 1,
        )
    if num_to_remove_per_class is not None and not prunes:
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
    check_n_jobs(n_jobs)


# What low_memory=True does not use (cleanlab's find_label_issues_batched has no such
# options), with the defaults of spanfast.results.find_issues.
LOW_MEMORY_UNUSED = {
    "rank_by_kwargs": None,
    "filter_by": "prune_by_noise_rate",
    "frac_noise": 1.0,
    "num_to_remove_per_class": None,
    "min_examples_per_class": 1,
    "confident_joint": None,
    "n_jobs": None,
    "verbose": False,
}


def warn_unused_by_low_memory(names: Any, stacklevel: int = 2) -> None:
    """cleanlab's warning for each option named that ``low_memory=True`` does not use."""
    for name in names:
        warnings.warn(f"`{name}` is not used when `low_memory=True`.", stacklevel=stacklevel + 1)


def set_unused_by_low_memory(options: dict[str, Any]) -> list[str]:
    """The options among ``options`` that ``low_memory=True`` does not use and that are
    not at their default (a function with defaults cannot tell which were passed)."""
    return [
        name
        for name, value in options.items()
        if name in LOW_MEMORY_UNUSED
        and (
            value is not None
            if LOW_MEMORY_UNUSED[name] is None
            else value != LOW_MEMORY_UNUSED[name]
        )
    ]


def check_confident_joint(confident_joint: Any, n_classes: int) -> np.ndarray:
    """A confident joint given by the caller: K x K finite non-negative counts."""
    joint = np.asarray(confident_joint)
    if joint.shape != (n_classes, n_classes):
        raise InvalidInputError(
            f"confident_joint must have shape ({n_classes}, {n_classes}) for {n_classes} "
            f"classes, got {joint.shape}.",
            field="confident_joint",
        )
    if joint.dtype.kind not in "iuf" or not np.isfinite(joint).all() or (joint < 0).any():
        raise InvalidInputError(
            "confident_joint must hold finite, non-negative counts.", field="confident_joint"
        )
    return joint


def check_num_to_remove_per_class(num_to_remove: Any, n_classes: int) -> np.ndarray | None:
    """``num_to_remove_per_class``: one finite, non-negative number per class."""
    if num_to_remove is None:
        return None
    values = np.asarray(num_to_remove)
    if (
        values.shape != (n_classes,)
        or values.dtype.kind not in "iuf"
        or not np.isfinite(values).all()
        or (values < 0).any()
    ):
        shown = values.tolist() if values.size <= 20 else f"an array of shape {values.shape}"
        raise InvalidInputError(
            f"num_to_remove_per_class must hold one non-negative integer per class "
            f"({n_classes}), got {shown}.",
            field="num_to_remove_per_class",
        )
    return values
