"""``Ragged``: a CSR container of per-sentence values.

A dataset of sentences is stored flat: ``values`` holds every token's entry
back to back (shape ``(n_tokens,)`` for labels or span probabilities,
``(n_tokens, K)`` for class probabilities) and ``offsets`` (int64, length
``n_sentences + 1``) says where each sentence starts: sentence ``i`` is
``values[offsets[i]:offsets[i + 1]]``.

Construction checks what costs O(1) (shapes, first and last offset); the O(n)
check that offsets never decrease is :meth:`Ragged.check`, run by the input
boundary (:mod:`spanfast._input.checked`) on every Ragged a user hands in.
Conversion from user formats lives in :mod:`spanfast._input`.
"""

from __future__ import annotations

import numbers
from collections.abc import Iterator
from typing import Any

import numpy as np

from ._input import arrow as _arrow
from ._input import convert as _convert
from ._kernels.checks import first_decreasing_offset
from .errors import InvalidInputError, InvalidInputTypeError


class Ragged:
    """Per-sentence values stored as one flat array plus sentence offsets.

    Parameters
    ----------
    values : array_like
        All tokens' values, sentence after sentence: shape ``(n_tokens,)`` or
        ``(n_tokens, K)``.
    offsets : array_like of int
        Length ``n_sentences + 1``; ``offsets[0] == 0``, non-decreasing,
        ``offsets[-1] == n_tokens``.

    Examples
    --------
    >>> import numpy as np
    >>> from spanfast import Ragged
    >>> r = Ragged(np.array([0, 1, 1, 0, 1]), [0, 3, 3, 5])
    >>> len(r), r.lengths.tolist()
    (3, [3, 0, 2])
    >>> r[2]
    array([0, 1])
    >>> Ragged.from_list([[0, 1, 1], [], [0, 1]]).to_list()
    [[0, 1, 1], [], [0, 1]]
    """

    __slots__ = ("values", "offsets")

    values: np.ndarray
    offsets: np.ndarray

    def __init__(self, values: Any, offsets: Any) -> None:
        if isinstance(values, np.ma.MaskedArray):
            if np.ma.getmaskarray(values).any():
                raise InvalidInputError(
                    "Ragged values must not be masked: masked values are missing values.",
                    field="values",
                )
            values = values.data
        values = np.asarray(values)
        offsets = np.asarray(offsets)
        if values.ndim not in (1, 2):
            raise InvalidInputError(
                f"Ragged values must have shape (n_tokens,) or (n_tokens, K), got {values.shape}.",
                field="values",
            )
        if offsets.ndim != 1 or offsets.shape[0] == 0:
            raise InvalidInputError(
                f"Ragged offsets must be 1-D with n_sentences + 1 >= 1 entries, got shape {offsets.shape}.",
                field="offsets",
            )
        if offsets.dtype.kind not in "iu":
            raise InvalidInputTypeError(
                f"Ragged offsets must be integers, got dtype {offsets.dtype}.",
                field="offsets",
            )
        offsets = np.ascontiguousarray(offsets, dtype=np.int64)
        if offsets[0] != 0:
            raise InvalidInputError(
                f"Ragged offsets must start at 0, got offsets[0] = {offsets[0]}.",
                field="offsets",
            )
        if offsets[-1] != values.shape[0]:
            raise InvalidInputError(
                f"Ragged offsets must end at n_tokens = {values.shape[0]}, "
                f"got offsets[-1] = {offsets[-1]}.",
                field="offsets",
            )
        self.values = values
        self.offsets = offsets

    def check(self) -> Ragged:
        """Check that the offsets never decrease (O(n_sentences)); returns ``self``.

        Raises
        ------
        InvalidInputError
            Naming the first sentence ``i`` whose end comes before its start.
        """
        i = first_decreasing_offset(self.offsets)
        if i >= 0:
            offsets = self.offsets
            raise InvalidInputError(
                f"Ragged offsets must be non-decreasing, but offsets[{i}] = {offsets[i]} > "
                f"offsets[{i + 1}] = {offsets[i + 1]} (sentence {i} would have negative length).",
                field="offsets",
                sentence=int(i),
            )
        return self

    # -- construction -------------------------------------------------------------------

    @classmethod
    def from_list(cls, sentences: Any, *, name: str = "values") -> Ragged:
        """Build from nested lists, a list of arrays, a 2-D/3-D array or an Arrow list array.

        Numeric types are kept as NumPy infers them; use :func:`as_labels` /
        :func:`as_probabilities` for the checked conversions the algorithms use.
        """
        if isinstance(sentences, Ragged):
            return sentences
        return cls(*_convert.flatten(sentences, name=name))

    @classmethod
    def from_arrow(cls, array: Any, *, name: str = "values") -> Ragged:
        """Build from a pyarrow ``ListArray``/``LargeListArray``/``ChunkedArray``.

        Zero-copy when the list's child array has no nulls and a NumPy-compatible
        type; sliced arrays are handled. A null list is an error naming its row.
        """
        return cls(*_arrow.from_arrow(array, name=name))

    # -- access --------------------------------------------------------------------------

    @property
    def lengths(self) -> np.ndarray:
        """Number of tokens in each sentence."""
        return np.diff(self.offsets)

    @property
    def n_sentences(self) -> int:
        return self.offsets.shape[0] - 1

    @property
    def n_tokens(self) -> int:
        return int(self.values.shape[0])

    def __len__(self) -> int:
        return self.n_sentences

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            start, stop, step = index.indices(self.n_sentences)
            if step != 1:
                selected = np.arange(start, stop, step)
                return Ragged.from_list([self[int(i)] for i in selected])
            stop = max(stop, start)
            first, last = self.offsets[start], self.offsets[stop]
            return Ragged(self.values[first:last], self.offsets[start : stop + 1] - first)
        if not isinstance(index, numbers.Integral):
            raise TypeError(
                f"Ragged indices must be integers or slices, not {type(index).__name__}"
            )
        n = self.n_sentences
        i = int(index)
        if i < 0:
            i += n
        if not 0 <= i < n:
            raise IndexError(f"sentence index {index} out of range for {n} sentences")
        return self.values[self.offsets[i] : self.offsets[i + 1]]

    def __iter__(self) -> Iterator[np.ndarray]:
        for i in range(self.n_sentences):
            yield self.values[self.offsets[i] : self.offsets[i + 1]]

    def __repr__(self) -> str:
        return (
            f"Ragged(n_sentences={self.n_sentences}, n_tokens={self.n_tokens}, "
            f"values dtype={self.values.dtype}, shape={self.values.shape})"
        )

    def to_list(self) -> list:
        """Nested Python lists, one per sentence (the input format cleanlab documents)."""
        flat = self.values.tolist()
        bounds = self.offsets.tolist()
        return [flat[a:b] for a, b in zip(bounds[:-1], bounds[1:])]

    def to_arrays(self) -> list[np.ndarray]:
        """One NumPy view per sentence (no copy)."""
        return list(self)
