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

from .._numba import helper, kernel
from .access import n_classes, probability
from .confident_joint import argmax_row

# Keys (probabilities, margins p[j] - p[k], token scores) lie in about [-1, 1];
# they are binned into equal-width buckets over [_KEY_LOW, _KEY_HIGH] (values
# outside fall into the end buckets, which keeps the binning monotone).
_N_BUCKETS = 1024
_KEY_LOW = -1.5
_KEY_HIGH = 1.5
_BUCKETS_PER_UNIT = _N_BUCKETS / (_KEY_HIGH - _KEY_LOW)


@helper
def _bucket(key):
    # Clamped in floating point (min/max compile to branch-free instructions).
    scaled = (np.float64(key) - _KEY_LOW) * _BUCKETS_PER_UNIT
    return int(min(max(scaled, 0.0), _N_BUCKETS - 1.0))


@kernel
def plan_cuts(histogram, capacity):
    """For each cut h keeping ``capacity[h]`` keys, from its bucket counts
    (``histogram[h * _N_BUCKETS + b]``): the boundary bucket (every key in a
    lower bucket is kept; ``_N_BUCKETS`` when all keys are kept, -1 when none
    are), how many keys
    the boundary bucket must still give, and where each cut's boundary-bucket
    candidates go in one flat buffer (``candidate_start``)."""
    n_cuts = capacity.shape[0]
    boundary = np.full(n_cuts, _N_BUCKETS, np.int64)
    still_needed = np.zeros(n_cuts, np.int64)
    candidate_start = np.zeros(n_cuts + 1, np.int64)
    for h in range(n_cuts):
        kept = 0
        if capacity[h] <= 0:
            boundary[h] = -1
        else:
            for b in range(_N_BUCKETS):
                in_bucket = histogram[h * _N_BUCKETS + b]
                if kept + in_bucket >= capacity[h]:
                    boundary[h] = b
                    still_needed[h] = capacity[h] - kept
                    break
                kept += in_bucket
        size = histogram[h * _N_BUCKETS + boundary[h]] if 0 <= boundary[h] < _N_BUCKETS else 0
        candidate_start[h + 1] = candidate_start[h] + size
    return boundary, still_needed, candidate_start


# Each cut below comes as two kernels over one batch of tokens: ``count_*`` adds
# the batch's keys to the cuts' bucket counts; ``split_*`` (once the boundaries
# are planned from the counts of all batches) flags the batch's tokens below the
# boundary and appends those in the boundary bucket to the candidates. A batch
# may be the whole dataset. ``first_position`` is the batch's first token's
# position in the dataset. The split kernels write their placement step out in
# full: factored into a helper, split_noise_rate_keys ran 4x slower.


@kernel
def count_noise_rate_keys(P, labels, capacity, histogram):
    """Cut (k, j) keeps the ``capacity[k, j]`` tokens labelled k with the largest
    margin ``p[j] - p[k]`` (in the probabilities' dtype, as NumPy computes it)."""
    K = n_classes(P)
    for i in range(labels.shape[0]):
        k = np.int64(labels[i])  # int8 labels must not overflow in index arithmetic
        p_given = probability(P, i, k)
        for j in range(K):
            if capacity[k, j] > 0:
                key = -(probability(P, i, j) - p_given)
                histogram[(k * K + j) * _N_BUCKETS + _bucket(key)] += 1


@kernel
def split_noise_rate_keys(
    P,
    labels,
    capacity,
    boundary,
    first_position,
    candidate_keys,
    candidate_positions,
    filled,
    candidate_end,
):
    K = n_classes(P)
    T = labels.shape[0]
    flagged = np.zeros(T, np.bool_)
    for i in range(T):
        k = np.int64(labels[i])  # int8 labels must not overflow in index arithmetic
        p_given = probability(P, i, k)
        for j in range(K):
            if capacity[k, j] == 0:
                continue
            h = k * K + j
            key = -(probability(P, i, j) - p_given)
            b = _bucket(key)
            if b < boundary[h]:
                flagged[i] = True
            elif b == boundary[h]:
                if filled[h] < candidate_end[h]:  # else the data changed since counting
                    candidate_keys[filled[h]] = key
                    candidate_positions[filled[h]] = first_position + i
                filled[h] += 1
    return flagged


