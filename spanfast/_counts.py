"""K x K count arithmetic of confident learning, as cleanlab 2.9.0 does it.

Also what follows from the class counts alone: thresholds from class means,
the confident joint from its raw counts, which classes the cuts apply to.

These matrices are tiny (K x K), so plain NumPy is the right tool; what
matters is doing the same floating-point operations in the same order as
cleanlab (``count.calibrate_confident_joint``, ``filter._keep_at_least_n_per_class``,
``filter._reduce_prune_counts``, ``internal.util.round_preserving_row_totals``),
so that the integer counts that decide how many tokens are flagged agree.
"""

from __future__ import annotations

import sys
import warnings
from collections.abc import Sequence

import numpy as np

from . import _numpy_order
from .errors import InvalidInputError
from .options import (
    CONFIDENT_THRESHOLDS_LOWER_BOUND,
    FLOATING_POINT_COMPARISON,
    MISSING_CLASS_THRESHOLD,
    TINY_VALUE,
)


def round_preserving_sum(floats: np.ndarray) -> np.ndarray:
    """Round to integers while keeping the (rounded) total, like cleanlab.

    When the rounded entries miss the total, the entries with the largest
    rounding loss are moved first. cleanlab picks among equal losses with an
    unstable sort; spanfast takes the earlier position first.
    """
    floats = np.asarray(floats, dtype=float)
    ints = floats.round()
    target = np.sum(floats).round()
    total = np.sum(ints).round()
    while abs(total - target) > FLOATING_POINT_COMPARISON:
        diff = np.round(target - total)
        step = -1 if diff < 0 else 1
        changes = min(int(abs(diff)), len(floats))
        loss = floats - ints
        # step +1 raises the entries that lost most; step -1 lowers those that gained most.
        order = np.argsort(-loss if step > 0 else loss, kind="stable")[:changes]
        ints[order] += step
        total = np.sum(ints).round()
    return ints


def round_preserving_row_totals(matrix: np.ndarray, ties: str = "position") -> np.ndarray:
    """Each row rounded by :func:`round_preserving_sum` (``ties="numpy"``: cleanlab's
    own, NumPy's argsort choosing among equal losses)."""
    by_row = round_preserving_sum if ties == "position" else _numpy_order.round_preserving_sum
    return np.array([by_row(row) for row in matrix]).reshape(matrix.shape).astype(int)


def calibrate_confident_joint(
    confident_joint: np.ndarray, label_counts: np.ndarray, ties: str = "position"
) -> np.ndarray:
    """Rescale rows to the label counts and the total to the number of tokens."""
    row_sums = np.clip(confident_joint.sum(axis=1), a_min=TINY_VALUE, a_max=None)
    calibrated = (confident_joint.T / row_sums * label_counts).T
    calibrated = (
        calibrated / np.clip(np.sum(calibrated), a_min=TINY_VALUE, a_max=None) * sum(label_counts)
    )
    return round_preserving_row_totals(calibrated, ties)


def reduce_prune_counts(prune_counts: np.ndarray, frac_noise: float) -> np.ndarray:
    """Scale the off-diagonal by ``frac_noise``, moving the rest onto the diagonal."""
    scaled = prune_counts * frac_noise
    np.fill_diagonal(scaled, prune_counts.diagonal())
    np.fill_diagonal(scaled, prune_counts.diagonal() + np.sum(prune_counts - scaled, axis=0))
    return scaled.astype(int)


def keep_at_least_n_per_class(
    prune_counts: np.ndarray, n: int, frac_noise: float, ties: str = "position"
) -> np.ndarray:
    """Raise each diagonal entry to at least ``n``, taking the difference evenly
    from the column's non-zero off-diagonal entries; then apply ``frac_noise``."""
    diagonal = np.diagonal(prune_counts)
    new_diagonal = np.maximum(diagonal, n)
    raised_by = new_diagonal - diagonal
    off_diagonal_per_column = np.maximum(np.count_nonzero(prune_counts, axis=0) - 1.0, 1.0)
    adjusted = prune_counts - raised_by / off_diagonal_per_column
    adjusted[adjusted < 0] = 0
    np.fill_diagonal(adjusted, new_diagonal)
    adjusted = reduce_prune_counts(adjusted, frac_noise)
    return round_preserving_row_totals(adjusted, ties).astype(int)


