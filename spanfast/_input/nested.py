"""Nested Python lists, lists of arrays and regular arrays as ``(values, offsets)``.

``token_ndim`` says what one token's entry should be: 0 (a label or a span
probability), 1 (a row of K class probabilities) or None (whatever it is).
Every error names the sentence and token where the input went wrong.
"""

from __future__ import annotations

import array
import itertools
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from .._positions import offsets_from_lengths
from ..errors import InvalidInputError, InvalidInputTypeError
from .where import error_at, row

Flat = tuple[np.ndarray, np.ndarray]  # (values, offsets)


def flatten_nested(
    sentences: Any, *, name: str, token_ndim: int | None, small_integers: bool = False
) -> Flat:
    """Flatten per-sentence sequences (lists, tuples, arrays, object arrays).

    ``small_integers``: nested Python ints that all fit in int8 come back as
    int8 (labels: an eighth of the memory of int64), others as int64.
    """
    if isinstance(sentences, np.ndarray) and sentences.dtype != object:
        return _regular(sentences, name=name)
    if not hasattr(sentences, "__len__") or isinstance(sentences, (str, bytes)):
        raise InvalidInputTypeError(
            f"{name} must be a list of per-sentence lists or arrays, got {type(sentences).__name__}.",
            field=name,
        )
    if not isinstance(sentences, (Sequence, np.ndarray)):
        sentences = list(sentences)
    n = len(sentences)
    offsets = offsets_from_lengths(_lengths(sentences, name))
    kinds = set(map(type, sentences))
    if np.ma.MaskedArray in kinds:
        sentences = _unmasked(sentences, offsets, name=name)
        kinds = set(map(type, sentences))
    if n and kinds == {np.ndarray}:
        values = _concatenate_uniform(sentences, offsets, token_ndim)
        if values is None:  # mixed shapes or dtypes: check sentence by sentence
            values = _concatenate_arrays(sentences, offsets, name=name, token_ndim=token_ndim)
    else:
        values = _machine_integers(sentences, offsets, small_integers) if token_ndim == 0 else None
        if values is None:
            values = _nested_to_array(sentences, offsets, name=name, token_ndim=token_ndim)
    return values, offsets


def _regular(sentences: np.ndarray, *, name: str) -> Flat:
    """A regular array: every sentence has the same number of tokens."""
    if sentences.ndim < 1:
        raise InvalidInputTypeError(
            f"{name} must be a sequence of sentences, got a scalar.", field=name
        )
    if sentences.ndim == 1:
        raise InvalidInputError(
            f"{name} must hold one entry per token of each sentence, got a flat 1-D array of "
            f"shape {sentences.shape}; pass a list of per-sentence arrays or a spanfast.Ragged.",
            field=name,
        )
    n, length = sentences.shape[:2]
    offsets = np.arange(n + 1, dtype=np.int64) * length
    if isinstance(sentences, np.ma.MaskedArray):
        masked = np.ma.getmaskarray(sentences).reshape(n * length, -1).any(axis=1)
        if masked.any():
            raise error_at(
                f"{name}[{{i}}][{{j}}] is masked ({{where}}); masked values are missing "
                "values, like nulls.",
                field=name,
                offsets=offsets,
                flat_index=int(np.argmax(masked)),
            )
        sentences = sentences.data
    return sentences.reshape((n * length,) + sentences.shape[2:]), offsets


def _lengths(sentences: Sequence, name: str) -> np.ndarray:
    try:
        return np.fromiter(map(len, sentences), np.int64, count=len(sentences))
    except TypeError:
        for i, sentence in enumerate(sentences):
            if not hasattr(sentence, "__len__") or np.ndim(sentence) == 0:
                raise InvalidInputTypeError(
                    f"{name}[{row(i)}] should be a list or array of per-token values (one per "
                    f"token of sentence {row(i)}), got {type(sentence).__name__}: {sentence!r}",
                    field=name,
                    sentence=row(i),
                ) from None
        raise


def _unmasked(sentences: Sequence, offsets: np.ndarray, *, name: str) -> list[np.ndarray]:
    """The data of masked sentences; a masked entry is missing, like a null."""
    out = []
    for i, sentence in enumerate(sentences):
        if isinstance(sentence, np.ma.MaskedArray):
            mask = np.ma.getmaskarray(sentence).reshape(sentence.shape[0], -1).any(axis=1)
            if mask.any():
                raise error_at(
                    f"{name}[{{i}}][{{j}}] is masked ({{where}}); masked values are missing "
                    "values, like nulls.",
                    field=name,
                    offsets=offsets,
                    flat_index=int(offsets[i] + np.argmax(mask)),
                )
            sentence = sentence.data
        out.append(sentence)
    return out


