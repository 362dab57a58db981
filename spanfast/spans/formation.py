"""How spans are formed from a tag (or span label) sequence, and how given and
predicted spans are matched.

Formation (the same rule for the given tags and for the model's argmax tags):
a token *continues* the entity of the token before it when the scheme's table
says so (``I-X`` after ``B-X`` / ``I-X``; in span data, 1 after 1). A token whose
tag may not begin an entity (``I-X``, ``E-X`` that continue nothing) but that
follows an entity token is part of that entity too (``B-PER I-ORG`` is one entity
of type PER, as its first tag says); the entity is then *malformed*, as is one
that begins with such a tag after ``O`` or ends with a tag the scheme forbids
at an end (``B-X`` / ``I-X`` in BIOES). Every other inside token begins an
entity. An entity's type is the type of its first tag.

Matching: given and predicted entities that share a token are candidate pairs;
pairs are taken one-to-one, greedily, largest token overlap first, then pairs
of the same type, then by position (given start, predicted start).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .kernels import greedy_match
from .schemes import OUTSIDE, Tags


@dataclass(frozen=True, eq=False)
class Spans:
    """Entities as flat token ranges ``[start, end)`` in position order."""

    start: np.ndarray
    end: np.ndarray
    entity_type: np.ndarray
    malformed: np.ndarray

    def __len__(self) -> int:
        return int(self.start.shape[0])


def form_spans(tags: np.ndarray, offsets: np.ndarray, scheme: Tags) -> Spans:
    """The entities of a flat tag sequence (class ids) over sentences ``offsets``."""
    tags = np.asarray(tags, np.intp)
    n_tokens = tags.shape[0]
    K = scheme.n_classes
    previous = np.empty(n_tokens, np.intp)
    previous[1:] = tags[:-1]
    sentence_starts = offsets[:-1][offsets[:-1] < offsets[1:]]
    previous[sentence_starts] = K  # the sentence start: row K of the tables
    inside = scheme.role[tags] != OUTSIDE
    continues = scheme.continues[previous, tags]
    role_before = np.append(scheme.role, OUTSIDE)[previous]
    illegal_begin = inside & ~continues & ~scheme.legal_begin[tags]
    linked = continues | (illegal_begin & (role_before != OUTSIDE))
    start = np.flatnonzero(inside & ~linked)
    breaks = np.append(np.flatnonzero(~linked), n_tokens)
    end = breaks[np.searchsorted(breaks, start, side="right")]
    illegal_before = np.zeros(n_tokens + 1, np.int64)
    np.cumsum(illegal_begin, out=illegal_before[1:])
    malformed = illegal_before[end] > illegal_before[start]
    if start.size:
        malformed |= ~scheme.legal_end[tags[end - 1]]
    return Spans(start, end, scheme.entity_type[tags[start]], malformed)


def overlapping_pairs(given: Spans, predicted: Spans) -> tuple[np.ndarray, np.ndarray]:
    """Every (given, predicted) pair of entities sharing a token, by given then predicted.

    Both lists are in position order and their entities disjoint, so the predicted
    entities overlapping a given one are a contiguous range of the list.
    """
    first = np.searchsorted(predicted.end, given.start, side="right")
    stop = np.searchsorted(predicted.start, given.end, side="left")
    count = np.maximum(stop - first, 0)
    pair_given = np.repeat(np.arange(len(given)), count)
    before = np.cumsum(count) - count
    pair_predicted = np.arange(pair_given.shape[0]) - np.repeat(before - first, count)
    return pair_given, pair_predicted


def match(given: Spans, predicted: Spans) -> np.ndarray:
    """One-to-one matching; per given entity, its predicted entity's index or -1."""
    pair_given, pair_predicted = overlapping_pairs(given, predicted)
    overlap = np.minimum(given.end[pair_given], predicted.end[pair_predicted]) - np.maximum(
        given.start[pair_given], predicted.start[pair_predicted]
    )
    other_type = given.entity_type[pair_given] != predicted.entity_type[pair_predicted]
    order = np.lexsort(
        (predicted.start[pair_predicted], given.start[pair_given], other_type, -overlap)
    )
    return greedy_match(order, pair_given, pair_predicted, len(given), len(predicted))
