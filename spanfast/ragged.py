"""``Ragged``: a CSR container of per-sentence values, and conversion from user formats.

A dataset of sentences is stored flat: ``values`` holds every token's entry
back to back (shape ``(n_tokens,)`` for labels or span probabilities,
``(n_tokens, K)`` for class probabilities) and ``offsets`` (int64, length
``n_sentences + 1``) says where each sentence starts: sentence ``i`` is
``values[offsets[i]:offsets[i + 1]]``. Every conversion from nested lists,
lists of arrays and Arrow list arrays lives here, and every error names the
sentence (and token) where the input went wrong.
"""

from __future__ import annotations

import array
import itertools
import numbers
import operator
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

import numpy as np

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
        values = np.asarray(values)
        offsets = np.asarray(offsets)
        if values.ndim not in (1, 2):
            raise InvalidInputError(
                f"Ragged values must have shape (n_tokens,) or (n_tokens, K), got {values.shape}."
            )
        if offsets.ndim != 1 or offsets.shape[0] == 0:
            raise InvalidInputError(
                f"Ragged offsets must be 1-D with n_sentences + 1 >= 1 entries, got shape {offsets.shape}."
            )
        if offsets.dtype.kind not in "iu":
            raise InvalidInputTypeError(
                f"Ragged offsets must be integers, got dtype {offsets.dtype}."
            )
        offsets = np.ascontiguousarray(offsets, dtype=np.int64)
        if offsets[0] != 0:
            raise InvalidInputError(
                f"Ragged offsets must start at 0, got offsets[0] = {offsets[0]}."
            )
        if offsets[-1] != values.shape[0]:
            raise InvalidInputError(
                f"Ragged offsets must end at n_tokens = {values.shape[0]}, "
                f"got offsets[-1] = {offsets[-1]}."
            )
        i = first_decreasing_offset(offsets)
        if i >= 0:
            raise InvalidInputError(
                f"Ragged offsets must be non-decreasing, but offsets[{i}] = {offsets[i]} > "
                f"offsets[{i + 1}] = {offsets[i + 1]} (sentence {i} would have negative length)."
            )
        self.values = values
        self.offsets = offsets

    # -- construction -------------------------------------------------------------------

    @classmethod
    def from_list(cls, sentences: Any, *, name: str = "values") -> Ragged:
        """Build from nested lists, a list of arrays, a 2-D/3-D array or an Arrow list array.

        Numeric types are kept as NumPy infers them; use :func:`as_labels` /
        :func:`as_probabilities` for the checked conversions the algorithms use.
        """
        return _flatten(sentences, name=name, token_ndim=None)

    @classmethod
    def from_arrow(cls, array: Any, *, name: str = "values") -> Ragged:
        """Build from a pyarrow ``ListArray``/``LargeListArray``/``ChunkedArray``.

        Zero-copy when the list's child array has no nulls and a NumPy-compatible
        type; sliced arrays are handled. A null list is an error naming its row.
        """
        return _from_arrow(array, name=name)

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


# ---------------------------------------------------------------------------------------
# Flattening user input


# Errors name sentences by their row in the whole dataset; a caller that checks
# one batch of rows at a time says where the batch starts.
_FIRST_SENTENCE: ContextVar[int] = ContextVar("first_sentence", default=0)


@contextmanager
def sentences_numbered_from(first: int) -> Iterator[None]:
    """Number sentences in error messages from ``first`` (for batches of a larger dataset)."""
    token = _FIRST_SENTENCE.set(first)
    try:
        yield
    finally:
        _FIRST_SENTENCE.reset(token)


def _row(sentence: int) -> int:
    """A sentence index as error messages show it."""
    return sentence + _FIRST_SENTENCE.get()


def _sentence_of(offsets: np.ndarray, flat_index: int) -> tuple[int, int]:
    """(sentence, token) of a flat token index, as error messages show them."""
    sentence = int(np.searchsorted(offsets, flat_index, side="right") - 1)
    return _row(sentence), int(flat_index - offsets[sentence])