def _nested_to_array(sentences: Sequence, offsets: np.ndarray, *, name: str, token_ndim):
    """Nested Python values (lists of numbers, or of rows of numbers) as one array."""
    flat = list(itertools.chain.from_iterable(sentences))
    try:
        values = np.array(flat)
    except (ValueError, TypeError):
        values = None  # ragged rows: located below
    if values is not None and values.dtype == object and token_ndim == 1 and flat:
        values = _stack_rows(flat)  # e.g. object arrays of row arrays (pandas over Parquet)
    if values is None or (token_ndim is not None and values.ndim != token_ndim + 1 and flat):
        _raise_shape_error(flat, offsets, name=name, token_ndim=token_ndim)
    if not flat and token_ndim == 1:
        values = np.empty((0, 0), np.float64)
    return values


def _stack_rows(rows: list) -> np.ndarray | None:
    """Rows (arrays or sequences of numbers, one per token) as a (T, K) array, or None."""
    try:
        return np.stack([np.asarray(r) for r in rows])
    except (ValueError, TypeError):
        return None


# Nested integers are gathered this many tokens at a time, so the temporary list
# of Python ints stays small (a list over all tokens, 8 bytes each, is freed to the
# heap and stays in the process's memory) and cache-resident.
_INTEGER_CHUNK_TOKENS = 1 << 16


def _machine_integers(sentences: Sequence, offsets: np.ndarray, small: bool) -> np.ndarray | None:
    """The nested values as int64 (int8 first if ``small``) when every one is an int
    that fits (the usual nested labels), else None. Twice as fast as ``np.array``,
    and unlike ``np.fromiter`` it refuses floats and strings instead of truncating
    or parsing them."""
    if small:
        # bytearray takes ints 0..255 (and what has __index__) and refuses floats and
        # strings; faster than np.fromiter, which truncates 1.5 and parses "1".
        try:
            values = np.frombuffer(bytearray(itertools.chain.from_iterable(sentences)), np.uint8)
        except (TypeError, ValueError):
            pass  # e.g. a negative or large label, a float: the general path below
        else:
            if values.shape[0] == offsets[-1] and (values.shape[0] == 0 or values.max() < 128):
                return values.view(np.int8)
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


def _concatenate_uniform(
    sentences: Sequence[np.ndarray], offsets: np.ndarray, token_ndim: int | None
) -> Any:
    """The fast path: arrays that concatenate to the expected shape, in the dtype of
    the first non-empty one (so the dtype NumPy promoted to is that of every
    non-empty sentence, as the slow path has it: an empty float64 sentence among
    float32 ones must not make it float64).

    Returns None when that does not hold (so a slower path can say where).
    """
    nonempty = np.flatnonzero(np.diff(offsets))
    first = sentences[int(nonempty[0])] if nonempty.shape[0] else sentences[0]
    try:
        values = np.concatenate(sentences)
    except ValueError:
        return None
    if values.dtype != first.dtype or values.dtype == object:
        return None
    if token_ndim is not None and values.ndim != token_ndim + 1:
        return None
    return values


