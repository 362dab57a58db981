"""Class counts, and the batch-by-batch thresholds of cleanlab's ``low_memory`` path.

The thresholds of the main path (the mean probability of class k over the
tokens labelled k, as ``np.mean`` computes it) come from
:class:`~spanfast._kernels.running_sum.RunningSums`, in one pass and without
gathering the values.
"""

from __future__ import annotations

import numpy as np

from .._numba import kernel
from .access import n_classes, probability
from .summation import mean_like_numpy


@kernel
def class_counts(labels, n_class):
    """Number of tokens given each label."""
    counts = np.zeros(n_class, np.int64)
    T = labels.shape[0]
    if n_class * labels.itemsize <= 16:
        # Few classes and narrow labels: one vectorized comparison pass per class
        # beats scattered increments (10x for span labels as int8).
        for k in range(n_class):
            n = 0
            for i in range(T):
                n += labels[i] == k
            counts[k] = n
        return counts
    # Four interleaved tables, so consecutive increments rarely wait on each other.
    partial = np.zeros((4, n_class), np.int64)
    for i in range(0, T - 3, 4):
        partial[0, labels[i]] += 1
        partial[1, labels[i + 1]] += 1
        partial[2, labels[i + 2]] += 1
        partial[3, labels[i + 3]] += 1
    for i in range(T - T % 4, T):
        partial[0, labels[i]] += 1
    for r in range(4):
        for k in range(n_class):
            counts[k] += partial[r, k]
    return counts


@kernel
def _gather_by_class(P, labels, start, stop, counts, buffer):
    """Write ``probability(P, i, labels[i])`` for ``start <= i < stop`` into ``buffer``,
    grouped by label and in token order within a group; return each group's start."""
    K = n_classes(P)
    group_start = np.zeros(K + 1, np.int64)
    for k in range(K):
        group_start[k + 1] = group_start[k] + counts[k]
    fill = group_start[:K].copy()
    for i in range(start, stop):
        k = labels[i]
        if fill[k] < group_start[k + 1]:  # counts not those of the labels: stay in bounds
            buffer[fill[k]] = probability(P, i, k)
        fill[k] += 1
    return group_start


@kernel
def batched_thresholds(
    P, labels, batch_size, lower_bound, lower_bound_in_dtype, missing_value, is_float32
):
    """Thresholds as cleanlab's ``LabelInspector.update_confident_thresholds`` builds them.

    ``low_memory=True`` in cleanlab walks the data in batches of ``batch_size``
    tokens, takes each batch's class means (``np.mean`` of the batch, with
    ``missing_value`` for a class absent from the batch), and folds them into a
    running, count-weighted float64 average clipped below at ``lower_bound``
    after every batch. A batch's thresholds are float32 only when the input is
    float32 and every class occurs in the batch (NumPy's dtype for a list of
    float32 scalars); then they are clipped at ``lower_bound_in_dtype``.
    """
    K = n_classes(P)
    T = labels.shape[0]
    thresholds = np.zeros(K, np.float64)
    examples_per_class = np.zeros(K, np.float64)
    buffer = np.empty(min(batch_size, T), P.dtype)
    batch_counts = np.zeros(K, np.int64)
    batch_thresholds = np.empty(K, np.float64)
    for start in range(0, T, batch_size):
        stop = min(start + batch_size, T)
        batch_counts[:] = 0
        for i in range(start, stop):
            batch_counts[labels[i]] += 1
        group_start = _gather_by_class(P, labels, start, stop, batch_counts, buffer)
        all_present = True
        for k in range(K):
            if batch_counts[k] == 0:
                all_present = False
        for k in range(K):
            if batch_counts[k] > 0:
                mean = mean_like_numpy(buffer, group_start[k], group_start[k + 1])
                if is_float32 and all_present:
                    batch_thresholds[k] = np.float64(max(mean, lower_bound_in_dtype))
                else:
                    batch_thresholds[k] = max(np.float64(mean), lower_bound)
            else:
                batch_thresholds[k] = max(missing_value, lower_bound)
        for k in range(K):
            weighted = (
                examples_per_class[k] * thresholds[k]
                + np.float64(batch_counts[k]) * batch_thresholds[k]
            )
            total = max(examples_per_class[k] + batch_counts[k], 1.0)
            thresholds[k] = max(weighted / total, lower_bound)
            examples_per_class[k] += batch_counts[k]
    return thresholds
