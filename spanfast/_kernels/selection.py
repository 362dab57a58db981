"""Which tokens are flagged: cleanlab's pruning rules and top-k cuts.

cleanlab cuts "the m tokens with the largest margin" (or smallest probability,
or smallest score) with ``np.argsort(...)[:m]``, an unstable sort, so among
equal keys the chosen tokens are unspecified. Here every cut keeps the m
smallest ``(key, position)`` pairs: equal keys are broken by position, the
earlier token first. No sort of all tokens is needed: one pass counts keys
into fixed buckets per cut, which fixes the bucket where the cut falls; a
second pass flags every token below it and collects the few in it, which
alone are sorted. The bucket counts add up across batches, so a cut can be
computed batch by batch with the same result.
"""

from __future__ import annotations

import numpy as np

from .._numba import inline_kernel, kernel
from .access import n_classes, probability
from .confident_joint import argmax_row

# Keys (probabilities, margins p[j] - p[k], token scores) lie in about [-1, 1];
# they are binned into equal-width buckets over [_KEY_LOW, _KEY_HIGH] (values
# outside fall into the end buckets, which keeps the binning monotone).
_N_BUCKETS = 4096
_KEY_LOW = -1.5
_KEY_HIGH = 1.5
_BUCKETS_PER_UNIT = _N_BUCKETS / (_KEY_HIGH - _KEY_LOW)


@inline_kernel
def _bucket(key):
    b = int((np.float64(key) - _KEY_LOW) * _BUCKETS_PER_UNIT)
    if b < 0:
        return 0
    if b >= _N_BUCKETS:
        return _N_BUCKETS - 1
    return b


@inline_kernel
def _plan(histogram, capacity):
    """For each cut h keeping ``capacity[h]`` keys: the boundary bucket (every key
    in a lower bucket is kept), how many keys the boundary bucket must still give,
    and where each cut's boundary-bucket candidates go in one flat buffer."""
    n_cuts = capacity.shape[0]
    boundary = np.full(n_cuts, _N_BUCKETS, np.int64)
    still_needed = np.zeros(n_cuts, np.int64)
    candidate_start = np.zeros(n_cuts + 1, np.int64)
    for h in range(n_cuts):
        kept = 0
        if capacity[h] > 0:
            for b in range(_N_BUCKETS):
                in_bucket = histogram[h * _N_BUCKETS + b]
                if kept + in_bucket >= capacity[h]:
                    boundary[h] = b
                    still_needed[h] = capacity[h] - kept
                    break
                kept += in_bucket
        size = histogram[h * _N_BUCKETS + boundary[h]] if boundary[h] < _N_BUCKETS else 0
        candidate_start[h + 1] = candidate_start[h] + size
    return boundary, still_needed, candidate_start


@inline_kernel
def _resolve(mask, candidate_keys, candidate_positions, candidate_start, still_needed):
    """Keep each cut's ``still_needed`` smallest boundary candidates. Candidates were
    stored in position order, so a stable sort by key breaks ties by position."""
    for h in range(still_needed.shape[0]):
        lo = candidate_start[h]
        hi = candidate_start[h + 1]
        if still_needed[h] == 0 or lo == hi:
            continue
        order = np.argsort(candidate_keys[lo:hi], kind="mergesort")
        for r in range(still_needed[h]):
            mask[candidate_positions[lo + order[r]]] = True


@kernel
def prune_by_noise_rate(P, labels, prune_counts, counts, eligible):
    """cleanlab ``filter._prune_by_count`` for every class at once.

    Among tokens labelled k (for each eligible class k), for every other class
    j flag the ``prune_counts[j, k]`` tokens with the largest margin
    ``p[j] - p[k]`` (computed in the probabilities' dtype, as NumPy does);
    equal margins are taken in position order.
    """
    K = n_classes(P)
    T = labels.shape[0]
    capacity = np.zeros(K * K, np.int64)
    for k in range(K):
        if eligible[k]:
            for j in range(K):
                if j != k and prune_counts[j, k] > 0:
                    capacity[k * K + j] = min(prune_counts[j, k], counts[k])
    histogram = np.zeros(K * K * _N_BUCKETS, np.int64)
    for i in range(T):
        k = labels[i]
        if not eligible[k]:
            continue
        p_given = probability(P, i, k)
        for j in range(K):
            h = k * K + j
            if capacity[h] > 0:
                histogram[h * _N_BUCKETS + _bucket(-(probability(P, i, j) - p_given))] += 1
    boundary, still_needed, candidate_start = _plan(histogram, capacity)
    candidate_keys = np.empty(candidate_start[-1], np.float64)
    candidate_positions = np.empty(candidate_start[-1], np.int64)
    filled = candidate_start[:-1].copy()
    mask = np.zeros(T, np.bool_)
    for i in range(T):
        k = labels[i]
        if not eligible[k]:
            continue
        p_given = probability(P, i, k)
        for j in range(K):
            h = k * K + j
            if capacity[h] == 0:
                continue
            key = -(probability(P, i, j) - p_given)
            b = _bucket(key)
            if b < boundary[h]:
                mask[i] = True
            elif b == boundary[h]:
                candidate_keys[filled[h]] = key
                candidate_positions[filled[h]] = i
                filled[h] += 1
    _resolve(mask, candidate_keys, candidate_positions, candidate_start, still_needed)
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
    histogram = np.zeros(K * _N_BUCKETS, np.int64)
    for i in range(T):
        k = labels[i]
        if capacity[k] > 0:
            histogram[k * _N_BUCKETS + _bucket(probability(P, i, k))] += 1
    boundary, still_needed, candidate_start = _plan(histogram, capacity)
    candidate_keys = np.empty(candidate_start[-1], np.float64)
    candidate_positions = np.empty(candidate_start[-1], np.int64)
    filled = candidate_start[:-1].copy()
    mask = np.zeros(T, np.bool_)
    for i in range(T):
        k = labels[i]
        if capacity[k] == 0:
            continue
        key = probability(P, i, k)
        b = _bucket(key)
        if b < boundary[k]:
            mask[i] = True
        elif b == boundary[k]:
            candidate_keys[filled[k]] = key
            candidate_positions[filled[k]] = i
            filled[k] += 1
    _resolve(mask, candidate_keys, candidate_positions, candidate_start, still_needed)
    return mask


@kernel
def smallest(scores, m):
    """Mask of the ``m`` smallest scores, equal scores broken by position."""
    T = scores.shape[0]
    capacity = np.full(1, min(max(m, 0), T), np.int64)
    histogram = np.zeros(_N_BUCKETS, np.int64)
    if capacity[0] > 0:
        for i in range(T):
            histogram[_bucket(scores[i])] += 1
    boundary, still_needed, candidate_start = _plan(histogram, capacity)
    candidate_keys = np.empty(candidate_start[-1], np.float64)
    candidate_positions = np.empty(candidate_start[-1], np.int64)
    filled = 0
    mask = np.zeros(T, np.bool_)
    if capacity[0] > 0:
        for i in range(T):
            b = _bucket(scores[i])
            if b < boundary[0]:
                mask[i] = True
            elif b == boundary[0]:
                candidate_keys[filled] = scores[i]
                candidate_positions[filled] = i
                filled += 1
    _resolve(mask, candidate_keys, candidate_positions, candidate_start, still_needed)
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
