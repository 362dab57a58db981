"""The errors of labels that are not class indices, located at the first offender."""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from ..errors import InvalidInputError, InvalidInputTypeError
from ..ragged import Ragged
from .where import error_at


def out_of_range(ragged: Ragged, t: int, label: Any, name: str) -> InvalidInputError:
    return error_at(
        f"Labels must be class indices 0..K-1: {{where}} has label {label!r}.",
        field=name,
        offsets=ragged.offsets,
        flat_index=t,
    )


def first_string(labels: Any, offsets: np.ndarray) -> int:
    """The flat position of the first label given as a string in nested ``labels`` (0
    when they are not nested Python sequences, e.g. a column of strings). Error path
    only: a Python loop."""
    try:
        for i, sentence in enumerate(labels):
            for j, label in enumerate(sentence):
                if isinstance(label, (str, bytes)):
                    return int(offsets[i]) + j
    except TypeError:  # not nested sequences
        pass
    return 0


def is_integral(label: Any) -> bool:
    if isinstance(label, (bool, np.bool_, numbers.Integral)):
        return True
    return isinstance(label, numbers.Real) and np.isfinite(label) and float(label).is_integer()


def bad_label(ragged: Ragged, t: int, label: Any, name: str) -> InvalidInputError:
    if isinstance(label, np.generic):
        label = label.item()
    where = f"{{where}} has label {label!r}"
    at = {"field": name, "offsets": ragged.offsets, "flat_index": t}
    if isinstance(label, (str, bytes, np.str_)):
        return error_at(
            "Labels cannot be strings, they must be zero-indexed integers corresponding to "
            f"class indices ({where}).",
            **at,
        )
    if label is None:
        return error_at(f"Labels cannot be None ({where}).", error=InvalidInputTypeError, **at)
    return error_at(
        f"Labels must be zero-indexed integers corresponding to class indices ({where}).", **at
    )
