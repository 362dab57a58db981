"""Several span classes: user labels and (T, C) probabilities to :class:`CheckedSpans`.

Probabilities are ``(T, C)`` per sentence, one independent probability per span
class (rows need not sum to 1). Labels come in one of three forms:

- per-token lists of span class ids in ``1..C`` (``[]`` or ``[0]``: outside every
  span; a token may be in several classes), as in cleanlab's pull request #1034;
- ``(T, C)`` arrays of 0/1 per sentence (NumPy arrays, or a Ragged of 2-D values):
  Python lists per token always mean class ids, never a row of 0/1;
- one class id per token (``0``: outside), for data without overlapping spans.

Every mistake is an :class:`InvalidInputError` naming the field, the sentence,
the token and, where there is one, the span class (attribute ``class_``).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

import numpy as np

from .._kernels.checks import count_invalid_probabilities, first_invalid_probability
from .._kernels.multispan import first_non_binary
from ..errors import InvalidInputError
from ..ragged import Ragged
from .checked import VALID_RANGE, CheckedSpans, _ragged, as_labels, check_aligned
from .label_errors import is_integral
from .where import error_at


def _error(message: str, *, field: str, offsets, flat_index, span_class=None):
    error = error_at(message, field=field, offsets=offsets, flat_index=flat_index)
    error.class_ = span_class
    return error


def span_classes_checked(labels: Any, probs: Ragged) -> CheckedSpans:
    """Check ``probs`` (converted, values not yet checked; ``(T, C)`` values) and
    convert and check ``labels`` against it."""
    values = probs.values
    if values.ndim != 2 or values.shape[1] == 0:
        raise InvalidInputError(
            "pred_probs of several span classes must hold one row of C >= 1 probabilities "
            f"per token; got per-token entries of shape {values.shape[1:]}.",
            field="pred_probs",
        )
    C = values.shape[1]
    if count_invalid_probabilities(values, *VALID_RANGE):
        bad = first_invalid_probability(values, *VALID_RANGE)
        t, c = divmod(bad, C)
        value = values[t, c]
        what = "NaN" if np.isnan(value) else "infinite" if np.isinf(value) else repr(float(value))
        raise _error(
            f"Values in pred_probs must be between 0 and 1: {{where}}, span class {c + 1} "
            f"has {what}.",
            field="pred_probs",
            offsets=probs.offsets,
            flat_index=t,
            span_class=c + 1,
        )
    matrix, offsets = span_label_matrix(labels, C)
    check_aligned(Ragged(matrix, offsets), probs)
    return CheckedSpans(matrix, values, probs.offsets)


def span_label_matrix(labels: Any, n_classes: int) -> tuple[np.ndarray, np.ndarray]:
    """``labels`` in any of the three forms as a (T, C) uint8 0/1 matrix and offsets."""
    form = _label_form(labels)
    if form == "matrix":
        ragged = _ragged(labels, name="labels", token_ndim=1)
        return _checked_matrix(ragged, n_classes), ragged.offsets
    if form == "id lists":
        return _from_id_lists(labels, n_classes)
    ragged = as_labels(labels)
    ids = ragged.values.astype(np.int64, copy=False)
    return _matrix_of_ids(ids, np.arange(ids.shape[0]), ragged.offsets, n_classes), ragged.offsets


def _label_form(labels: Any) -> str:
    if isinstance(labels, Ragged):
        return "matrix" if labels.values.ndim == 2 else "ids"
    if isinstance(labels, np.ndarray) and labels.dtype != object:
        return "matrix" if labels.ndim == 3 else "ids"
    if not isinstance(labels, (Sequence, np.ndarray)) or isinstance(labels, (str, bytes)):
        return "ids"  # other columns (Arrow, pandas): one id per token; as_labels reports
    first = next((sentence for sentence in labels if len(sentence)), None)
    if first is None:
        return "ids"
    if isinstance(first, np.ndarray) and first.ndim == 2:
        return "matrix"
    token = first[0]
    if isinstance(token, (list, tuple)) or (isinstance(token, np.ndarray) and token.ndim == 1):
        return "id lists"
    return "ids"


def _checked_matrix(ragged: Ragged, n_classes: int) -> np.ndarray:
    values = ragged.values
    if values.ndim != 2 or values.shape[1] != n_classes:
        width = values.shape[1] if values.ndim == 2 else None
        raise InvalidInputError(
            f"labels has {width} span classes per token but pred_probs has {n_classes}; "
            "give one 0/1 column per span class.",
            field="labels",
        )
    if values.dtype.kind == "b":
        return np.ascontiguousarray(values, np.uint8)
    if values.dtype.kind not in "iuf":
        raise InvalidInputError(
            f"labels must be 0/1 per span class, got dtype {values.dtype}.", field="labels"
        )
    bad = first_non_binary(values)
    if bad >= 0:
        t, c = divmod(int(bad), n_classes)
        raise _error(
            f"Span labels must be 0 or 1: {{where}}, span class {c + 1} has {values[t, c]!r}.",
            field="labels",
            offsets=ragged.offsets,
            flat_index=t,
            span_class=c + 1,
        )
    return np.ascontiguousarray(values, np.uint8)


def _from_id_lists(labels: Sequence, n_classes: int) -> tuple[np.ndarray, np.ndarray]:
    n = len(labels)
    lengths = np.fromiter(map(len, labels), np.int64, count=n)
    offsets = np.zeros(n + 1, np.int64)
    np.cumsum(lengths, out=offsets[1:])
    tokens = list(itertools.chain.from_iterable(labels))
    try:
        per_token = np.fromiter(map(len, tokens), np.int64, count=len(tokens))
    except TypeError:
        t = next(t for t, token in enumerate(tokens) if not hasattr(token, "__len__"))
        raise _error(
            "labels of several span classes must be a list of span class ids per token "
            f"(or per-sentence (T, C) arrays of 0/1): {{where}} has {tokens[t]!r}.",
            field="labels",
            offsets=offsets,
            flat_index=t,
        ) from None
    flat_ids = list(itertools.chain.from_iterable(tokens))
    ids = np.array(flat_ids)
    token_of_id = np.repeat(np.arange(len(tokens)), per_token)
    if ids.size and ids.dtype.kind not in "iub":
        if ids.dtype.kind == "f":
            bad = int(np.flatnonzero(~(np.isfinite(ids) & (np.mod(ids, 1) == 0)))[0])
        else:  # strings, None, mixed objects: the first that is not an integer
            bad = next(n for n, label in enumerate(flat_ids) if not is_integral(label))
        raise _error(
            f"Span class ids must be integers 0..{n_classes}: {{where}} has {flat_ids[bad]!r}.",
            field="labels",
            offsets=offsets,
            flat_index=int(token_of_id[bad]),
        )
    return _matrix_of_ids(ids.astype(np.int64), token_of_id, offsets, n_classes), offsets


def _matrix_of_ids(ids, token_of_id, offsets, n_classes: int) -> np.ndarray:
    """The 0/1 matrix with a 1 at (token_of_id[n], ids[n] - 1) for every id but 0."""
    out_of_range = np.flatnonzero((ids < 0) | (ids > n_classes))
    if out_of_range.size:
        bad = int(out_of_range[0])
        raise _error(
            f"Span class ids must be in 1..{n_classes} (0: outside every span; pred_probs "
            f"has {n_classes} span classes): {{where}} has class {int(ids[bad])}.",
            field="labels",
            offsets=offsets,
            flat_index=int(token_of_id[bad]),
            span_class=int(ids[bad]),
        )
    matrix = np.zeros((int(offsets[-1]), n_classes), np.uint8)
    inside = ids != 0
    matrix[token_of_id[inside], ids[inside] - 1] = 1
    return matrix