def _lengths(sentences: Sequence, name: str) -> np.ndarray:
    try:
        return np.fromiter(map(len, sentences), np.int64, count=len(sentences))
    except TypeError:
        for i, sentence in enumerate(sentences):
            if not hasattr(sentence, "__len__"):
                raise InvalidInputTypeError(
                    f"{name}[{_row(i)}] should be a list or array of per-token values (one per "
                    f"token of sentence {_row(i)}), got {type(sentence).__name__}: {sentence!r}"
                ) from None
        raise


def _flatten(
    sentences: Any, *, name: str, token_ndim: int | None, small_integers: bool = False
) -> Ragged:
    """Flatten per-sentence sequences into a Ragged.

    ``token_ndim`` is what one token's entry should be: 0 (a label or span
    probability), 1 (a row of K probabilities) or None (whatever it is).
    ``small_integers``: nested Python ints that all fit in int8 come back as
    int8 (labels: an eighth of the memory of int64), others as int64.
    """
    if isinstance(sentences, Ragged):
        return sentences
    if type(sentences).__module__.partition(".")[0] in ("pandas", "polars", "datasets"):
        from .io import _column_to_ragged  # imported on use: spanfast loads none of them

        return _column_to_ragged(sentences, name=name, token_ndim=token_ndim)
    if _is_arrow(sentences):
        return _from_arrow(sentences, name=name)
    if isinstance(sentences, np.ndarray) and sentences.dtype != object:
        # A regular array: every sentence has the same number of tokens.
        if sentences.ndim < 1:
            raise InvalidInputTypeError(f"{name} must be a sequence of sentences, got a scalar.")
        n, length = sentences.shape[0], (sentences.shape[1] if sentences.ndim > 1 else 0)
        if sentences.ndim == 1:
            raise InvalidInputError(
                f"{name} must hold one entry per token of each sentence, got a flat 1-D array of "
                f"shape {sentences.shape}; pass a list of per-sentence arrays or a spanfast.Ragged."
            )
        values = sentences.reshape((n * length,) + sentences.shape[2:])
        return Ragged(values, np.arange(n + 1, dtype=np.int64) * length)
    if not hasattr(sentences, "__len__") or isinstance(sentences, (str, bytes)):
        raise InvalidInputTypeError(
            f"{name} must be a list of per-sentence lists or arrays, got {type(sentences).__name__}."
        )
    if not isinstance(sentences, Sequence) and not isinstance(sentences, np.ndarray):
        sentences = list(sentences)
    n = len(sentences)
    lengths = _lengths(sentences, name)
    offsets = np.zeros(n + 1, np.int64)
    np.cumsum(lengths, out=offsets[1:])
    if n and set(map(type, sentences)) == {np.ndarray}:
        values = _concatenate_uniform(sentences, token_ndim)
        if values is None:  # mixed shapes or dtypes: check sentence by sentence
            values = _concatenate_arrays(sentences, lengths, name=name, token_ndim=token_ndim)
    else:
        values = _machine_integers(sentences, offsets, small_integers) if token_ndim == 0 else None
        if values is None:
            values = _nested_to_array(sentences, offsets, name=name, token_ndim=token_ndim)
    return Ragged(values, offsets)


def _nested_to_array(sentences: Sequence, offsets: np.ndarray, *, name: str, token_ndim):
    """Nested Python values (lists of numbers, or of rows of numbers) as one array."""
    flat = list(itertools.chain.from_iterable(sentences))
    try:
        values = np.array(flat)
    except ValueError:
        values = None  # ragged rows: located below
    if values is None or (token_ndim is not None and values.ndim != token_ndim + 1 and flat):
        _raise_shape_error(flat, offsets, name=name, token_ndim=token_ndim)
    if not flat and token_ndim == 1:
        values = np.empty((0, 0), np.float64)
    return values


# Nested integers are gathered this many tokens at a time, so the temporary list
# of Python ints stays small (a list over all tokens, 8 bytes each, is freed to the
# heap and stays in the process's memory) and cache-resident.
_INTEGER_CHUNK_TOKENS = 1 << 16


