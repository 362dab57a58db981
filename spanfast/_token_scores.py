"""The per-sentence token scores returned by ``get_label_quality_scores``.

cleanlab returns a list with one ``pd.Series`` per sentence. Building 100K
Series up front costs seconds and gigabytes; :class:`TokenScores` holds the
flat scores and sentence offsets and builds each Series only when it is
accessed. It does what a list does — ``len``, indexing (negative too),
slicing (a list of Series), iteration, ``==``, ``+``, ``*``, ``in``, ``index``,
``count``, ``copy``, ``append``, ``extend``, ``insert``, ``pop``, ``remove``,
``reverse``, item assignment and deletion — except that ``isinstance(x, list)``
is False (a list subclass would be read by C code without building its items).
The first change builds every Series once; until then ``.values`` / ``.offsets``
/ ``.ragged`` give the flat data without pandas.
"""

from __future__ import annotations

import numbers
from collections.abc import Iterable, Iterator, MutableSequence
from typing import Any

import numpy as np

from ._positions import offsets_from_lengths
from .ragged import Ragged


class TokenScores(MutableSequence):
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
    >>> (token_scores + token_scores[:1])[2].tolist()
    [0.9, 0.8]
    """

    __slots__ = ("_values", "_offsets", "_tokens", "_items", "_changed")

    def __init__(self, values: np.ndarray, offsets: np.ndarray, tokens: Any = None) -> None:
        self._values = values
        self._offsets = offsets
        self._tokens = tokens
        # The Series built so far (None: not yet), so each sentence's Series is built
        # once and keeps its identity, as in a list; None until the first access.
        self._items: list | None = None
        self._changed = False  # a change made the Series the truth, not the flat data

    # -- the flat data ------------------------------------------------------------------

    @property
    def values(self) -> np.ndarray:
        """Every token's score, sentence after sentence."""
        if self._changed:
            self._flatten_items()
        return self._values

    @property
    def offsets(self) -> np.ndarray:
        """Sentence ``i`` is ``values[offsets[i]:offsets[i + 1]]``."""
        if self._changed:
            self._flatten_items()
        return self._offsets

    @property
    def ragged(self) -> Ragged:
        """The scores as a :class:`~spanfast.Ragged` (no copy)."""
        return Ragged(self.values, self.offsets)

    def _flatten_items(self) -> None:
        lengths = np.fromiter(map(len, self._items), np.int64, count=len(self._items))
        offsets = offsets_from_lengths(lengths)
        parts = [np.asarray(s, dtype=np.float64) for s in self._items]
        self._values = np.concatenate(parts) if parts else np.empty(0)
        self._offsets = offsets
        self._changed = False

    def _built(self, i: int) -> Any:
        """Sentence ``i``'s Series, built on first access."""
        if self._items is None:
            self._items = [None] * (self._offsets.shape[0] - 1)
        item = self._items[i]
        if item is None and not self._changed:
            item = self._items[i] = self._series(i)
        return item

    def _materialize(self) -> list:
        """Every Series, for a change: from now on the list of Series is the truth."""
        for i in range(len(self)):
            self._built(i)
        self._changed = True
        return self._items

    # -- reading, as a list ---------------------------------------------------------------

    def __len__(self) -> int:
        if self._changed:
            return len(self._items)
        return self._offsets.shape[0] - 1

    def _series(self, i: int) -> Any:
        import pandas as pd

        scores = self._values[self._offsets[i] : self._offsets[i + 1]].copy()
        if self._tokens is None:
            return pd.Series(scores)
        return pd.Series(scores, index=self._tokens[i])

    def __getitem__(self, index: Any) -> Any:
        if self._changed:
            return self._items[index]
        n = len(self)
        if isinstance(index, slice):
            return [self._built(i) for i in range(*index.indices(n))]
        if not isinstance(index, numbers.Integral):
            raise TypeError(f"list indices must be integers or slices, not {type(index).__name__}")
        i = int(index)
        if i < 0:
            i += n
        if not 0 <= i < n:
            raise IndexError("list index out of range")
        return self._built(i)

    def __iter__(self) -> Iterator[Any]:
        if self._changed:
            yield from list(self._items)
            return
        for i in range(len(self)):
            yield self._built(i)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, TokenScores) and not (self._changed or other._changed):
            return (
                np.array_equal(self._offsets, other._offsets)
                and np.array_equal(self._values, other._values)
                and all(a.index.equals(b.index) for a, b in zip(self, other))
            )
        if isinstance(other, (list, tuple, TokenScores)):
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

    def __add__(self, other: Any) -> list:
        if not isinstance(other, (list, TokenScores)):
            return NotImplemented
        return list(self) + list(other)

    def __radd__(self, other: Any) -> list:
        if not isinstance(other, list):
            return NotImplemented
        return other + list(self)

    def __mul__(self, times: int) -> list:
        return list(self) * times

    __rmul__ = __mul__

    def copy(self) -> TokenScores:
        """A shallow copy (still lazy; changing one does not change the other)."""
        copy = TokenScores(self._values, self._offsets, self._tokens)
        if self._items is not None:
            copy._items, copy._changed = list(self._items), self._changed
        return copy

    def to_list(self) -> list:
        """Every sentence's Series, built now (what cleanlab returns)."""
        return list(self)

    # -- changing, as a list (builds every Series once) ------------------------------------

    def __setitem__(self, index: Any, value: Any) -> None:
        self._materialize()[index] = value

    def __delitem__(self, index: Any) -> None:
        del self._materialize()[index]

    def insert(self, index: int, value: Any) -> None:
        self._materialize().insert(index, value)

    def append(self, value: Any) -> None:
        self._materialize().append(value)

    def extend(self, values: Iterable[Any]) -> None:
        self._materialize().extend(values)

    def __iadd__(self, values: Iterable[Any]) -> TokenScores:
        self.extend(values)
        return self

    def reverse(self) -> None:
        self._materialize().reverse()

    def sort(self, *, key: Any = None, reverse: bool = False) -> None:
        self._materialize().sort(key=key, reverse=reverse)

    def clear(self) -> None:
        self._materialize().clear()