# The restricted noise-rate cuts (see ``noise_rate_candidates``) do not read the
# matrix again: the candidates' pass wrote down each entry a cut can keep, as one
# int64 code ``token << entry_shift(K) | j << _BUCKET_BITS | bucket of its key``
# (sorted by token). Reading the candidates' rows again, scattered through the
# matrix, cost more than the whole pass that found them (K = 9); only the few entries
# on a boundary bucket read their row again, for the exact key.
_BUCKET_BITS = 10  # _N_BUCKETS == 1 << _BUCKET_BITS


def entry_shift(n_classes):
    """Bits below an entry's token: the class j, then the bucket."""
    return _BUCKET_BITS + max(1, int(n_classes - 1).bit_length())


@kernel
def count_entry_keys(labels, entries, first_position, shift, capacity, histogram):
    """:func:`count_noise_rate_keys` of the entries of a batch's tokens (``labels``: the
    batch's; each entry's token in the batch, counted from ``first_position``)."""
    K = capacity.shape[0]
    for n in range(entries.shape[0]):
        code = entries[n]
        k = np.int64(labels[(code >> shift) - first_position])
        j = (code & ((1 << shift) - 1)) >> _BUCKET_BITS
        if capacity[k, j] > 0:
            histogram[(k * K + j) * _N_BUCKETS + (code & (_N_BUCKETS - 1))] += 1


@kernel
def split_entry_keys(
    P,
    labels,
    entries,
    first_position,
    shift,
    capacity,
    boundary,
    candidate_keys,
    candidate_positions,
    filled,
    candidate_end,
):
    """:func:`split_noise_rate_keys` of the entries; returns the flat positions below a
    boundary, increasing and each once (a token may be below two cuts): the entries
    are in token order."""
    K = capacity.shape[0]
    flagged = np.empty(entries.shape[0], np.int64)
    n_flagged = 0
    for n in range(entries.shape[0]):
        code = entries[n]
        i = (code >> shift) - first_position
        k = np.int64(labels[i])
        j = (code & ((1 << shift) - 1)) >> _BUCKET_BITS
        h = k * K + j
        if capacity[k, j] == 0:
            continue
        b = code & (_N_BUCKETS - 1)
        if b < boundary[h]:
            if n_flagged == 0 or flagged[n_flagged - 1] != first_position + i:
                flagged[n_flagged] = first_position + i
                n_flagged += 1
        elif b == boundary[h]:
            if filled[h] < candidate_end[h]:  # else the data changed since counting
                candidate_keys[filled[h]] = -(probability(P, i, j) - probability(P, i, k))
                candidate_positions[filled[h]] = first_position + i
            filled[h] += 1
    return flagged[:n_flagged]


@kernel
def kept_entries_disagreeing(P, labels, entries, shift, capacity, margin):
    """The entry cuts on the whole dataset at once: :func:`count_entry_keys`,
    :func:`plan_cuts`, :func:`split_entry_keys`, the boundary buckets resolved and
    cleanlab's ``_reduce_issues`` in one call. Cut (k, j) keeps the ``capacity[k, j]``
    entries with the smallest key ``-(p[j] - p[k])``, equal keys in token order; returns
    the kept tokens whose prediction is not their label (``margin`` as in
    :func:`prediction_matches_label`), increasing."""
    K = capacity.shape[0]
    histogram = np.zeros(K * K * _N_BUCKETS, np.int64)
    count_entry_keys(labels, entries, 0, shift, capacity, histogram)
    boundary, still_needed, candidate_start = plan_cuts(histogram, capacity.reshape(-1))
    # The entries on a cut's boundary bucket, grouped by cut, in token order in a cut.
    keys = np.empty(candidate_start[-1], np.float64)
    at = np.empty(candidate_start[-1], np.int64)
    filled = candidate_start[:-1].copy()
    kept = np.zeros(entries.shape[0], np.bool_)
    for n in range(entries.shape[0]):
        code = entries[n]
        i = code >> shift
        k = np.int64(labels[i])  # int8 labels must not overflow in index arithmetic
        j = (code & ((1 << shift) - 1)) >> _BUCKET_BITS
        if capacity[k, j] == 0:
            continue
        h = k * K + j
        b = code & (_N_BUCKETS - 1)
        if b < boundary[h]:
            kept[n] = True
        elif b == boundary[h]:
            keys[filled[h]] = -(probability(P, i, j) - probability(P, i, k))
            at[filled[h]] = n
            filled[h] += 1
    for h in range(K * K):
        first = candidate_start[h]
        if still_needed[h] > 0:  # a stable sort: equal keys stay in token order
            order = np.argsort(keys[first : candidate_start[h + 1]], kind="mergesort")
            for r in range(min(still_needed[h], order.shape[0])):
                kept[at[first + order[r]]] = True
    # Of two classes, a token whose other class leads by more than 4 margins is not
    # predicted its label: only keys near 0 need its row read again.
    surely_other = _bucket(-4.0 * margin) if K == 2 else np.int64(-1)
    tokens = np.empty(entries.shape[0], np.int64)
    n_tokens = 0
    last = -1
    for n in range(entries.shape[0]):
        code = entries[n]
        i = code >> shift
        if kept[n] and i != last:  # a token's entries are next to each other
            last = i
            if (code & (_N_BUCKETS - 1)) < surely_other or not _matches_label(
                P, labels, i, K, margin
            ):
                tokens[n_tokens] = i
                n_tokens += 1
    return tokens[:n_tokens]


