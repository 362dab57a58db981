"""Slow, obviously correct references for the kernels (compared in test_kernels.py)."""

from __future__ import annotations

import numpy as np


def smallest_by_position(keys: np.ndarray, m: int) -> set[int]:
    """Positions of the m smallest keys; equal keys taken in position order."""
    order = sorted(range(len(keys)), key=lambda i: (keys[i], i))
    return set(order[: max(m, 0)])


def prune_by_noise_rate(probs: np.ndarray, labels: np.ndarray, prune_counts, eligible) -> set[int]:
    """cleanlab's _prune_by_count for every class, ties by position."""
    flagged: set[int] = set()
    K = probs.shape[1]
    for k in range(K):
        members = np.flatnonzero(labels == k)
        if not eligible[k]:
            continue
        for j in range(K):
            if j == k or prune_counts[j, k] <= 0:
                continue
            margins = probs[members, j] - probs[members, k]
            chosen = smallest_by_position(-margins, int(prune_counts[j, k]))
            flagged |= {int(members[c]) for c in chosen}
    return flagged


def prediction_matches_label(probs: np.ndarray, labels: np.ndarray) -> np.ndarray:
    raised = probs.copy()
    raised[np.arange(len(labels)), labels] += 1e-6
    return raised.argmax(axis=1) == labels