def prune_counts_for_removal(
    prune_counts: np.ndarray,
    num_to_remove_per_class,
    label_counts: np.ndarray,
    ties: str = "position",
) -> np.ndarray:
    """Re-distribute the counts so class k loses ``num_to_remove_per_class[k]`` tokens."""
    noise_given_label = prune_counts / np.sum(prune_counts, axis=1)
    noise_per_label = noise_given_label.sum(axis=1) - noise_given_label.diagonal()
    target = (noise_given_label.T * num_to_remove_per_class / noise_per_label).T
    np.fill_diagonal(target, label_counts - num_to_remove_per_class)
    return round_preserving_row_totals(target, ties)


def thresholds_from_means(means: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Class means (in the probabilities' dtype) to thresholds, with NumPy's dtype rule
    (cleanlab ``count.get_confident_thresholds``)."""
    present = counts > 0
    if present.all():
        result = means
    else:
        result = np.where(present, means.astype(np.float64), float(MISSING_CLASS_THRESHOLD))
    return np.clip(result, a_min=CONFIDENT_THRESHOLDS_LOWER_BOUND, a_max=None)


def joint_from_counts(
    counts_by_guess: np.ndarray,
    counts: np.ndarray,
    *,
    calibrate: bool = True,
    ties: str = "position",
):
    """The confident joint ``[given, guess]`` from the counts ``[guess, given]`` the
    kernel adds up, as cleanlab's ``compute_confident_joint`` finishes it."""
    # A transposed (Fortran-ordered) view, exactly like cleanlab's
    # `confusion_matrix(...).T`: NumPy sums in memory order, so the layout decides
    # the rounding of the calibration's total and hence the integer counts.
    joint = counts_by_guess.T
    np.fill_diagonal(joint, joint.diagonal().clip(min=1))
    if calibrate:
        joint = calibrate_confident_joint(joint, counts, ties)
    return joint


def prune_counts(
    confident_joint: np.ndarray,
    counts: np.ndarray,
    min_examples_per_class: int,
    frac_noise: float,
    num_to_remove_per_class: Sequence[int] | None,
    ties: str = "position",
) -> np.ndarray:
    """How many tokens to prune per (true, given) class pair (cleanlab's prune_count_matrix)."""
    counts_to_prune = keep_at_least_n_per_class(
        confident_joint.T, min_examples_per_class, frac_noise, ties
    )
    if num_to_remove_per_class is not None:
        counts_to_prune = prune_counts_for_removal(
            counts_to_prune, num_to_remove_per_class, counts, ties
        )
    return counts_to_prune


def applied_classes(counts: np.ndarray, min_examples_per_class: int, filter_by: str) -> np.ndarray:
    """Classes the prune_by_* cuts apply to, with cleanlab's warnings for the others
    (attributed to the first caller outside spanfast)."""
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
                stacklevel=_outside_spanfast(),
            )
    # cleanlab only writes a class's mask back when the class has 2+ tokens.
    return (counts > min_examples_per_class) & (counts > 1)


def _outside_spanfast() -> int:
    """The ``stacklevel`` of the first frame outside spanfast, seen from our caller:
    runners call the plans at different depths, the warning belongs to the user's line."""
    frame, level = sys._getframe(2), 2
    while frame is not None and frame.f_globals.get("__name__", "").startswith("spanfast."):
        frame, level = frame.f_back, level + 1
    return level


def check_two_classes(counts: np.ndarray) -> None:
    """cleanlab allows a single class only when it is class 0."""
    if np.count_nonzero(counts) < 2 and counts[0] != counts.sum():
        raise InvalidInputError("Labels must contain at least 2 classes.", field="labels")
