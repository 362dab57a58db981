"""Class counts, and the batch-by-batch thresholds of cleanlab's ``low_memory`` path.

The thresholds of the main path (the mean probability of class k over the
tokens labelled k, as ``np.mean`` computes it) come from
:class:`~spanfast._kernels.running_sum.RunningSums`, in one pass and without
gathering the values.
"""

from __future__ import annotations

import numpy as np

from .._numba import helper, kernel
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
def _group_by_class(values, labels, counts, buffer):
    """``values`` (one per token: the probability of its label) written into ``buffer``
    grouped by label, in token order within a group; return each group's start."""
    K = counts.shape[0]
    group_start = np.zeros(K + 1, np.int64)
    for k in range(K):
        group_start[k + 1] = group_start[k] + counts[k]
    fill = group_start[:K].copy()
    for i in range(labels.shape[0]):
        k = labels[i]
        if fill[k] < group_start[k + 1]:  # counts not those of the labels: stay in bounds
            buffer[fill[k]] = values[i]
        fill[k] += 1
    return group_start


@helper
def _fill_batch_thresholds(
    buffer, group_start, batch_counts, lower_bound, lower_bound_in_dtype, missing_value,
    is_float32, out,
):  # fmt: skip
    """One batch's class thresholds into ``out``, as cleanlab's ``get_confident_thresholds``
    of the batch makes them: ``np.mean`` of each class's values (grouped in ``buffer``),
    ``missing_value`` for a class absent from the batch, clipped below. They are float32
    only when the input is float32 and every class occurs in the batch (NumPy's dtype
    for a list of float32 scalars); then they are clipped at ``lower_bound_in_dtype``."""
    K = batch_counts.shape[0]
    all_present = True
    for k in range(K):
        if batch_counts[k] == 0:
            all_present = False
    for k in range(K):
        if batch_counts[k] > 0:
            mean = mean_like_numpy(buffer, group_start[k], group_start[k + 1])
            if is_float32 and all_present:
                out[k] = np.float64(max(mean, lower_bound_in_dtype))
            else:
                out[k] = max(np.float64(mean), lower_bound)
        else:
            out[k] = max(missing_value, lower_bound)


@kernel
def grid_batch_thresholds(
    P, labels, start, stop, batch_size, lower_bound, lower_bound_in_dtype, missing_value,
    is_float32,
):  # fmt: skip
    """Class counts and thresholds ``(n, K)`` of the batches of ``batch_size`` tokens
    that tokens ``start..stop-1`` make (the last one shorter when the tokens end first),
    each as :func:`_fill_batch_thresholds` makes a batch's."""
    K = n_classes(P)
    T = labels.shape[0]
    start, stop = max(start, 0), min(stop, T)  # stay in bounds whatever the caller asks
    n = max(-(-(stop - start) // batch_size), 0)
    counts = np.zeros((n, K), np.int64)
    batch_thresholds = np.empty((n, K), np.float64)
    buffer = np.empty(min(batch_size, max(stop - start, 0)), P.dtype)
    for b in range(n):
        lo = start + b * batch_size
        hi = min(lo + batch_size, stop)
        for i in range(lo, hi):
            counts[b, labels[i]] += 1
        group_start = _gather_by_class(P, labels, lo, hi, counts[b], buffer)
        _fill_batch_thresholds(
            buffer, group_start, counts[b], lower_bound, lower_bound_in_dtype, missing_value,
            is_float32, batch_thresholds[b],
        )  # fmt: skip
    return counts, batch_thresholds


@kernel
def values_batch_thresholds(
    values, labels, n_class, lower_bound, lower_bound_in_dtype, missing_value, is_float32
):
    """Class counts and thresholds ``(1, K)`` of one batch given as ``labels`` and
    ``values`` (the probability of each token's label), as :func:`grid_batch_thresholds`
    makes them from the probabilities."""
    counts = np.zeros((1, n_class), np.int64)
    for i in range(labels.shape[0]):
        counts[0, labels[i]] += 1
    buffer = np.empty(labels.shape[0], values.dtype)
    group_start = _group_by_class(values, labels, counts[0], buffer)
    batch_thresholds = np.empty((1, n_class), np.float64)
    _fill_batch_thresholds(
        buffer, group_start, counts[0], lower_bound, lower_bound_in_dtype, missing_value,
        is_float32, batch_thresholds[0],
    )  # fmt: skip
    return counts, batch_thresholds


@kernel
def fold_batch_thresholds(batch_counts, batch_thresholds, lower_bound):
    """cleanlab's ``LabelInspector.update_confident_thresholds``, batch after batch: a
    running, count-weighted float64 average of the batches' thresholds (rows of
    ``batch_thresholds``, in dataset order), clipped below at ``lower_bound`` after
    every batch."""
    n, K = batch_counts.shape
    thresholds = np.zeros(K, np.float64)
    examples_per_class = np.zeros(K, np.float64)
    for b in range(n):
        for k in range(K):
            count = np.float64(batch_counts[b, k])
            weighted = examples_per_class[k] * thresholds[k] + count * batch_thresholds[b, k]
            total = max(examples_per_class[k] + count, 1.0)
            thresholds[k] = max(weighted / total, lower_bound)
            examples_per_class[k] += count
    return thresholds
