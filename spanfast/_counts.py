"""K x K count arithmetic of confident learning, as cleanlab 2.9.0 does it.

These matrices are tiny (K x K), so plain NumPy is the right tool; what
matters is doing the same floating-point operations in the same order as
cleanlab (``count.calibrate_confident_joint``, ``filter._keep_at_least_n_per_class``,
``filter._reduce_prune_counts``, ``internal.util.round_preserving_row_totals``),
so that the integer counts that decide how many tokens are flagged agree.
"""

from __future__ import annotations

import numpy as np

from .options import FLOATING_POINT_COMPARISON, TINY_VALUE


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


def round_preserving_row_totals(matrix: np.ndarray) -> np.ndarray:
    return np.array([round_preserving_sum(row) for row in matrix]).reshape(matrix.shape).astype(int)


def calibrate_confident_joint(confident_joint: np.ndarray, label_counts: np.ndarray) -> np.ndarray:
    """Rescale rows to the label counts and the total to the number of tokens."""
    row_sums = np.clip(confident_joint.sum(axis=1), a_min=TINY_VALUE, a_max=None)
    calibrated = (confident_joint.T / row_sums * label_counts).T
    calibrated = (
        calibrated / np.clip(np.sum(calibrated), a_min=TINY_VALUE, a_max=None) * sum(label_counts)
    )
    return round_preserving_row_totals(calibrated)


def reduce_prune_counts(prune_counts: np.ndarray, frac_noise: float) -> np.ndarray:
    """Scale the off-diagonal by ``frac_noise``, moving the rest onto the diagonal."""
    scaled = prune_counts * frac_noise
    np.fill_diagonal(scaled, prune_counts.diagonal())
    np.fill_diagonal(scaled, prune_counts.diagonal() + np.sum(prune_counts - scaled, axis=0))
    return scaled.astype(int)


def keep_at_least_n_per_class(prune_counts: np.ndarray, n: int, frac_noise: float) -> np.ndarray:
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
    return round_preserving_row_totals(adjusted).astype(int)


def prune_counts_for_removal(
    prune_counts: np.ndarray, num_to_remove_per_class, label_counts: np.ndarray
) -> np.ndarray:
    """Re-distribute the counts so class k loses ``num_to_remove_per_class[k]`` tokens."""
    noise_given_label = prune_counts / np.sum(prune_counts, axis=1)
    noise_per_label = noise_given_label.sum(axis=1) - noise_given_label.diagonal()
    target = (noise_given_label.T * num_to_remove_per_class / noise_per_label).T
    np.fill_diagonal(target, label_counts - num_to_remove_per_class)
    return round_preserving_row_totals(target)
