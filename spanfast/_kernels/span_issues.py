"""Kernels of span-level issues: span formation, overlapping pairs, one-to-one
matching, span scores, and the model's per-token decision.

The rules they implement are stated once, in :mod:`spanfast.spans.formation`;
these are their loops (one pass over the tokens, or over the spans and pairs).
"""

from __future__ import annotations

import numpy as np

from .._numba import always_compiled, kernel
from .access import n_classes, probability

_OUTSIDE = 0  # spanfast.spans.schemes.OUTSIDE


@kernel
def form_spans(tags, offsets, role, continues, legal_begin, legal_end, entity_type):
    """The entities of a flat tag sequence (class ids) over sentences ``offsets``:
    ``start``, ``end`` (exclusive), ``entity_type``, ``malformed``, in position order.

    A token is *linked* to the one before it when it continues its entity
    (``continues[previous, tag]``; row K of the table is the sentence start), or when
    its tag may not begin an entity and the token before it is inside one; an inside
    token that is not linked begins an entity, which runs while tokens are linked. The
    entity is malformed when one of its tokens is such a forbidden beginning, or when
    its last tag may not end an entity.
    """
    n_tokens = tags.shape[0]
    K = role.shape[0]
    # At most one entity per token; pages never written are never resident.
    start = np.empty(n_tokens, np.int64)
    end = np.empty(n_tokens, np.int64)
    kind_of = np.empty(n_tokens, np.int64)
    malformed = np.empty(n_tokens, np.bool_)
    n = 0
    for s in range(offsets.shape[0] - 1):
        previous = K
        open_entity = False
        for t in range(offsets[s], offsets[s + 1]):
            tag = np.int64(tags[t])
            inside = role[tag] != _OUTSIDE
            continued = continues[previous, tag]
            illegal_begin = inside and not continued and not legal_begin[tag]
            before_inside = previous != K and role[previous] != _OUTSIDE
            linked = continued or (illegal_begin and before_inside)
            if not linked:
                if open_entity:  # the entity before ends at this token
                    end[n - 1] = t
                    malformed[n - 1] |= not legal_end[previous]
                    open_entity = False
                if inside:
                    start[n] = t
                    kind_of[n] = entity_type[tag]
                    malformed[n] = illegal_begin
                    n += 1
                    open_entity = True
            elif illegal_begin:
                malformed[n - 1] = True
            previous = tag
        if open_entity:
            end[n - 1] = offsets[s + 1]
            malformed[n - 1] |= not legal_end[previous]
    return start[:n].copy(), end[:n].copy(), kind_of[:n].copy(), malformed[:n].copy()


@kernel
def overlapping_pairs(given_start, given_end, predicted_start, predicted_end):
    """Every (given, predicted) pair of entities sharing a token, by given then
    predicted. Both lists are in position order and their entities disjoint, so one
    sweep finds them: the predicted entities overlapping a given one are a contiguous
    range, starting no earlier than the previous given entity's."""
    n_given = given_start.shape[0]
    n_predicted = predicted_start.shape[0]
    capacity = n_given + n_predicted  # pairs: at most one per entity of either list
    pair_given = np.empty(capacity, np.int64)
    pair_predicted = np.empty(capacity, np.int64)
    n = 0
    first = 0
    for g in range(n_given):
        while first < n_predicted and predicted_end[first] <= given_start[g]:
            first += 1
        q = first
        while q < n_predicted and predicted_start[q] < given_end[g]:
            pair_given[n] = g
            pair_predicted[n] = q
            n += 1
            q += 1
    return pair_given[:n].copy(), pair_predicted[:n].copy()


@kernel
def greedy_match(order, pair_given, pair_predicted, n_given, n_predicted):
    """One-to-one matching: take the pairs in ``order``, each if both spans are free.

    Returns, per given span, the index of its predicted span (-1: unmatched).
    """
    match_of_given = np.full(n_given, -1, np.int64)
    taken = np.zeros(n_predicted, np.bool_)
    for n in range(order.shape[0]):
        q = order[n]
        g = pair_given[q]
        p = pair_predicted[q]
        if match_of_given[g] < 0 and not taken[p]:
            match_of_given[g] = p
            taken[p] = True
    return match_of_given


@always_compiled  # np.log / np.exp: NumPy's could round differently
@kernel
def span_scores(probs, labels, starts, ends):
    """Per span ``[starts[r], ends[r])``: the minimum self-confidence (probability of the
    given label) of its tokens, and the likelihood ratio ``prod p(given tag) / p(argmax
    tag)`` (accumulated in float64). ``probs``: (T, K), or (T,) span data read as
    ``[1 - p, p]``; only the tokens of the spans are read."""
    K = n_classes(probs)
    n = starts.shape[0]
    lowest = np.empty(n, np.float64)
    ratio = np.empty(n, np.float64)
    for r in range(n):
        low = np.inf
        log_ratio = 0.0
        for t in range(starts[r], ends[r]):
            given = np.float64(probability(probs, t, labels[t]))
            if given < low:
                low = given
            best = np.float64(probability(probs, t, 0))
            for k in range(1, K):
                best = max(best, np.float64(probability(probs, t, k)))
            if given < best:  # (best > 0 here)
                log_ratio += np.log(given / best) if given > 0.0 else -np.inf
        lowest[r] = low
        ratio[r] = np.exp(log_ratio)
    return lowest, ratio


@kernel
def argmax_tags(probs, labels):
    """Per row of ``probs`` (T, K): the first index of the maximum (the model's tag), in
    the labels' (narrow) dtype."""
    n, K = probs.shape
    argmax = np.empty(n, labels.dtype)
    for t in range(n):
        top = 0
        highest = probs[t, 0]
        for k in range(1, K):
            p = probs[t, k]
            if p > highest:
                top = k
                highest = p
        argmax[t] = top
    return argmax


@kernel
def holds_flagged(flagged, n_tokens, starts, ends):
    """Per span ``[starts[r], ends[r])``: whether one of the ``flagged`` token positions
    lies in it (spans are short: a mark per token, then each span's tokens read)."""
    marked = np.zeros(n_tokens, np.bool_)
    for q in range(flagged.shape[0]):
        marked[flagged[q]] = True
    holds = np.zeros(starts.shape[0], np.bool_)
    for r in range(starts.shape[0]):
        for t in range(starts[r], ends[r]):
            if marked[t]:
                holds[r] = True
                break
    return holds
