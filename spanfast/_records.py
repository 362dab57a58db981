"""Record identity: the columns that say which row a sentence is, carried into the results.

An id column holds one value per sentence (row) of a scalar type — integers,
strings, dates, booleans — and its values reach every result row unchanged
(same values, same NumPy dtype as ``pyarrow.Array.to_numpy`` gives: strings as
an object array). The runners (in memory, streaming, Dask) all read them
through :func:`id_values`, so the values are the same whichever ran.

- A **null** id is an :class:`~spanfast.errors.InvalidInputError` naming the
  column (``field``) and the row (``sentence``): a row without identity cannot
  be joined back.
- **Duplicates are not checked**: the key is the pipeline's own, and checking
  it out of core would keep every id in memory twice. Duplicated ids are
  carried as they are (``sentence``, and ``file`` / ``row_in_file`` for
  directories, stay unique).
- A list or struct column is refused (it is not an identity a table can join on).

The ids of every sentence are kept (one value per sentence, like the sentence
scores), so that sentence-level output has them too.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from .errors import InvalidInputError, InvalidOptionError

FILE, ROW_IN_FILE = "file", "row_in_file"
# Column names of the outputs an id column would clash with.
RESERVED = (
    "sentence",
    "token",
    "score",
    "given_label",
    "predicted_label",
    "token_text",
    "n_issues",
    FILE,
    ROW_IN_FILE,
)


def id_names(id: Any, reserved: tuple[str, ...] = RESERVED) -> tuple[str, ...]:
    """The id column names: ``None``, one name, or a list of names (none ``reserved``)."""
    if id is None:
        return ()
    names = (id,) if isinstance(id, str) else tuple(id)
    if not all(isinstance(name, str) for name in names):
        raise InvalidOptionError(f"id must be a column name or a list of names, not {id!r}.")
    if len(set(names)) != len(names):
        raise InvalidOptionError(f"id names a column twice: {list(names)!r}.")
    clash = [name for name in names if name in reserved]
    if clash:
        raise InvalidOptionError(
            f"id column {clash[0]!r} has the name of a result column; rename it first "
            "(the result columns are " + ", ".join(RESERVED) + ")."
        )
    return names


def id_values(column: Any, name: str, first_sentence: int = 0) -> np.ndarray:
    """One id column as a 1-D NumPy array; nulls and nested values are errors.

    ``first_sentence`` is the global number of the column's first row (errors
    name global sentences, as every input error does).
    """
    import pyarrow as pa

    try:
        array = column if isinstance(column, (pa.Array, pa.ChunkedArray)) else _to_arrow(column)
    except (pa.ArrowException, TypeError, ValueError) as error:
        raise InvalidInputError(
            f"id column {name!r}: not one scalar value per row ({error})",
            field=name,
            sentence=first_sentence,
        ) from None
    if pa.types.is_nested(array.type):
        raise InvalidInputError(
            f"id column {name!r} holds {array.type} values; an id must be a scalar "
            "(an integer, a string, a date)",
            field=name,
            sentence=first_sentence,
        )
    if array.null_count:
        if isinstance(array, pa.ChunkedArray):
            array = pa.concat_arrays(array.chunks) if array.num_chunks else pa.array([], array.type)
        row = int(np.flatnonzero(np.asarray(array.is_null()))[0])
        raise InvalidInputError(
            f"id column {name!r} is null at sentence {first_sentence + row}; every row needs an id",
            field=name,
            sentence=first_sentence + row,
        )
    return np.asarray(array.to_numpy(zero_copy_only=False))


def _to_arrow(column: Any) -> Any:
    import pyarrow as pa

    kind = type(column).__module__.partition(".")[0]
    if kind == "polars":
        return column.to_arrow()
    if kind == "pandas":
        return pa.Array.from_pandas(column)
    if isinstance(column, np.ndarray) and column.dtype != object:
        if column.ndim != 1:
            raise ValueError(f"{column.ndim}-D array")
        return pa.array(column)
    return pa.array(list(column))


def concat_ids(parts: list[dict[str, np.ndarray]], names: tuple[str, ...]) -> dict | None:
    """Per-batch id columns joined in dataset order (None without ids)."""
    if not names:
        return None
    if not parts:
        return {name: np.empty(0, object) for name in names}
    return {name: np.concatenate([part[name] for part in parts]) for name in names}


def file_and_row(relative: str, n_rows: int, first_row: int) -> dict[str, np.ndarray]:
    """The ``file`` and ``row_in_file`` columns of ``n_rows`` rows of one file."""
    file = np.empty(n_rows, object)
    file[:] = relative
    return {FILE: file, ROW_IN_FILE: np.arange(first_row, first_row + n_rows, dtype=np.int64)}


def batch_ids(columns: Any, n_sentences: int, first_sentence: int) -> dict[str, np.ndarray]:
    """The id columns of one batch (a mapping of name to column), checked: one value
    per sentence, no nulls; errors name global sentences."""
    if not hasattr(columns, "items"):
        raise InvalidInputError(
            f"the batch from sentence {first_sentence}: ids must be a mapping of column "
            f"name to values, not a {type(columns).__name__}",
            sentence=first_sentence,
        )
    ids = {}
    # file and row_in_file: the Parquet reader's own, for directories
    for name in id_names(list(columns), RESERVED[:-2]):
        values = id_values(columns[name], name, first_sentence)
        if values.shape[0] != n_sentences:
            raise InvalidInputError(
                f"id column {name!r} has {values.shape[0]} values for the {n_sentences} "
                f"sentences of the batch from sentence {first_sentence}",
                field=name,
                sentence=first_sentence,
            )
        ids[name] = values
    return ids


def sentence_ids(id: Mapping[str, Any] | None, n_sentences: int) -> dict | None:
    """The checked id columns of ``find_issues(id=...)``, one value per sentence."""
    if id is None:
        return None
    if not isinstance(id, Mapping):
        raise InvalidOptionError(
            "find_issues takes id= as a mapping of column name to values; to name columns "
            "of a table use find_issues_in_table(table, ..., id=...)."
        )
    columns = {name: id_values(id[name], name) for name in id_names(list(id))}
    for name, values in columns.items():
        if values.shape[0] != n_sentences:
            raise InvalidInputError(
                f"id column {name!r} has {values.shape[0]} values for {n_sentences} sentences",
                field=name,
            )
    return columns
