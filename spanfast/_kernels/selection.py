"""Which tokens are flagged: cleanlab's pruning rules and top-k cuts.

cleanlab cuts "the m tokens with the largest margin" (or smallest probability,
or smallest score) with ``np.argsort(...)[:m]``, an unstable sort, so among
equal keys the chosen tokens are unspecified. Here every cut keeps the m
smallest ``(key, position)`` pairs: equal keys are broken by position, the
earlier token first. A bounded max-heap per cut does this in one pass over
the tokens, reading each probability row once; a cut's state (its heap) is
small and merges across batches.
"""

from __future__ import annotations

import numpy as np

from .._numba import inline_kernel, kernel
from .access import n_classes, probability
from .confident_joint import argmax_row


@inline_kernel
def _worse(key_a, position_a, key_b, position_b):
    return key_a > key_b or (key_a == key_b and position_a > position_b)


@inline_kernel
def heap_offer(keys, positions, base, size, capacity, key, position):
    """Offer ``(key, position)`` to the heap in ``[base, base + capacity)``.

    The heap keeps the ``capacity`` smallest pairs seen so far, the worst at
    its root. Returns the heap's new size.
    """
    if size < capacity:
        j = size
        while j > 0:
            parent = (j - 1) // 2
            if not _worse(key, position, keys[base + parent], positions[base + parent]):
                break
            keys[base + j] = keys[base + parent]
            positions[base + j] = positions[base + parent]
            j = parent
        keys[base + j] = key
        positions[base + j] = position
        return size + 1
    if not _worse(keys[base], positions[base], key, position):
        return size
    j = 0
    while True:
        child = 2 * j + 1
        if child >= size:
            break
        right = child + 1
        if right < size and _worse(
            keys[base + right], positions[base + right], keys[base + child], positions[base + child]
        ):
            child = right
        if not _worse(keys[base + child], positions[base + child], key, position):
            break
        keys[base + j] = keys[base + child]
        positions[base + j] = positions[base + child]
        j = child
    keys[base + j] = key
    positions[base + j] = position
    return size


@inline_kernel
def _heaps(capacity):
    base = np.zeros(capacity.shape[0] + 1, np.int64)
    for h in range(capacity.shape[0]):
        base[h + 1] = base[h] + capacity[h]
    keys = np.empty(base[-1], np.float64)
    positions = np.empty(base[-1], np.int64)
    sizes = np.zeros(capacity.shape[0], np.int64)
    return base, keys, positions, sizes


@inline_kernel
def _mark(mask, base, positions, sizes):
    for h in range(sizes.shape[0]):
        for s in range(sizes[h]):
            mask[positions[base[h] + s]] = True


@kernel
def prune_by_noise_rate(P, labels, prune_counts, counts, eligible):
    """cleanlab ``filter._prune_by_count`` for every class at once.

    Among tokens labelled k (for each eligible class k), for every other class
    j flag the ``prune_counts[j, k]`` tokens with the largest margin
    ``p[j] - p[k]`` (computed in the probabilities' dtype, as NumPy does).
    """
    K = n_classes(P)
    T = labels.shape[0]
    capacity = np.zeros(K * K, np.int64)
    for k in range(K):
        if eligible[k]:
            for j in range(K):
                if j != k and prune_counts[j, k] > 0:
                    capacity[k * K + j] = min(prune_counts[j, k], counts[k])
    base, keys, positions, sizes = _heaps(capacity)
    for i in range(T):
        k = labels[i]
        if not eligible[k]:
            continue
        p_given = probability(P, i, k)
        for j in range(K):
            h = k * K + j
            if capacity[h] == 0:
                continue
            margin = probability(P, i, j) - p_given
            sizes[h] = heap_offer(keys, positions, base[h], sizes[h], capacity[h], -margin, i)
    mask = np.zeros(T, np.bool_)
    _mark(mask, base, positions, sizes)
    return mask


@kernel
def prune_by_class(P, labels, n_to_prune, counts, eligible):
    """cleanlab ``filter._prune_by_class``: per eligible class k, flag the
    ``n_to_prune[k]`` tokens labelled k with the smallest probability of k."""
    K = n_classes(P)
    T = labels.shape[0]
    capacity = np.zeros(K, np.int64)
    for k in range(K):
        if eligible[k] and n_to_prune[k] > 0:
            capacity[k] = min(n_to_prune[k], counts[k])
    base, keys, positions, sizes = _heaps(capacity)
    for i in range(T):
        k = labels[i]
        if capacity[k] > 0:
            sizes[k] = heap_offer(
                keys, positions, base[k], sizes[k], capacity[k], probability(P, i, k), i
            )
    mask = np.zeros(T, np.bool_)
    _mark(mask, base, positions, sizes)
    return mask


@kernel
def smallest(scores, m):
    """Mask of the ``m`` smallest scores, equal scores broken by position."""
    T = scores.shape[0]
    capacity = np.full(1, min(max(m, 0), T), np.int64)
    base, keys, positions, sizes = _heaps(capacity)
    if capacity[0] > 0:
        for i in range(T):
            sizes[0] = heap_offer(keys, positions, 0, sizes[0], capacity[0], scores[i], i)
    mask = np.zeros(T, np.bool_)
    _mark(mask, base, positions, sizes)
    return mask


@kernel
def prediction_matches_label(P, labels, margin):
    """cleanlab ``count._reduce_issues``: does the argmax pick the given label once
    its probability is raised by ``margin`` (added in the probabilities' dtype)?"""
    K = n_classes(P)
    T = labels.shape[0]
    matches = np.empty(T, np.bool_)
    for i in range(T):
        given = labels[i]
        raised = probability(P, i, given) + margin
        ok = True
        # np.argmax returns the first maximum: an earlier class wins ties.
        for c in range(given):
            if probability(P, i, c) >= raised:
                ok = False
                break
        if ok:
            for c in range(given + 1, K):
                if probability(P, i, c) > raised:
                    ok = False
                    break
        matches[i] = ok
    return matches


@kernel
def predicted_neq_given(P, labels):
    """cleanlab ``filter.find_predicted_neq_given``: argmax differs from the label."""
    K = n_classes(P)
    T = labels.shape[0]
    mask = np.empty(T, np.bool_)
    for i in range(T):
        mask[i] = argmax_row(P, i, K) != labels[i]
    return mask


@kernel
def count_confident_disagreements(P, labels, thresholds_minus_margin):
    """cleanlab ``LabelInspector``'s issue count: tokens whose argmax differs from
    the label and whose argmax probability reaches that class's threshold."""
    K = n_classes(P)
    count = 0
    for i in range(labels.shape[0]):
        predicted = argmax_row(P, i, K)
        if (
            predicted != labels[i]
            and probability(P, i, predicted) >= thresholds_minus_margin[predicted]
        ):
            count += 1
    return count
