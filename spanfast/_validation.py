"""Checked conversion of user input to the flat arrays the kernels assume.

Everything a kernel relies on is proven here, once, before any kernel runs:
labels are int64 in ``0..K-1``; probabilities are finite float32/float64 in
``[0, 1]`` (with cleanlab's 1e-6 tolerance), C-contiguous; labels and
probabilities have the same sentences and tokens. Errors say what is wrong
and where (sentence i, token j), with cleanlab's wording where it has one.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from ._kernels.checks import (
    count_invalid_probabilities,
    first_invalid_probability,
    first_label_out_of_range,
    narrow_labels,
)
from ._threads import concurrently
from .errors import InvalidInputError, InvalidInputTypeError
from .ragged import Ragged, _flatten, _row, _sentence_of

# cleanlab accepts probabilities within this margin of [0, 1] (FLOATING_POINT_COMPARISON).
PROBABILITY_TOLERANCE = 1e-6


def as_labels(labels: Any) -> Ragged:
    """Per-sentence labels as a Ragged of int8 or int64 (range is checked against K later).

    Only those two types reach the kernels, so each kernel is compiled for two
    label types at most.
    """
    ragged = _flatten(labels, name="labels", token_ndim=0, small_integers=True)
    values = ragged.values
    if values.ndim != 1:
        raise InvalidInputError(
            f"labels must hold one integer per token; got per-token entries of shape {values.shape[1:]}."
        )
    kind = values.dtype.kind
    too_big = 2**62  # far beyond any class index; keeps the int64 conversion exact
    if kind == "u" and values.size and values.max() >= too_big:
        t = int(np.argmax(values >= too_big))
        _raise_out_of_range(ragged, t, int(values[t]))
    if kind in "iub":
        values = values.astype(np.int8 if values.dtype == np.int8 else np.int64, copy=False)
    elif kind == "f":
        bad = np.flatnonzero(~np.isfinite(values) | (np.mod(values, 1) != 0))
        if bad.size:
            _raise_bad_label(ragged, int(bad[0]), values[bad[0]])
        huge = np.flatnonzero(np.abs(values) >= too_big)
        if huge.size:
            _raise_out_of_range(ragged, int(huge[0]), values[huge[0]].item())
        values = values.astype(np.int64)
    else:
        # Strings, None, or mixed Python objects: find the first offender.
        for t, label in enumerate(values.tolist()):
            if not _is_integral(label):
                _raise_bad_label(ragged, t, label)
        values = values.astype(np.int64)
    return Ragged(np.ascontiguousarray(values), ragged.offsets)


def _raise_out_of_range(ragged: Ragged, t: int, label: Any) -> None:
    i, j = _sentence_of(ragged.offsets, t)
    raise InvalidInputError(
        f"Labels must be class indices 0..K-1: sentence {i}, token {j} has label {label!r}.",
        field="labels",
        sentence=i,
        token=j,
    )


def _is_integral(label: Any) -> bool:
    if isinstance(label, (bool, np.bool_, numbers.Integral)):
        return True
    return isinstance(label, numbers.Real) and np.isfinite(label) and float(label).is_integer()


def _raise_bad_label(ragged: Ragged, t: int, label: Any) -> None:
    i, j = _sentence_of(ragged.offsets, t)
    if isinstance(label, np.generic):
        label = label.item()
    where = f"sentence {i}, token {j} has label {label!r}"
    at = {"field": "labels", "sentence": i, "token": j}
    if isinstance(label, (str, bytes, np.str_)):
        raise InvalidInputError(
            "Labels cannot be strings, they must be zero-indexed integers corresponding to class "
            f"indices ({where}).",
            **at,
        )
    if label is None:
        raise InvalidInputTypeError(f"Labels cannot be None ({where}).", **at)
    raise InvalidInputError(
        f"Labels must be zero-indexed integers corresponding to class indices ({where}).", **at
    )


def as_probabilities(pred_probs: Any, *, span: bool | None, check_values: bool = True) -> Ragged:
    """Per-sentence probabilities as a Ragged of C-contiguous float32/float64.

    ``span=True``: one probability per token (values shape ``(T,)``);
    ``span=False``: one row of K class probabilities per token (``(T, K)``);
    ``span=None``: whichever the data holds. ``check_values=False`` leaves
    :func:`check_probability_values` to the caller.
    """
    token_ndim = None if span is None else 0 if span else 1
    ragged = _flatten(pred_probs, name="pred_probs", token_ndim=token_ndim)
    values = ragged.values
    if span is None:
        span = values.ndim == 1
    expected_ndim = 1 if span else 2
    if values.ndim != expected_ndim:
        raise InvalidInputError(
            "pred_probs must hold "
            + (
                "one probability per token"
                if span
                else "one row of K class probabilities per token"
            )
            + f"; got per-token entries of shape {values.shape[1:]}."
        )
    if values.dtype.kind in "OUS":
        for t, value in enumerate(values.reshape(values.shape[0], -1).tolist()):
            bad = [
                v
                for v in (value if isinstance(value, list) else [value])
                if not isinstance(v, numbers.Real)
            ]
            if bad:
                i, j = _sentence_of(ragged.offsets, t)
                raise InvalidInputTypeError(
                    f"pred_probs must be numbers; sentence {i}, token {j} has {bad[0]!r}.",
                    field="pred_probs",
                    sentence=i,
                    token=j,
                )
        values = values.astype(np.float64)
    if values.dtype not in (np.float32, np.float64):
        values = values.astype(np.float64)
    ragged = Ragged(np.ascontiguousarray(values), ragged.offsets)
    if check_values:
        check_probability_values(ragged, count_invalid_probabilities(ragged.values, *_VALID))
    return ragged


_VALID = (-PROBABILITY_TOLERANCE, 1 + PROBABILITY_TOLERANCE)


def check_probability_values(ragged: Ragged, n_invalid: int) -> None:
    """Raise, naming the first one, if any of the ``n_invalid`` values (from
    ``count_invalid_probabilities(ragged.values, *_VALID)``) is outside [0, 1]."""
    values = ragged.values
    span = values.ndim == 1
    if n_invalid:
        bad = first_invalid_probability(values, *_VALID)
        width = 1 if span else values.shape[1]
        t, k = divmod(bad, width)
        i, j = _sentence_of(ragged.offsets, t)
        value = values.reshape(-1)[bad]
        what = "NaN" if np.isnan(value) else "infinite" if np.isinf(value) else repr(float(value))
        column = "" if span else f", class {k}"
        raise InvalidInputError(
            f"Values in pred_probs must be between 0 and 1: sentence {i}, token {j}{column} "
            f"has {what}.",
            field="pred_probs",
            sentence=i,
            token=j,
        )


def check_aligned(labels: Ragged, probs: Ragged) -> None:
    """Same number of sentences, and of tokens in every sentence."""
    if labels.n_sentences != probs.n_sentences:
        raise InvalidInputError(
            f"labels has {labels.n_sentences} sentences but pred_probs has {probs.n_sentences}."
        )
    if labels.offsets[-1] != probs.offsets[-1] or not np.array_equal(labels.offsets, probs.offsets):
        i = int(np.flatnonzero(labels.lengths != probs.lengths)[0])
        raise InvalidInputError(
            f"pred_probs and labels must have same length: sentence {_row(i)} has "
            f"{labels.lengths[i]} labels but {probs.lengths[i]} rows of pred_probs.",
            field="pred_probs",
            sentence=_row(i),
        )


def check_label_range(labels: Ragged, n_classes: int, *, span: bool) -> None:
    """Every label is in ``0..n_classes-1``."""
    t = first_label_out_of_range(labels.values, n_classes)
    if t < 0:
        return
    i, j = _sentence_of(labels.offsets, t)
    label = int(labels.values[t])
    where = f"sentence {i}, token {j} has label {label}"
    at = {"field": "labels", "sentence": i, "token": j}
    if label < 0:
        raise InvalidInputError(
            f"Labels must be positive integers corresponding to class indices ({where}).", **at
        )
    if span:
        raise InvalidInputError(f"Span labels must be 0 or 1 ({where}).", **at)
    raise InvalidInputError(
        f"pred_probs must have at least {label + 1} columns, based on the largest class index "
        f"which appears in labels ({where}; pred_probs has {n_classes} columns).",
        **at,
    )


def labels_and_probabilities(
    labels: Any, pred_probs: Any, *, span: bool | None
) -> tuple[Ragged, Ragged]:
    """Convert and check a (labels, pred_probs) pair; the only entry point for user data.

    ``span=None`` accepts either layout (span data has one probability per token).
    """
    label_ragged = as_labels(labels)
    prob_ragged = as_probabilities(pred_probs, span=span, check_values=False)
    # Probability values are checked on a second core while the labels are narrowed.
    n_invalid = concurrently(None, count_invalid_probabilities, prob_ragged.values, *_VALID)
    span = prob_ragged.values.ndim == 1
    n_classes = 2 if span else prob_ragged.values.shape[1]
    # Kernels read every label several times; the narrowest integer type cuts the
    # memory traffic (labels are 8x smaller as int8 than as int64).
    compact = next(
        t for t in (np.int8, np.int16, np.int32, np.int64) if n_classes <= np.iinfo(t).max + 1
    )
    if label_ragged.values.dtype == compact:
        narrow = label_ragged.values
        labels_out_of_range = first_label_out_of_range(narrow, n_classes) >= 0
    else:
        narrow = np.empty(label_ragged.n_tokens, compact)
        labels_out_of_range = narrow_labels(label_ragged.values, n_classes, narrow)
    check_probability_values(prob_ragged, n_invalid())
    check_aligned(label_ragged, prob_ragged)
    if labels_out_of_range:
        check_label_range(label_ragged, n_classes, span=span)
    return Ragged(narrow, label_ragged.offsets), prob_ragged


def check_tokens_aligned(tokens_lengths: np.ndarray, labels: Ragged) -> None:
    """A tokens column has one string per label, sentence by sentence."""
    if tokens_lengths.shape[0] != labels.n_sentences:
        raise InvalidInputError(
            f"tokens has {tokens_lengths.shape[0]} sentences but labels has {labels.n_sentences}.",
            field="tokens",
        )
    mismatch = np.flatnonzero(tokens_lengths != labels.lengths)
    if mismatch.size:
        i = int(mismatch[0])
        raise InvalidInputError(
            f"tokens[{_row(i)}] has {tokens_lengths[i]} tokens but labels[{_row(i)}] has "
            f"{labels.lengths[i]} (sentence {_row(i)}).",
            field="tokens",
            sentence=_row(i),
        )


def check_flat(labels: Any, probs: Any) -> None:
    """What the kernels rely on, for flat arrays given straight to :mod:`spanfast.core`.

    Cheap (one pass over the labels): array types and shapes, and every label
    inside ``0..K-1``. Probability values are not checked here (a bad value
    gives a wrong answer, not an out-of-bounds read); the façades check them.
    """
    if not (isinstance(labels, np.ndarray) and labels.ndim == 1 and labels.dtype.kind in "iu"):
        raise InvalidInputTypeError("labels must be a 1-D NumPy array of integers.", field="labels")
    if not (
        isinstance(probs, np.ndarray)
        and probs.ndim in (1, 2)
        and probs.dtype in (np.float32, np.float64)
    ):
        raise InvalidInputTypeError(
            "pred_probs must be a float32/float64 NumPy array of shape (T,) or (T, K).",
            field="pred_probs",
        )
    if probs.shape[0] != labels.shape[0]:
        raise InvalidInputError(
            f"pred_probs has {probs.shape[0]} rows but labels has {labels.shape[0]}.",
            field="pred_probs",
        )
    n_classes = 2 if probs.ndim == 1 else probs.shape[1]
    t = first_label_out_of_range(labels, n_classes)
    if t >= 0:
        raise InvalidInputError(
            f"labels must be class indices 0..{n_classes - 1}: token {t} has label {labels[t]}.",
            field="labels",
            token=int(t),
        )
