"""Token label-quality scores of checked arrays (cleanlab ``rank.get_label_quality_scores``).

Below :mod:`spanfast.core` and :mod:`spanfast.plans`, which both score tokens:
the core for its results, the plans for the ``low_*`` filters' cut keys.
"""

from __future__ import annotations

import numpy as np

from ._kernels import scores
from .errors import InvalidInputError
from .options import CLIPPING_LOWER_BOUND


def token_scores(
    labels: np.ndarray,
    probs: np.ndarray,
    method: str,
    *,
    class_thresholds: np.ndarray | None = None,
    positions: np.ndarray | None = None,
) -> np.ndarray:
    """Scores of checked labels and probabilities by ``method``.

    ``class_thresholds``: subtract them first (``adjust_pred_probs``; computed from
    every token by the caller). ``positions``: score only these tokens (the values
    are those of scoring every token and taking ``[positions]``).
    """
    n_classes = 2 if probs.ndim == 1 else probs.shape[1]
    if method == "normalized_margin" and n_classes < 2:
        raise InvalidInputError("normalized_margin needs at least 2 classes.", field="pred_probs")
    if method == "confidence_weighted_entropy" and labels.shape[0]:
        # cleanlab's get_normalized_entropy is strict about [0, 1] (no 1e-6 tolerance).
        if probs.min() < 0 or probs.max() > 1:
            raise ValueError("All probabilities are required to be in the interval [0, 1].")
    if positions is not None and method == "self_confidence" and class_thresholds is None:
        return scores.self_confidence_at(probs, labels, positions)
    if positions is not None:
        labels, probs = labels[positions], probs[positions]
    if class_thresholds is not None:
        probs = scores.adjusted_probabilities(probs, class_thresholds)
    if method == "self_confidence":
        return scores.self_confidence(probs, labels)
    if method == "normalized_margin":
        return scores.normalized_margin(probs, labels)
    ratio = scores.entropy_over_confidence(probs, labels, np.log(n_classes), CLIPPING_LOWER_BOUND)
    return np.log(ratio + 1) / np.clip(ratio, a_min=CLIPPING_LOWER_BOUND, a_max=None)
