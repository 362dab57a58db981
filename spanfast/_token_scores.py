"""The per-sentence token scores returned by ``get_label_quality_scores``.

cleanlab returns a list with one ``pd.Series`` per sentence. Building 100K
Series up front costs seconds and gigabytes; :class:`TokenScores` holds the
flat scores and sentence offsets and builds each Series only when it is
accessed. It behaves like cleanlab's list for ``len``, indexing (negative
too), slicing (a list of Series), iteration and ``==``; ``.values`` /
``.offsets`` / ``.ragged`` give the flat data without pandas.
"""

from __future__ import annotations

import numbers
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from .ragged import Ragged


class TokenScores(Sequence):
    """A lazy list of per-sentence ``pd.Series`` of token scores.

    Examples
    --------
    >>> import numpy as np
    >>> from spanfast.token_classification.rank import get_label_quality_scores
    >>> _, token_scores = get_label_quality_scores(
    ...     [[0, 1], [1]], [np.array([[0.9, 0.1], [0.2, 0.8]]), np.array([[0.6, 0.4]])]
    ... )
    >>> len(token_scores)
    2
    >>> token_scores[1]
    0    0.4
    dtype: float64
    >>> token_scores.values, token_scores.offsets
    (array([0.9, 0.8, 0.4]), array([0, 2, 3]))
    """

    __slots__ = ("values", "offsets", "_tokens")

    def __init__(self, values: np.ndarray, offsets: np.ndarray, tokens: Any = None) -> None:
        self.values = values
        self.offsets = offsets
        self._tokens = tokens

    @property
    def ragged(self) -> Ragged:
        """The scores as a :class:`~spanfast.Ragged` (no copy)."""
        return Ragged(self.values, self.offsets)

    def __len__(self) -> int:
        return self.offsets.shape[0] - 1

    def _series(self, i: int) -> Any:
        import pandas as pd

        scores = self.values[self.offsets[i] : self.offsets[i + 1]].copy()
        if self._tokens is None:
            return pd.Series(scores)
        return pd.Series(scores, index=self._tokens[i])

    def __getitem__(self, index: Any) -> Any:
        n = len(self)
        if isinstance(index, slice):
            return [self._series(i) for i in range(*index.indices(n))]
        if not isinstance(index, numbers.Integral):
            raise TypeError(f"list indices must be integers or slices, not {type(index).__name__}")
        i = int(index)
        if i < 0:
            i += n
        if not 0 <= i < n:
            raise IndexError("list index out of range")
        return self._series(i)

    def __iter__(self) -> Iterator[Any]:
        for i in range(len(self)):
            yield self._series(i)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, TokenScores):
            return (
                np.array_equal(self.offsets, other.offsets)
                and np.array_equal(self.values, other.values)
                and all(a.index.equals(b.index) for a, b in zip(self, other))
            )
        if isinstance(other, (list, tuple)):
            return len(other) == len(self) and all(
                a.equals(b) if hasattr(b, "equals") else False for a, b in zip(self, other)
            )
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]  # mutable-sequence semantics, like list

    def __repr__(self) -> str:
        n = len(self)
        shown = ", ".join(repr(s) for s in self[: min(n, 3)])
        more = f", ... ({n - 3} more sentences)" if n > 3 else ""
        return f"[{shown}{more}]"

    def to_list(self) -> list:
        """Every sentence's Series, built now (what cleanlab returns)."""
        return list(self)