def _concatenate_arrays(
    sentences: Sequence[np.ndarray], offsets: np.ndarray, *, name: str, token_ndim: int | None
) -> np.ndarray:
    if any(s.dtype == object for s in sentences):
        # Object arrays (of numbers, or of per-token row arrays): read as nested values.
        return _nested_to_array(sentences, offsets, name=name, token_ndim=token_ndim)
    lengths = np.diff(offsets)
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
            f"{name}[{row(i)}] has shape {sentences[i].shape}; expected "
            + ("(n_tokens,): one value per token" if expected == 1 else "(n_tokens, K)")
            + f" (sentence {row(i)}).",
            field=name,
            sentence=row(i),
        )
    parts = [s for s in sentences if s.ndim == expected]
    filled = [s for s in parts if s.shape[0] > 0]
    if expected == 2 and filled:
        widths = np.fromiter((s.shape[1] for s in filled), np.int64, count=len(filled))
        if (widths != widths[0]).any():
            j = int(np.flatnonzero(widths != widths[0])[0])
            i = next(k for k, s in enumerate(sentences) if s is filled[j])
            raise InvalidInputError(
                f"{name}[{row(i)}] has {widths[j]} classes (shape {filled[j].shape}) but "
                f"earlier sentences have {widths[0]}: every token needs the same number K of "
                f"class probabilities (sentence {row(i)}).",
                field=name,
                sentence=row(i),
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
                raise error_at(
                    f"{name}[{{i}}][{{j}}] should be a single number but has shape {shape} "
                    "({where}).",
                    field=name,
                    offsets=offsets,
                    flat_index=t,
                )
    first = next((s for s in shapes if len(s) == 1), None)
    for t, shape in enumerate(shapes):
        if len(shape) != 1 or shape != first:
            raise error_at(
                f"{name}[{{i}}][{{j}}] should be a row of {first[0] if first else 'K'} class "
                f"probabilities but has shape {shape}: every token needs the same number of "
                "classes ({where}).",
                field=name,
                offsets=offsets,
                flat_index=t,
            )
    raise InvalidInputError(f"{name} could not be read as per-token values.", field=name)


# ---------------------------------------------------------------------------------------
# Per-sentence arrays of one layout, filled chunk by chunk


class NotUniform(Exception):
    """A sentence is not an array of exactly the layout of the first non-empty one (the
    general path, :func:`flatten_nested`, then says what is wrong and where)."""


def uniform_layout(sentences: Any) -> tuple[np.dtype, tuple[int, ...]] | None:
    """``(dtype, row shape)`` of a list of plain NumPy float32/float64 arrays, from its
    first non-empty sentence (``()`` for one value per token, ``(K,)`` for rows);
    None for anything else (other containers or array types, other dtypes, no tokens).
    The other sentences' dtypes and shapes are checked as they are concatenated."""
    if not isinstance(sentences, (list, tuple)) or set(map(type, sentences)) != {np.ndarray}:
        return None  # e.g. a masked array: its masked entries are missing values
    for sentence in sentences:
        if type(sentence) is not np.ndarray or sentence.ndim not in (1, 2):
            return None
        if sentence.shape[0]:
            dtype = sentence.dtype
            if dtype not in (np.float32, np.float64) or not dtype.isnative:
                return None
            return dtype, sentence.shape[1:]
    return None


def chunk_bounds(offsets: np.ndarray, chunk_tokens: int) -> list[int]:
    """Sentence indices that cut ``offsets`` into runs of about ``chunk_tokens`` tokens
    (a run holds whole sentences: one longer sentence is a run of its own)."""
    n_sentences = offsets.shape[0] - 1
    targets = np.arange(chunk_tokens, offsets[-1], chunk_tokens)
    cuts = np.unique(np.searchsorted(offsets, targets)).tolist()
    return [0, *(c for c in cuts if 0 < c < n_sentences), n_sentences]


def fill_in_chunks(
    sentences: Sequence[np.ndarray], offsets: np.ndarray, values: np.ndarray, chunk_tokens: int
) -> Iterator[int]:
    """Concatenate ``sentences`` into ``values`` (allocated by the caller: ``offsets[-1]``
    tokens of the layout every sentence must have exactly), about ``chunk_tokens`` tokens
    at a time; yields the number of tokens filled after each chunk. Raises
    :class:`NotUniform` at the first chunk that does not fit (a sentence of another
    dtype, width or length than ``offsets`` says, or not an array)."""
    for start, stop in itertools.pairwise(chunk_bounds(offsets, chunk_tokens)):
        lo, hi = int(offsets[start]), int(offsets[stop])
        _concatenate_into(sentences[start:stop], values[lo:hi])
        yield hi


def in_chunks(
    sentences: Sequence[np.ndarray],
    offsets: np.ndarray,
    dtype: np.dtype,
    row: tuple[int, ...],
    chunk_tokens: int,
) -> Iterator[tuple[int, int, np.ndarray]]:
    """``(lo, hi, values)``: tokens ``lo..hi-1`` of ``sentences`` concatenated, about
    ``chunk_tokens`` at a time, into one buffer reused from chunk to chunk (so a caller
    that only reads each chunk never holds the whole array). Raises :class:`NotUniform`
    as :func:`fill_in_chunks`."""
    bounds = chunk_bounds(offsets, chunk_tokens)
    ends = offsets[bounds]
    buffer = np.empty((int(np.diff(ends).max(initial=0)), *row), dtype)
    for start, stop in itertools.pairwise(bounds):
        lo, hi = int(offsets[start]), int(offsets[stop])
        _concatenate_into(sentences[start:stop], buffer[: hi - lo])
        yield lo, hi, buffer[: hi - lo]


def _concatenate_into(sentences: Sequence[np.ndarray], out: np.ndarray) -> None:
    try:  # casting="no": the exact dtype, as the general path would find it
        np.concatenate(sentences, out=out, casting="no")
    except (TypeError, ValueError) as error:
        raise NotUniform(str(error)) from None
