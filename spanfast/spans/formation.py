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

Several span classes (``(T, C)`` probabilities, one independent probability per
class): each class is the single-class problem on its column. Its given spans
are the runs of tokens labelled in the class, its predicted spans the runs of
``p > 0.5`` in its column, matched with each other only. A span of class A where
the model puts class B is two issues, a spurious A and a missed B: the classes
are independent (a token may be in several, or in none), so no class replaces
another and there is no "type" kind; an issue's label is its span class, and its
kind is missed, spurious or boundary. It is scored from its class's column, as
single-class span data is (see :func:`spanfast.spans.find_span_issues`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._kernels import span_issues
from .schemes import Tags


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
    """The entities of a flat tag sequence (class ids) over sentences ``offsets``
    (one pass over the tokens: :func:`spanfast._kernels.span_issues.form_spans`)."""
    start, end, entity_type, malformed = span_issues.form_spans(
        tags,
        offsets,
        scheme.role,
        scheme.continues,
        scheme.legal_begin,
        scheme.legal_end,
        scheme.entity_type,
    )
    return Spans(start, end, entity_type, malformed)


def match(given: Spans, predicted: Spans) -> np.ndarray:
    """One-to-one matching; per given entity, its predicted entity's index or -1."""
    pair_given, pair_predicted = span_issues.overlapping_pairs(
        given.start, given.end, predicted.start, predicted.end
    )
    overlap = np.minimum(given.end[pair_given], predicted.end[pair_predicted]) - np.maximum(
        given.start[pair_given], predicted.start[pair_predicted]
    )
    other_type = given.entity_type[pair_given] != predicted.entity_type[pair_predicted]
    # Largest overlap, then same type; the pairs are listed by given then predicted
    # start, so a stable sort on these two keys leaves ties in position order.
    order = np.argsort(other_type - 2 * overlap, kind="stable")
    return span_issues.greedy_match(order, pair_given, pair_predicted, len(given), len(predicted))
