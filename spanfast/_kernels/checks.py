"""Scans that find the first invalid entry, so an error can say where it is."""

from __future__ import annotations

import numpy as np

from .._numba import kernel


@kernel
def count_invalid_probabilities(values, low, high):
    """How many values are NaN, infinite or outside [low, high] (a branch-free scan)."""
    flat = values.reshape(-1)
    n_invalid = 0
    for i in range(flat.shape[0]):
        value = flat[i]
        n_invalid += not (value >= low and value <= high)  # NaN fails both
    return n_invalid


@kernel
def first_invalid_probability(values, low, high):
    """Flat index of the first value that is NaN, infinite or outside [low, high]; -1 if none."""
    flat = values.reshape(-1)
    for i in range(flat.shape[0]):
        v = np.float64(flat[i])
        # Written so that NaN fails the test too.
        if not (v >= low and v <= high):
            return i
    return -1


@kernel
def first_label_out_of_range(labels, n_classes):
    """Index of the first label outside ``0..n_classes-1``; -1 if none."""
    n_bad = 0
    for i in range(labels.shape[0]):  # branch-free, so it vectorizes: the common case
        label = labels[i]
        n_bad += (label < 0) | (label >= n_classes)
    if n_bad == 0:
        return -1
    for i in range(labels.shape[0]):
        if labels[i] < 0 or labels[i] >= n_classes:
            return i
    return -1


@kernel
def first_decreasing_offset(offsets):
    """Index ``i`` of the first ``offsets[i + 1] < offsets[i]``; -1 if monotone."""
    for i in range(offsets.shape[0] - 1):
        if offsets[i + 1] < offsets[i]:
            return i
    return -1


@kernel
def narrow_labels(labels, n_classes, out):
    """Copy ``labels`` into the narrower integer array ``out``; return how many
    were outside ``0..n_classes-1`` (those are written as 0: the caller reports
    them). One branch-free pass instead of a check and a cast."""
    n_bad = 0
    for i in range(labels.shape[0]):
        label = labels[i]
        bad = (label < 0) | (label >= n_classes)
        n_bad += bad
        out[i] = 0 if bad else label  # a select, not a branch: still one vector pass
    return n_bad