def noise_rate_candidates(P, labels, margin):
    """What lets the noise-rate cuts run on a few tokens instead of all of them.

    Cut (k, j) keeps the tokens labelled k with the largest margin ``p[j] - p[k]``;
    only tokens whose prediction is not their label (cleanlab's ``_reduce_issues``
    with ``margin``) survive it. Returns ``(entries, above, disagree_below)``:
    one entry per token and class j with a positive margin ``p[j] - p[k]`` (its
    token, j and the bucket of the cut's key ``-(p[j] - p[k])``, coded as one int64,
    see :func:`entry_shift`), in token order (None if the codes would not fit);
    and per (k, j): ``above`` -- tokens labelled k with ``p[j] - p[k] > 0`` (the
    cut's first keys, as every other key is >= 0), and ``disagree_below`` -- tokens
    labelled k that disagree with their label although ``p[j] - p[k] <= 0``. A cut
    that keeps at most ``above`` tokens keeps only entries; one that keeps more,
    with ``disagree_below == 0``, keeps nothing else that survives.
    """
    shift = entry_shift(n_classes(P))
    if labels.shape[0] >= 1 << (63 - shift):  # the codes would overflow: no entries
        none = np.zeros((n_classes(P), n_classes(P)), np.int64)
        return None, none, none
    if P.ndim == 1:
        return _span_noise_rate_candidates(P, labels, margin, shift)
    return _matrix_noise_rate_candidates(P, labels, margin, shift)


# Tokens per chunk of the candidates' pass: the entries array is grown, when needed,
# between chunks only (growing it inside the loop made Numba count references to it
# on every token: twice the time of the whole pass).
CANDIDATE_CHUNK = 1024


