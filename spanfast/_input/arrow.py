"""Arrow list arrays as ``(values, offsets)``: zero-copy where Arrow allows.

A single chunk without nulls keeps its buffer (only the offsets become int64);
chunks are read one by one, numbered from the chunk's first row in the whole
column, and concatenated once.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._positions import offsets_from_lengths
from ..errors import InvalidInputError, InvalidInputTypeError
from .where import error_at, numbered_from, row

Flat = tuple[np.ndarray, np.ndarray]


def is_arrow(obj: Any) -> bool:
    return type(obj).__module__.startswith("pyarrow")


def from_arrow(array: Any, *, name: str) -> Flat:
    """An Arrow ``ListArray``/``LargeListArray``/``FixedSizeListArray``/``ChunkedArray``."""
    import pyarrow as pa

    if isinstance(array, pa.ChunkedArray):
        return _from_chunks(array, name=name)
    if not isinstance(array, (pa.ListArray, pa.LargeListArray, pa.FixedSizeListArray)):
        raise InvalidInputTypeError(
            f"{name}: expected an Arrow list array (one list per sentence), got {array.type}.",
            field=name,
        )
    if array.null_count:
        first = int(np.flatnonzero(array.is_null().to_numpy(zero_copy_only=False))[0])
        raise error_at(
            f"{name}: {{where}} is null; every sentence needs a list (use [] for an empty one).",
            field=name,
            sentence=first,
        )
    if isinstance(array, pa.FixedSizeListArray):
        flat = array.flatten()
        offsets = np.arange(len(array) + 1, dtype=np.int64) * array.type.list_size
    else:
        offsets = np.asarray(array.offsets).astype(np.int64)  # slicing is already applied
        start, stop = int(offsets[0]), int(offsets[-1])
        flat = array.values.slice(start, stop - start)
        offsets = offsets - start
    return _values(flat, offsets, name=name), offsets


def _from_chunks(array: Any, *, name: str) -> Flat:
    import pyarrow as pa

    if array.num_chunks == 0:  # e.g. table.filter() keeping no rows: an empty column
        return from_arrow(pa.array([], type=array.type), name=name)
    chunks, first_row = [], 0
    for chunk in array.chunks:
        with numbered_from(first_row):
            chunks.append(from_arrow(chunk, name=name))
        first_row += len(chunk)
    if len(chunks) == 1:
        return chunks[0]
    values = [v for v, _ in chunks]
    filled = [k for k, v in enumerate(values) if v.shape[0] > 0]
    if filled:
        width = values[filled[0]].shape[1:]
        for k in filled:
            if values[k].shape[1:] != width:
                first = sum(len(array.chunk(c)) for c in range(k))
                raise InvalidInputError(
                    f"{name}: the rows from sentence {row(first)} on have per-token entries of "
                    f"shape {values[k].shape[1:]}, earlier rows {width}: every token needs the "
                    f"same number K of class probabilities (sentence {row(first)}).",
                    field=name,
                    sentence=row(first),
                )
        values = [values[k] for k in filled]
    lengths = np.concatenate([np.diff(offsets) for _, offsets in chunks])
    return np.concatenate(values), offsets_from_lengths(lengths)


def _values(flat: Any, offsets: np.ndarray, *, name: str) -> np.ndarray:
    import pyarrow as pa

    if flat.null_count:
        t = int(np.flatnonzero(flat.is_null().to_numpy(zero_copy_only=False))[0])
        raise error_at(
            f"{name}[{{i}}][{{j}}] is null ({{where}}).", field=name, offsets=offsets, flat_index=t
        )
    if isinstance(flat, (pa.ListArray, pa.LargeListArray, pa.FixedSizeListArray)):
        # list<list<float>>: one row of K class probabilities per token.
        if isinstance(flat, pa.FixedSizeListArray):
            width = flat.type.list_size
        else:
            row_offsets = np.asarray(flat.offsets).astype(np.int64)
            widths = np.diff(row_offsets)
            if widths.size and (widths != widths[0]).any():
                t = int(np.flatnonzero(widths != widths[0])[0])
                raise error_at(
                    f"{name}[{{i}}][{{j}}] has {widths[t]} class probabilities but earlier "
                    f"tokens have {widths[0]} ({{where}}).",
                    field=name,
                    offsets=offsets,
                    flat_index=t,
                )
            width = int(widths[0]) if widths.size else 0
        inner = flat.flatten()
        if inner.null_count:
            t = int(np.flatnonzero(inner.is_null().to_numpy(zero_copy_only=False))[0])
            raise error_at(
                f"{name}[{{i}}][{{j}}] contains a null probability ({{where}}).",
                field=name,
                offsets=offsets,
                flat_index=t // max(width, 1),
            )
        return inner.to_numpy(zero_copy_only=False).reshape(len(flat), width)
    return flat.to_numpy(zero_copy_only=False)