def _machine_integers(sentences: Sequence, offsets: np.ndarray, small: bool) -> np.ndarray | None:
    """The nested values as int64 (int8 first if ``small``) when every one is an int
    that fits (the usual nested labels), else None. Twice as fast as ``np.array``,
    and unlike ``np.fromiter`` it refuses floats and strings instead of truncating
    or parsing them."""
    chunk_starts = np.arange(0, offsets[-1], _INTEGER_CHUNK_TOKENS)
    cuts = np.append(np.unique(np.searchsorted(offsets, chunk_starts)), len(sentences))
    for typecode in ("b", "q") if small else ("q",):  # int8, int64: same codes in NumPy
        values = array.array(typecode)
        try:
            for start, stop in itertools.pairwise(cuts.tolist()):
                values.fromlist(list(itertools.chain.from_iterable(sentences[start:stop])))
        except OverflowError:
            continue  # a wider type may hold them
        except TypeError:
            return None
        return np.frombuffer(values, np.dtype(typecode))
    return None


def _concatenate_uniform(sentences: Sequence[np.ndarray], token_ndim: int | None) -> Any:
    """The fast path: arrays of one dtype that concatenate to the expected shape.

    Returns None when that does not hold (so a slower path can say where).
    """
    if len(set(map(_dtype_of, sentences))) != 1:
        return None  # NumPy would promote; e.g. an empty float64 sentence among int32 ones
    try:
        values = np.concatenate(sentences)
    except ValueError:
        return None
    if token_ndim is not None and values.ndim != token_ndim + 1:
        return None
    return values


_dtype_of = operator.attrgetter("dtype")


def _concatenate_arrays(
    sentences: Sequence[np.ndarray], lengths: np.ndarray, *, name: str, token_ndim: int | None
) -> np.ndarray:
    ndims = np.fromiter((s.ndim for s in sentences), np.int64, count=len(sentences))
    nonempty = lengths > 0
    if token_ndim is not None:
        expected = token_ndim + 1
    elif nonempty.any():
        expected = int(ndims[np.argmax(nonempty)])
    else:
        expected = int(ndims.max())
    # An empty sentence may come as shape (0,) even when rows have K entries.
    bad = np.flatnonzero((ndims != expected) & (nonempty | (ndims != 1)))
    if bad.size:
        i = int(bad[0])
        raise InvalidInputError(
            f"{name}[{_row(i)}] has shape {sentences[i].shape}; expected "
            + ("(n_tokens,): one value per token" if expected == 1 else "(n_tokens, K)")
            + f" (sentence {_row(i)})."
        )
    parts = [s for s in sentences if s.ndim == expected]
    filled = [s for s in parts if s.shape[0] > 0]
    if expected == 2 and filled:
        widths = np.fromiter((s.shape[1] for s in filled), np.int64, count=len(filled))
        if (widths != widths[0]).any():
            j = int(np.flatnonzero(widths != widths[0])[0])
            i = next(k for k, s in enumerate(sentences) if s is filled[j])
            raise InvalidInputError(
                f"{name}[{_row(i)}] has {widths[j]} classes (shape {filled[j].shape}) but "
                f"earlier sentences have {widths[0]}: every token needs the same number K of "
                f"class probabilities (sentence {_row(i)})."
            )
        parts = [s for s in parts if s.shape[0] > 0 or s.shape[1] == widths[0]]
    # Empty sentences (often float64 by NumPy's default) must not change the dtype.
    dtype = np.result_type(*(filled or parts[:1]))
    if len(parts) == 1:
        return parts[0].astype(dtype, copy=False)
    return np.concatenate(parts, dtype=dtype, casting="unsafe")


