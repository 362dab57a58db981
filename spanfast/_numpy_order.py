"""``ties="numpy"``: cleanlab's own orders, for users who diff the two libraries.

spanfast breaks ties by position (``ties="position"``, the default). cleanlab
sorts with NumPy's default (unstable) argsort, so among equal keys its order —
and which tied tokens make a top-k cut — is whatever that sort gives on that
array, on that machine. To give exactly cleanlab 2.9.0's answer, ties included,
these functions call ``np.argsort`` on exactly the arrays cleanlab sorts, built
the way cleanlab builds them (span probabilities as the stacked ``[1 - p, p]``
columns). They cost what cleanlab's sorts cost: O(n log n) over each class.

Each function names the cleanlab code it reproduces.
"""

from __future__ import annotations

import numpy as np

from .options import FLOATING_POINT_COMPARISON


def class_matrix(probs: np.ndarray) -> np.ndarray:
    """(T, K) probabilities as cleanlab holds them: span data stacked as ``[1 - p, p]``
    (``experimental.span_classification._get_pred_prob_token``)."""
    return np.stack([1 - probs, probs], axis=1) if probs.ndim == 1 else probs


def round_preserving_sum(floats: np.ndarray) -> np.ndarray:
    """``internal.util.round_preserving_sum``, NumPy's argsort included."""
    floats = np.asarray(floats, dtype=float)
    ints = floats.round()
    orig_sum = np.sum(floats).round()
    int_sum = np.sum(ints).round()
    while abs(int_sum - orig_sum) > FLOATING_POINT_COMPARISON:
        diff = np.round(orig_sum - int_sum)
        increment = -1 if int(diff < 0.0) else 1
        changes = min(int(abs(diff)), len(floats))
        indices = np.argsort(floats - ints)[::-increment][:changes]
        for i in indices:
            ints[i] = ints[i] + increment
        int_sum = np.sum(ints).round()
    return ints.astype(int)


def prune_by_class(
    probs: np.ndarray, labels: np.ndarray, n_to_prune: np.ndarray, applied: np.ndarray
) -> np.ndarray:
    """Sorted positions ``filter._prune_by_class`` flags, class by class."""
    matrix = class_matrix(probs)
    flagged = []
    for k in np.flatnonzero(applied & (n_to_prune >= 1)):
        members = np.flatnonzero(labels == k)
        order = np.argsort(matrix[members][:, k])
        flagged.append(members[order[: n_to_prune[k]]])
    return _sorted(flagged)


def prune_by_noise_rate(
    probs: np.ndarray, labels: np.ndarray, prune_counts: np.ndarray, applied: np.ndarray
) -> np.ndarray:
    """Sorted positions ``filter._prune_by_count`` flags, class pair by class pair."""
    matrix = class_matrix(probs)
    flagged = []
    for k in np.flatnonzero(applied):
        members = np.flatnonzero(labels == k)
        class_probs = matrix[members]
        for j in range(matrix.shape[1]):
            num2prune = prune_counts[j, k]
            if j != k and num2prune > 0:
                margin = class_probs[:, j] - class_probs[:, k]
                flagged.append(members[np.argsort(-margin)[:num2prune]])
    return _sorted(flagged)


def smallest(scores: np.ndarray, m: int) -> np.ndarray:
    """Sorted positions of ``np.argsort(scores)[:m]`` (``filter.find_label_issues``'
    ``low_*`` cut; ``rank.find_top_issues`` for ``low_memory``)."""
    return np.sort(np.argsort(scores)[: max(int(m), 0)])


def order_by_score(positions: np.ndarray, position_scores: np.ndarray) -> np.ndarray:
    """``positions`` (increasing) as ``rank.order_label_issues`` orders them."""
    return positions[np.argsort(position_scores)]


def _sorted(parts: list[np.ndarray]) -> np.ndarray:
    if not parts:
        return np.empty(0, np.int64)
    return np.unique(np.concatenate(parts)).astype(np.int64)
