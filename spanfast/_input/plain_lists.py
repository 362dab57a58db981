"""cleanlab's list input in its plain form, for the fast paths that skip the general
conversion (:mod:`spanfast._read_ahead`, :mod:`spanfast._list_scores`).

Plain: a list or tuple of NumPy float32/float64 arrays of one layout -- (n_tokens, K)
rows of token data with K >= 2, or one span class's (n_tokens,) probabilities -- and
labels that convert, have the same lengths and are class indices. Each function
returns None for anything else: the caller then takes the ordinary path, which says
what is wrong.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from .._positions import offsets_from_lengths
from ..errors import InvalidInputError
from .checked import as_labels, narrowed_labels
from .nested import uniform_layout


class Layout(NamedTuple):
    dtype: np.dtype
    row: tuple[int, ...]  # () for span data, (K,) for token data
    n_classes: int
    offsets: np.ndarray  # from the probabilities' lengths


def probability_layout(pred_probs: Any, *, span: bool) -> Layout | None:
    """The layout of plain per-sentence probability arrays (their lengths read once)."""
    layout = uniform_layout(pred_probs)
    if layout is None or (layout[1] == ()) != span or (not span and layout[1][0] < 2):
        return None
    dtype, row = layout
    try:
        lengths = np.fromiter(map(len, pred_probs), np.int64, count=len(pred_probs))
    except TypeError:
        return None
    return Layout(dtype, row, 2 if span else row[0], offsets_from_lengths(lengths))


def class_labels(labels: Any, layout: Layout) -> tuple[np.ndarray, np.ndarray] | None:
    """``(labels narrowed to the compact type, offsets)`` of labels that fit ``layout``."""
    try:
        label_ragged = as_labels(labels)
    except (TypeError, InvalidInputError):
        return None
    if not np.array_equal(layout.offsets, label_ragged.offsets):
        return None
    narrow, out_of_range = narrowed_labels(label_ragged, layout.n_classes)
    return None if out_of_range else (narrow, label_ragged.offsets)