def _raise_shape_error(flat: list, offsets: np.ndarray, *, name: str, token_ndim: int | None):
    """Locate the first token whose entry does not have the expected shape."""
    shapes = [np.shape(x) for x in flat]
    if token_ndim == 0:
        for t, shape in enumerate(shapes):
            if shape != ():
                i, j = _sentence_of(offsets, t)
                raise InvalidInputError(
                    f"{name}[{i}][{j}] should be a single number but has shape {shape} "
                    f"(sentence {i}, token {j})."
                )
    first = next((s for s in shapes if len(s) == 1), None)
    for t, shape in enumerate(shapes):
        if len(shape) != 1 or shape != first:
            i, j = _sentence_of(offsets, t)
            raise InvalidInputError(
                f"{name}[{i}][{j}] should be a row of {first[0] if first else 'K'} class "
                f"probabilities but has shape {shape}: every token needs the same number of "
                f"classes (sentence {i}, token {j})."
            )
    raise InvalidInputError(f"{name} could not be read as per-token values.")


# ---------------------------------------------------------------------------------------
# Arrow


def _is_arrow(obj: Any) -> bool:
    module = type(obj).__module__
    return module.startswith("pyarrow")


def _from_arrow(array: Any, *, name: str) -> Ragged:
    import pyarrow as pa

    if isinstance(array, pa.ChunkedArray):
        chunks = [_from_arrow(chunk, name=name) for chunk in array.chunks]
        if len(chunks) == 1:
            return chunks[0]
        if not chunks:
            return Ragged(np.empty(0), np.zeros(1, np.int64))
        lengths = np.concatenate([c.lengths for c in chunks])
        offsets = np.zeros(lengths.shape[0] + 1, np.int64)
        np.cumsum(lengths, out=offsets[1:])
        return Ragged(np.concatenate([c.values for c in chunks]), offsets)
    if not isinstance(array, (pa.ListArray, pa.LargeListArray, pa.FixedSizeListArray)):
        raise InvalidInputTypeError(
            f"{name}: expected an Arrow list array (one list per sentence), got {array.type}."
        )
    if array.null_count:
        row = int(np.flatnonzero(array.is_null().to_numpy(zero_copy_only=False))[0])
        raise InvalidInputError(
            f"{name}: sentence {_row(row)} is null; every sentence needs a list "
            "(use [] for an empty one)."
        )
    if isinstance(array, pa.FixedSizeListArray):
        flat = array.flatten()
        size = array.type.list_size
        offsets = np.arange(len(array) + 1, dtype=np.int64) * size
    else:
        offsets = np.asarray(array.offsets).astype(np.int64)  # slicing is already applied
        start, stop = int(offsets[0]), int(offsets[-1])
        flat = array.values.slice(start, stop - start)
        offsets = offsets - start
    values = _arrow_values(flat, offsets, name=name)
    return Ragged(values, offsets)


def _arrow_values(flat: Any, offsets: np.ndarray, *, name: str) -> np.ndarray:
    import pyarrow as pa

    if flat.null_count:
        t = int(np.flatnonzero(flat.is_null().to_numpy(zero_copy_only=False))[0])
        i, j = _sentence_of(offsets, t)
        raise InvalidInputError(f"{name}[{i}][{j}] is null (sentence {i}, token {j}).")
    if isinstance(flat, (pa.ListArray, pa.LargeListArray, pa.FixedSizeListArray)):
        # list<list<float>>: one row of K class probabilities per token.
        if isinstance(flat, pa.FixedSizeListArray):
            width = flat.type.list_size
        else:
            row_offsets = np.asarray(flat.offsets).astype(np.int64)
            widths = np.diff(row_offsets)
            if widths.size and (widths != widths[0]).any():
                t = int(np.flatnonzero(widths != widths[0])[0])
                i, j = _sentence_of(offsets, t)
                raise InvalidInputError(
                    f"{name}[{i}][{j}] has {widths[t]} class probabilities but earlier tokens "
                    f"have {widths[0]} (sentence {i}, token {j})."
                )
            width = int(widths[0]) if widths.size else 0
        inner = flat.flatten()
        if inner.null_count:
            t = int(np.flatnonzero(inner.is_null().to_numpy(zero_copy_only=False))[0]) // max(
                width, 1
            )
            i, j = _sentence_of(offsets, t)
            raise InvalidInputError(
                f"{name}[{i}][{j}] contains a null probability (sentence {i}, token {j})."
            )
        return inner.to_numpy(zero_copy_only=False).reshape(len(flat), width)
    return flat.to_numpy(zero_copy_only=False)
