"""Checked data: what every kernel relies on, proven once, before any kernel runs.

:class:`Checked` is the only form the algorithms take. It is made here and
nowhere else: by :func:`labels_and_probabilities` from any user format, or by
:func:`checked_flat` from the flat arrays of :mod:`spanfast.core`'s public API.
A ``Checked`` holds:

- ``labels``: the narrowest integer type that holds ``0..K-1`` (kernels read
  labels several times; int8 is 8x less memory traffic than int64), every
  label in ``0..K-1``;
- ``probs``: C-contiguous, native-endian float32 or float64, finite and in
  ``[0, 1]`` up to cleanlab's tolerance; ``(T,)`` for span data (read as the two
  classes ``[1 - p, p]``) or ``(T, K)``;
- ``offsets``: int64, from 0, non-decreasing, ending at ``T``.

Errors say what is wrong and where (field, sentence i, token j, as attributes
and in the message), with cleanlab's wording where it has one.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass
from typing import Any

import numpy as np

from .._kernels.checks import (
    count_invalid_probabilities,
    first_invalid_probability,
    first_label_out_of_range,
    narrow_labels,
)
from .._kernels.thresholds import class_counts
from .._threads import in_blocks
from ..errors import InvalidInputError, InvalidInputTypeError
from ..options import PROBABILITY_TOLERANCE
from ..ragged import Ragged
from .convert import flatten
from .label_errors import bad_label, first_string, is_integral, out_of_range
from .where import error_at, row


@dataclass(frozen=True, eq=False)
class Checked:
    """Labels, probabilities and sentence offsets that passed every check."""

    labels: np.ndarray
    probs: np.ndarray
    offsets: np.ndarray
    # Tokens per class, when the label check counted them on its way (else None).
    class_counts: np.ndarray | None = None

    @property
    def span(self) -> bool:
        """One probability per token (span data), not a row of K."""
        return self.probs.ndim == 1

    @property
    def n_classes(self) -> int:
        return 2 if self.probs.ndim == 1 else self.probs.shape[1]

    @property
    def n_tokens(self) -> int:
        return self.labels.shape[0]

    @property
    def n_sentences(self) -> int:
        return self.offsets.shape[0] - 1

    def promoted(self, dtype: np.dtype) -> Checked:
        """The same data with probabilities in ``dtype`` (float32 -> float64, as NumPy
        promotes when batches of both are concatenated); still checked."""
        if self.probs.dtype == dtype:
            return self
        if np.promote_types(self.probs.dtype, dtype) != dtype:
            raise ValueError(f"cannot promote {self.probs.dtype} probabilities to {dtype}")
        return Checked(self.labels, self.probs.astype(dtype), self.offsets, self.class_counts)


@dataclass(frozen=True, eq=False)
class CheckedSpans:
    """Several span classes at once, checked: ``labels`` (T, C) uint8 of 0/1 (token in
    span class ``c + 1``), ``probs`` (T, C) C-contiguous native float32/float64 in
    [0, 1] (one independent probability per class), ``offsets`` as in :class:`Checked`.
    Made by :func:`spanfast._input.span_classes.span_classes_checked` only."""

    labels: np.ndarray
    probs: np.ndarray
    offsets: np.ndarray

    @property
    def n_classes(self) -> int:
        """C, the number of span classes (the width of the probabilities)."""
        return self.probs.shape[1]

    @property
    def n_tokens(self) -> int:
        return self.labels.shape[0]

    @property
    def n_sentences(self) -> int:
        return self.offsets.shape[0] - 1

    def column(self, span_class: int) -> Checked:
        """Span class ``span_class`` (1..C) as single-class span data (a copy)."""
        c = span_class - 1
        labels = np.ascontiguousarray(self.labels[:, c]).view(np.int8)
        return Checked(labels, np.ascontiguousarray(self.probs[:, c]), self.offsets)


def _ragged(
    column: Any,
    *,
    name: str,
    token_ndim: int | None,
    small_integers: bool = False,
    checked_offsets: np.ndarray | None = None,
):
    """``column`` as a Ragged; a Ragged's offsets are checked unless they are the array
    ``checked_offsets`` (checked a moment ago, for the other column) or equal to it (then
    that array is shared: one comparison is a third of a check)."""
    if isinstance(column, Ragged):
        if column.offsets is checked_offsets:
            return column
        if checked_offsets is not None and np.array_equal(column.offsets, checked_offsets):
            return Ragged(column.values, checked_offsets)
        return column.check()
    return Ragged(*flatten(column, name=name, token_ndim=token_ndim, small_integers=small_integers))


# ---------------------------------------------------------------------------------------
# Labels

_TOO_BIG = 2**62  # far beyond any class index; keeps the int64 conversion exact


def as_labels(
    labels: Any, *, name: str = "labels", checked_offsets: np.ndarray | None = None
) -> Ragged:
    """Per-sentence labels as a Ragged of int8 or int64 (range is checked against K later;
    ``checked_offsets`` as in :func:`_ragged`)."""
    ragged = _ragged(
        labels, name=name, token_ndim=0, small_integers=True, checked_offsets=checked_offsets
    )
    values = ragged.values
    if values.ndim != 1:
        raise InvalidInputError(
            f"labels must hold one integer per token; got per-token entries of shape "
            f"{values.shape[1:]}.",
            field=name,
        )
    kind = values.dtype.kind
    if kind == "u" and values.size and values.max() >= _TOO_BIG:
        t = int(np.argmax(values >= _TOO_BIG))
        raise out_of_range(ragged, t, int(values[t]), name)
    if kind in "iub":
        values = values.astype(np.int8 if values.dtype == np.int8 else np.int64, copy=False)
    elif kind == "f":
        bad = np.flatnonzero(~np.isfinite(values) | (np.mod(values, 1) != 0))
        if bad.size:
            raise bad_label(ragged, int(bad[0]), values[bad[0]], name)
        huge = np.flatnonzero(np.abs(values) >= _TOO_BIG)
        if huge.size:
            raise out_of_range(ragged, int(huge[0]), values[huge[0]].item(), name)
        values = values.astype(np.int64)
    else:
        if kind in "US":  # NumPy turned a mix of ints and strings into strings: find one
            t = first_string(labels, ragged.offsets)
            raise bad_label(ragged, t, values[t], name)
        # None, huge or mixed Python objects: find the first offender.
        for t, label in enumerate(values.tolist()):
            if not is_integral(label):
                raise bad_label(ragged, t, label, name)
            if abs(label) >= _TOO_BIG:
                raise out_of_range(ragged, t, label, name)
        values = values.astype(np.int64)
    return Ragged(np.ascontiguousarray(values), ragged.offsets)


# ---------------------------------------------------------------------------------------
# Probabilities


def as_probabilities(
    pred_probs: Any,
    *,
    span: bool | None,
    check_values: bool = True,
    name: str = "pred_probs",
    checked_offsets: np.ndarray | None = None,
) -> Ragged:
    """Per-sentence probabilities as a Ragged of C-contiguous native float32/float64.

    ``span=True``: one probability per token (values shape ``(T,)``);
    ``span=False``: one row of K class probabilities per token (``(T, K)``);
    ``span=None``: whichever the data holds. ``check_values=False`` leaves
    :func:`check_probability_values` to the caller; ``checked_offsets`` as in
    :func:`_ragged`.
    """
    token_ndim = None if span is None else 0 if span else 1
    ragged = _ragged(pred_probs, name=name, token_ndim=token_ndim, checked_offsets=checked_offsets)
    values = ragged.values
    if span is None:
        span = values.ndim == 1
    if values.ndim != (1 if span else 2):
        raise InvalidInputError(
            f"{name} must hold "
            + (
                "one probability per token"
                if span
                else "one row of K class probabilities per token"
            )
            + f"; got per-token entries of shape {values.shape[1:]}.",
            field=name,
        )
    values = _real_numbers(values, ragged.offsets, name)
    ragged = Ragged(values, ragged.offsets)
    if check_values:
        check_probability_values(ragged, count_invalid_probabilities(values, *VALID_RANGE), name)
    return ragged


def _real_numbers(values: np.ndarray, offsets: np.ndarray, name: str) -> np.ndarray:
    """``values`` as C-contiguous native float32/float64; anything but real numbers is
    an error (complex, bool, dates, strings, decimals: none of them is a probability)."""
    kind = values.dtype.kind
    if kind in "OUS":
        width = values.shape[1] if values.ndim == 2 else 1
        for t, value in enumerate(values.reshape(-1).tolist()):
            if not isinstance(value, numbers.Real) or isinstance(value, bool):
                raise error_at(
                    f"{name} must be numbers; {{where}} has {value!r}.",
                    field=name,
                    offsets=offsets,
                    flat_index=t // width,
                    error=InvalidInputTypeError,
                )
        values = values.astype(np.float64)
    elif kind not in "fiu":
        what = {"c": "complex numbers", "b": "booleans", "M": "dates", "m": "time spans"}
        raise InvalidInputTypeError(
            f"{name} must be real numbers (probabilities), got {what.get(kind, 'values')} "
            f"of dtype {values.dtype}.",
            field=name,
        )
    if values.dtype.kind == "f" and values.dtype.itemsize in (4, 8):
        values = values.astype(values.dtype.newbyteorder("="), copy=False)  # big-endian too
    else:
        values = values.astype(np.float64)  # integers, float16: as float64, like cleanlab
    return np.ascontiguousarray(values)


# (low, high) of a valid probability, as the value-check kernels take them.
VALID_RANGE = (-PROBABILITY_TOLERANCE, 1 + PROBABILITY_TOLERANCE)


def check_probability_values(ragged: Ragged, n_invalid: int, name: str = "pred_probs") -> None:
    """Raise, naming the first one, if any of the ``n_invalid`` values (from
    ``count_invalid_probabilities(ragged.values, *VALID_RANGE)``) is outside [0, 1]."""
    if not n_invalid:
        return
    values = ragged.values
    bad = first_invalid_probability(values, *VALID_RANGE)
    width = 1 if values.ndim == 1 else values.shape[1]
    t, k = divmod(bad, width)
    value = values.reshape(-1)[bad]
    what = "NaN" if np.isnan(value) else "infinite" if np.isinf(value) else repr(float(value))
    column = "" if values.ndim == 1 else f", class {k}"
    raise error_at(
        f"Values in pred_probs must be between 0 and 1: {{where}}{column} has {what}.",
        field=name,
        offsets=ragged.offsets,
        flat_index=t,
    )


# ---------------------------------------------------------------------------------------
# Both together


def check_aligned(labels: Ragged, probs: Ragged) -> None:
    """Same number of sentences, and of tokens in every sentence."""
    if labels.n_sentences != probs.n_sentences:
        raise InvalidInputError(
            f"labels has {labels.n_sentences} sentences but pred_probs has {probs.n_sentences}.",
            field="pred_probs",
        )
    if not np.array_equal(labels.offsets, probs.offsets):
        i = int(np.flatnonzero(labels.lengths != probs.lengths)[0])
        raise error_at(
            f"pred_probs and labels must have same length: {{where}} has {labels.lengths[i]} "
            f"labels but {probs.lengths[i]} rows of pred_probs.",
            field="pred_probs",
            sentence=i,
        )


def check_label_range(labels: Ragged, n_classes: int, *, span: bool) -> None:
    """Every label is in ``0..n_classes-1``."""
    t = first_label_out_of_range(labels.values, n_classes)
    if t < 0:
        return
    label = int(labels.values[t])
    where = f"{{where}} has label {label}"
    at = {"field": "labels", "offsets": labels.offsets, "flat_index": t}
    if label < 0:
        raise error_at(
            f"Labels must be positive integers corresponding to class indices ({where}).", **at
        )
    if span:
        raise error_at(f"Span labels must be 0 or 1 ({where}).", **at)
    raise error_at(
        f"pred_probs must have at least {label + 1} columns, based on the largest class index "
        f"which appears in labels ({where}; pred_probs has {n_classes} columns).",
        **at,
    )


def compact_label_type(n_classes: int) -> np.dtype:
    """The narrowest integer type that holds every class index."""
    return next(
        np.dtype(t)
        for t in (np.int8, np.int16, np.int32, np.int64)
        if n_classes <= np.iinfo(t).max + 1
    )


# Tokens per block of the checks below, which share the blocks out among every core
# (counts add up, each block writes its own slice: the same result for any blocks).
_CHECK_BLOCK = 1 << 18


def check_blocks(n_tokens: int) -> list[tuple[int, int]]:
    """The (start, stop) token blocks the checks share out among the cores."""
    return [(lo, min(lo + _CHECK_BLOCK, n_tokens)) for lo in range(0, n_tokens, _CHECK_BLOCK)]


def _check_tokens(
    values: np.ndarray, labels: np.ndarray, n_classes: int
) -> tuple[int, np.ndarray, bool, np.ndarray | None]:
    """The token checks in one pass, block by block: how many probabilities are invalid,
    the labels in :func:`compact_label_type`, whether one is out of range, and the class
    counts (None if one is). ``values`` and ``labels`` have one entry per token each."""
    same = labels.dtype == compact_label_type(n_classes)
    narrow = labels if same else np.empty(labels.shape[0], compact_label_type(n_classes))

    def check(block: tuple[int, int]) -> tuple:
        lo, hi = block
        n_invalid = count_invalid_probabilities(values[lo:hi], *VALID_RANGE)
        if same:
            bad = first_label_out_of_range(labels[lo:hi], n_classes) >= 0
        else:
            bad = narrow_labels(labels[lo:hi], n_classes, narrow[lo:hi]) > 0
        return n_invalid, bad, None if bad else class_counts(narrow[lo:hi], n_classes)

    parts = in_blocks(None, check, check_blocks(labels.shape[0]))
    out_of_range = any(part[1] for part in parts)
    counts = None if out_of_range else np.zeros(n_classes, np.int64)
    for part in parts if counts is not None else ():
        counts += part[2]
    return sum(part[0] for part in parts), narrow, out_of_range, counts


def _narrow(values: np.ndarray, n_classes: int, out: np.ndarray) -> int:
    """``narrow_labels`` of ``values`` into ``out``, block by block."""
    return sum(
        in_blocks(
            None,
            lambda block: narrow_labels(
                values[block[0] : block[1]], n_classes, out[block[0] : block[1]]
            ),
            check_blocks(values.shape[0]),
        )
    )


def narrowed_labels(labels: Ragged, n_classes: int) -> tuple[np.ndarray, bool]:
    """The labels in :func:`compact_label_type`, and whether any is out of range.

    Parameters
    ----------
    labels : Ragged
        The labels as :func:`as_labels` made them.
    n_classes : int
        The number of classes (2 for span data).

    Returns
    -------
    narrow : numpy.ndarray
        ``labels.values`` in the narrowest integer type that holds ``0..n_classes-1``
        (the values themselves when they have that type already).
    out_of_range : bool
        Whether a label is outside ``0..n_classes-1``: then :func:`check_label_range`
        says which, once the checks that come before it have passed.
    """
    compact = compact_label_type(n_classes)
    if labels.values.dtype == compact:
        return labels.values, bool(first_label_out_of_range(labels.values, n_classes) >= 0)
    narrow = np.empty(labels.n_tokens, compact)
    return narrow, bool(_narrow(labels.values, n_classes, narrow))


def labels_and_probabilities(
    labels: Any, pred_probs: Any, *, span: bool | None, checked_offsets: np.ndarray | None = None
) -> Checked:
    """Convert and check a (labels, pred_probs) pair; the entry point for user data.

    ``span=None`` accepts either layout (span data has one probability per token).
    ``checked_offsets``: offsets the caller has checked (as in :func:`_ragged`).
    """
    label_ragged = as_labels(labels, checked_offsets=checked_offsets)
    prob_ragged = as_probabilities(
        pred_probs, span=span, check_values=False, checked_offsets=label_ragged.offsets
    )
    span = prob_ragged.values.ndim == 1
    n_classes = 2 if span else prob_ragged.values.shape[1]
    if label_ragged.n_tokens == prob_ragged.n_tokens:
        n_invalid, narrow, labels_out_of_range, counts = _check_tokens(
            prob_ragged.values, label_ragged.values, n_classes
        )
    else:  # not aligned: check_aligned says where, after the values' check
        n_invalid = count_invalid_probabilities(prob_ragged.values, *VALID_RANGE)
        narrow, labels_out_of_range, counts = label_ragged.values, False, None
    check_probability_values(prob_ragged, n_invalid)
    check_aligned(label_ragged, prob_ragged)
    if labels_out_of_range:
        check_label_range(label_ragged, n_classes, span=span)
    return Checked(narrow, prob_ragged.values, label_ragged.offsets, counts)


def check_tokens_aligned(tokens_lengths: np.ndarray, offsets: np.ndarray) -> None:
    """A tokens column has one string per label, sentence by sentence."""
    lengths = np.diff(offsets)
    if tokens_lengths.shape[0] != lengths.shape[0]:
        raise InvalidInputError(
            f"tokens has {tokens_lengths.shape[0]} sentences but labels has {lengths.shape[0]}.",
            field="tokens",
        )
    mismatch = np.flatnonzero(tokens_lengths != lengths)
    if mismatch.size:
        i = int(mismatch[0])
        raise InvalidInputError(
            f"tokens[{row(i)}] has {tokens_lengths[i]} tokens but labels[{row(i)}] has "
            f"{lengths[i]} (sentence {row(i)}).",
            field="tokens",
            sentence=row(i),
        )


# ---------------------------------------------------------------------------------------
# Flat arrays and precomputed state given to spanfast.core


def checked_flat(labels: Any, probs: Any) -> Checked:
    """What the kernels rely on, for the flat arrays of :mod:`spanfast.core`.

    ``labels``: 1-D integers; ``probs``: ``(T,)`` or ``(T, K)`` real numbers (any
    float width or byte order; converted as the façades convert them). Checked
    like user data; errors name the token by its flat index ("sentence 0, token t").
    """
    labels, probs = np.asarray(labels), np.asarray(probs)
    if not (labels.ndim == 1 and labels.dtype.kind in "iu"):
        raise InvalidInputTypeError(
            f"labels must be a 1-D NumPy array of integers, got dtype {labels.dtype} "
            f"and shape {labels.shape}.",
            field="labels",
        )
    if probs.ndim not in (1, 2):
        raise InvalidInputTypeError(
            f"pred_probs must be an array of shape (T,) or (T, K), got shape {probs.shape}.",
            field="pred_probs",
        )
    if probs.shape[0] != labels.shape[0]:
        raise InvalidInputError(
            f"pred_probs has {probs.shape[0]} rows but labels has {labels.shape[0]}.",
            field="pred_probs",
        )
    whole = np.array([0, labels.shape[0]], np.int64)
    return labels_and_probabilities(Ragged(labels, whole), Ragged(probs, whole), span=None)


def checked_offsets(offsets: Any, n_tokens: int) -> np.ndarray:
    """Sentence offsets given as an array: int64, valid, ending at ``n_tokens``."""
    offsets = np.asarray(offsets)
    if offsets.ndim != 1 or offsets.dtype.kind not in "iu":
        raise InvalidInputTypeError(
            f"offsets must be a 1-D array of integers, got dtype {offsets.dtype} and shape "
            f"{offsets.shape}.",
            field="offsets",
        )
    return Ragged(np.empty(n_tokens, np.int8), offsets).check().offsets


def checked_positions(positions: Any, n_tokens: int) -> np.ndarray:
    """Flat token positions given as an array: int64, each in ``0..n_tokens-1``."""
    positions = np.asarray(positions)
    if positions.ndim != 1 or (positions.dtype.kind not in "iu" and positions.size):
        raise InvalidInputTypeError(
            "token positions must be a 1-D array of integers.", field="positions"
        )
    positions = positions.astype(np.int64, copy=False)
    if positions.shape[0] and (positions.min() < 0 or positions.max() >= n_tokens):
        bad = int(np.flatnonzero((positions < 0) | (positions >= n_tokens))[0])
        raise InvalidInputError(
            f"token positions must be in 0..{n_tokens - 1}: position {bad} is {positions[bad]}.",
            field="positions",
        )
    return positions


def checked_scores(token_scores: Any, *, name: str = "token_scores") -> Ragged:
    """Per-sentence token scores (any column form) as a Ragged of float32/float64."""
    ragged = _ragged(token_scores, name=name, token_ndim=0)
    values = ragged.values
    if values.ndim != 1 or values.dtype.kind not in "fiub":
        raise InvalidInputError("token_scores must hold one number per token.", field=name)
    if values.dtype not in (np.float32, np.float64):  # ints, bools, float16: as float64
        values = values.astype(np.float64)
    return Ragged(np.ascontiguousarray(values), ragged.offsets)