@kernel
def _matrix_noise_rate_candidates(P, labels, margin, shift):
    K = P.shape[1]
    T = labels.shape[0]
    above = np.zeros((K, K), np.int64)
    disagree_below = np.zeros((K, K), np.int64)
    most = (K - 1) * CANDIDATE_CHUNK  # entries one chunk can add
    # A few percent of tokens are candidates, with a few entries each.
    entries = np.empty(T // 2 + most, np.int64)
    n = 0
    for start in range(0, T, CANDIDATE_CHUNK):
        entries = with_room(entries, n, most)
        stop = min(start + CANDIDATE_CHUNK, T)
        n = chunk_candidates(
            P, labels, margin, shift, start, stop, above, disagree_below, entries, n
        )
    return entries[:n], above, disagree_below


@helper
def with_room(entries, n, room):
    """``entries``, or a copy of its first ``n`` half as long again, with room for
    ``room`` more after them (called between chunks: growing inside a chunk's loop made
    Numba count references to the array on every token)."""
    if entries.shape[0] - n >= room:
        return entries
    more = np.empty(entries.shape[0] + entries.shape[0] // 2 + room, np.int64)
    more[:n] = entries[:n]
    return more


@helper
def chunk_candidates(P, labels, margin, shift, start, stop, above, disagree_below, entries, n):
    """Tokens ``start..stop-1`` of the candidates' pass; their entries from ``n`` on
    (there is room); returns the new count of entries."""
    # Most tokens agree with their label: their row's maximum is the given class's
    # probability (a branch-free scan settles that), and only the rest are looked at
    # class by class. p - p_given > 0 exactly when p > p_given.
    K = P.shape[1]
    for i in range(start, stop):
        k = np.int64(labels[i])  # int8 labels must not overflow in index arithmetic
        p_given = P[i, k]
        raised = p_given + margin
        largest = p_given
        for j in range(K):
            p = P[i, j]
            largest = p if p > largest else largest  # NaN never wins, as in the keys
        if largest == p_given and raised > p_given:  # no other class reaches p_given
            continue
        candidate = False
        disagrees = False
        for j in range(K):
            if j != k:
                p = P[i, j]
                candidate |= p > p_given
                # np.argmax returns the first maximum: an earlier class wins ties.
                disagrees |= (p > raised) | ((j < k) & (p >= raised))
        if candidate | disagrees:
            for j in range(K):
                if j != k:
                    margin_j = P[i, j] - p_given
                    up = margin_j > 0
                    above[k, j] += up
                    disagree_below[k, j] += disagrees & (not up)
                    # The key of count_noise_rate_keys, -margin_j, by its bucket; written
                    # always (there is room), kept when up: no branch to mispredict.
                    bucket = np.int64(_bucket(-margin_j))
                    entries[n] = (i << shift) | (j << _BUCKET_BITS) | bucket
                    n += np.int64(up)
    return n


# Span tokens per chunk of the candidates' pass: its mask and token list stay in cache.
_SPAN_CHUNK = 2048


@kernel
def _span_noise_rate_candidates(p, labels, margin, shift):
    """:func:`noise_rate_candidates` of span data (K = 2): a chunk's mask and counts
    without branches or scattered increments (it vectorizes), then the chunk's
    candidates listed without a branch and coded while still in cache (a mask of
    every token compacted afterwards cost as much again as the counts)."""
    one = p.dtype.type(1)
    T = labels.shape[0]
    above_0_1 = 0  # given 0, p[1] - p[0] > 0
    above_1_0 = 0
    disagree_below_0_1 = 0
    disagree_below_1_0 = 0
    is_candidate = np.empty(_SPAN_CHUNK, np.bool_)
    found = np.empty(_SPAN_CHUNK, np.int64)
    # A few percent of tokens are candidates: grown between chunks when needed.
    entries = np.empty(T // 8 + _SPAN_CHUNK, np.int64)
    n = 0
    for start in range(0, T, _SPAN_CHUNK):
        entries = with_room(entries, n, np.int64(_SPAN_CHUNK))
        size = min(_SPAN_CHUNK, T - start)
        # Indexed from 0 within slices: Numba vectorizes this loop only so.
        chunk_p = p[start : start + size]
        chunk_labels = labels[start : start + size]
        for i in range(size):
            p_1 = chunk_p[i]
            p_0 = one - p_1
            given_1 = chunk_labels[i] != 0
            given_0 = not given_1
            up = p_1 - p_0 > 0
            down = p_0 - p_1 > 0
            # np.argmax returns the first maximum: class 0 wins ties.
            disagrees = (given_0 & (p_1 > p_0 + margin)) | (given_1 & (p_0 >= p_1 + margin))
            above_0_1 += given_0 & up
            above_1_0 += given_1 & down
            disagree_below_0_1 += given_0 & disagrees & (not up)
            disagree_below_1_0 += given_1 & disagrees & (not down)
            is_candidate[i] = (given_0 & up) | (given_1 & down)
        n_found = 0
        for i in range(size):
            found[n_found] = start + i
            n_found += is_candidate[i]
        for c in range(n_found):
            i = found[c]
            p_1 = p[i]
            p_0 = one - p_1
            given_1 = labels[i] != 0
            j = np.int64(0 if given_1 else 1)
            bucket = np.int64(_bucket(-(p_0 - p_1) if given_1 else -(p_1 - p_0)))
            entries[n + c] = (i << shift) | (j << _BUCKET_BITS) | bucket
        n += n_found
    above = np.zeros((2, 2), np.int64)
    above[0, 1] = above_0_1
    above[1, 0] = above_1_0
    disagree_below = np.zeros((2, 2), np.int64)
    disagree_below[0, 1] = disagree_below_0_1
    disagree_below[1, 0] = disagree_below_1_0
    return entries[:n], above, disagree_below


@helper
def add_span_candidates(p, labels, lo, hi, margin, shift, entries, n, above, disagree_below):
    """Tokens ``lo..hi-1`` of span data's candidates' pass (a stretch read while in
    cache), their entries after the ``n`` in ``entries`` (numbered from token 0) and
    their counts added to ``above`` and ``disagree_below``; returns ``(entries, n)``."""
    found, part_above, part_below = _span_noise_rate_candidates(
        p[lo:hi], labels[lo:hi], margin, shift
    )
    entries = with_room(entries, n, np.int64(found.shape[0]))
    for c in range(found.shape[0]):
        entries[n + c] = found[c] + (lo << shift)
    above += part_above
    disagree_below += part_below
    return entries, n + found.shape[0]


@kernel
def count_class_keys(P, labels, capacity, histogram):
    """Cut k keeps the ``capacity[k]`` tokens labelled k with the smallest ``p[k]``."""
    for i in range(labels.shape[0]):
        k = np.int64(labels[i])  # int8 labels must not overflow in index arithmetic
        if capacity[k] > 0:
            histogram[k * _N_BUCKETS + _bucket(probability(P, i, k))] += 1


@kernel
def split_class_keys(
    P,
    labels,
    capacity,
    boundary,
    first_position,
    candidate_keys,
    candidate_positions,
    filled,
    candidate_end,
):
    T = labels.shape[0]
    flagged = np.zeros(T, np.bool_)
    for i in range(T):
        k = np.int64(labels[i])  # int8 labels must not overflow in index arithmetic
        if capacity[k] == 0:
            continue
        key = probability(P, i, k)
        b = _bucket(key)
        if b < boundary[k]:
            flagged[i] = True
        elif b == boundary[k]:
            if filled[k] < candidate_end[k]:  # else the data changed since counting
                candidate_keys[filled[k]] = key
                candidate_positions[filled[k]] = first_position + i
            filled[k] += 1
    return flagged


@kernel
def count_score_keys(scores, histogram):
    """The single cut keeps the smallest scores."""
    for i in range(scores.shape[0]):
        histogram[_bucket(scores[i])] += 1


@kernel
def split_score_keys(
    scores, boundary, first_position, candidate_keys, candidate_positions, filled, candidate_end
):
    T = scores.shape[0]
    flagged = np.zeros(T, np.bool_)
    for i in range(T):
        b = _bucket(scores[i])
        if b < boundary[0]:
            flagged[i] = True
        elif b == boundary[0]:
            if filled[0] < candidate_end[0]:  # else the data changed since counting
                candidate_keys[filled[0]] = scores[i]
                candidate_positions[filled[0]] = first_position + i
            filled[0] += 1
    return flagged


@helper
def _matches_label(P, labels, i, K, margin):
    given = labels[i]
    raised = probability(P, i, given) + margin
    # np.argmax returns the first maximum: an earlier class wins ties.
    for c in range(given):
        if probability(P, i, c) >= raised:
            return False
    for c in range(given + 1, K):
        if probability(P, i, c) > raised:
            return False
    return True


@kernel
def prediction_matches_label(P, labels, margin):
    """cleanlab ``count._reduce_issues``: does the argmax pick the given label once
    its probability is raised by ``margin`` (added in the probabilities' dtype)?"""
    K = n_classes(P)
    matches = np.empty(labels.shape[0], np.bool_)
    for i in range(labels.shape[0]):
        matches[i] = _matches_label(P, labels, np.int64(i), K, margin)
    return matches


@kernel
def prediction_matches_label_at(P, labels, positions, margin):
    """:func:`prediction_matches_label` of the tokens at ``positions`` (each in bounds),
    read where they are, without a copy of their rows."""
    K = n_classes(P)
    matches = np.empty(positions.shape[0], np.bool_)
    for n in range(positions.shape[0]):
        matches[n] = _matches_label(P, labels, np.int64(positions[n]), K, margin)
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
