"""Per-sentence columns straight from the tables data pipelines hold.

:func:`as_ragged` turns one column — one list of per-token values per row — into a
:class:`~spanfast.Ragged`; :func:`columns_from_table` picks the labels, probabilities
and (optionally) tokens columns out of a whole table. Accepted, without the caller
converting anything:

- pyarrow ``ListArray`` / ``LargeListArray`` / ``FixedSizeListArray`` / ``ChunkedArray``;
- a pandas ``Series`` of lists or arrays (object dtype), or Arrow-backed
  (``pd.ArrowDtype(pa.list_(...))``);
- a polars ``Series`` of type ``List`` or ``Array``;
- a Hugging Face ``datasets`` column (``dataset["labels"]``, or
  ``dataset.with_format("arrow")["labels"]``), in the dataset's row order;
- whatever :meth:`Ragged.from_list` takes (nested lists, lists of arrays, 2-D/3-D arrays).

Every public spanfast function accepts these columns too: ``spanfast.ragged._flatten``
hands pandas, polars and ``datasets`` objects to this module. None of those libraries
is imported until such an object arrives.

Zero-copy: Arrow list columns with a single chunk and no nulls, and therefore
Arrow-backed pandas columns, polars columns (``Series.to_arrow`` shares polars'
buffers) and ``datasets`` columns that no ``shuffle``/``select``/``filter`` has
re-indexed, become a ``Ragged`` whose ``values`` are a view of the Arrow buffer (only
the offsets are converted to int64). Several chunks are concatenated once; a
re-indexed dataset is gathered once (one ``take``); object columns of Python lists or
NumPy arrays are flattened once.

A null row, or a null inside a row, is an :class:`~spanfast.errors.InvalidInputError`
naming the row (sentence) and the token.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from .errors import InvalidInputError, InvalidInputTypeError
from .ragged import Ragged, _flatten, _from_arrow, _is_arrow, _row, _sentence_of

__all__ = ["as_ragged", "columns_from_table"]


def as_ragged(column: Any, *, name: str = "values") -> Ragged:
    """Convert one per-sentence column to a :class:`~spanfast.Ragged`.

    Parameters
    ----------
    column : Arrow list array, pandas/polars Series of lists, ``datasets`` column, or nested list
        One entry per sentence (row): the per-token values of that sentence — a label or a
        span probability per token, a row of K class probabilities per token, or token text.
    name : str, default "values"
        What the column is called in error messages.

    Returns
    -------
    Ragged
        The values of every token back to back, with the sentence offsets. Zero-copy for
        single-chunk Arrow data without nulls (see the module docstring).

    Raises
    ------
    InvalidInputError
        A null row or a null inside a row (the message names sentence and token), rows
        whose entries have different shapes, or a column that is not a list per row.

    Examples
    --------
    >>> import pandas as pd
    >>> import pyarrow as pa
    >>> from spanfast.io import as_ragged
    >>> as_ragged(pd.Series([[0, 1, 1], [], [1]]), name="labels").offsets.tolist()
    [0, 3, 3, 4]
    >>> probs = pd.Series([[0.2, 0.9], [0.4]], dtype=pd.ArrowDtype(pa.list_(pa.float32())))
    >>> as_ragged(probs, name="probs").values
    array([0.2, 0.9, 0.4], dtype=float32)
    >>> as_ragged(pd.Series([[0, 1], None]), name="labels")
    Traceback (most recent call last):
    ...
    spanfast.errors.InvalidInputError: labels: sentence 1 is null; every sentence needs a list (use [] for an empty one).
    """
    return _column_to_ragged(column, name=name, token_ndim=None)


def columns_from_table(
    table: Any, *, labels: str, probs: str, tokens: str | None = None
) -> tuple[Ragged, Ragged, Ragged | None]:
    """Take the labels, probabilities and tokens columns of a table as Ragged arrays.

    Parameters
    ----------
    table : pyarrow Table or RecordBatch, pandas or polars DataFrame, ``datasets.Dataset``, or mapping
        One row per sentence. A ``datasets.Dataset`` is read in its current row order (after
        ``shuffle``, ``select``, ``filter``, ``sort``); its format and transforms are not
        applied, the stored Arrow data is read.
    labels, probs : str
        Names of the column of per-token labels, and of the column of per-token
        probabilities (one per token for span data, one list of K per token otherwise).
    tokens : str, optional
        Name of the column of per-token text.

    Returns
    -------
    (Ragged, Ragged, Ragged or None)
        The labels, the probabilities and the tokens (``None`` without ``tokens``),
        unchecked: pass them to any spanfast function, which checks them.

    Raises
    ------
    InvalidInputError
        A column is missing (the message lists the table's columns), or a column is
        not one list per row, or holds nulls.

    Examples
    --------
    >>> import pyarrow as pa
    >>> from spanfast.io import columns_from_table
    >>> from spanfast import find_label_issues
    >>> table = pa.table({"tags": [[0, 1, 1], [1, 0]], "p": [[0.1, 0.2, 0.9], [0.8, 0.3]]})
    >>> labels, probs, _ = columns_from_table(table, labels="tags", probs="p")
    >>> find_label_issues(labels, probs)
    [(0, 1)]
    >>> columns_from_table(table, labels="labels", probs="p")
    Traceback (most recent call last):
    ...
    spanfast.errors.InvalidInputError: the table has no column 'labels'; its columns are 'tags', 'p'.
    """
    names = _column_names(table)
    wanted = [labels, probs] + ([tokens] if tokens is not None else [])
    for column_name in wanted:
        if column_name not in names:
            raise InvalidInputError(
                f"the table has no column {column_name!r}; its columns are "
                + ", ".join(map(repr, names))
                + "."
            )
    columns = [as_ragged(_table_column(table, name), name=name) for name in wanted]
    return columns[0], columns[1], (columns[2] if tokens is not None else None)


# ---------------------------------------------------------------------------------------
# Dispatch (also the target of the hook in spanfast.ragged._flatten)


def _library(obj: Any) -> str:
    """Top-level package that defines ``type(obj)``: "pandas", "polars", "datasets", ..."""
    return type(obj).__module__.partition(".")[0]


def _column_to_ragged(column: Any, *, name: str, token_ndim: int | None) -> Ragged:
    """Ragged from any supported column; ``token_ndim`` as in ``ragged._flatten``."""
    if isinstance(column, Ragged):
        return column
    if _is_arrow(column):
        return _from_arrow(column, name=name)
    library = _library(column)
    if library == "pandas":
        return _from_pandas(column, name=name, token_ndim=token_ndim)
    if library == "polars":
        return _from_polars(column, name=name)
    if library == "datasets":
        return _from_dataset_column(column, name=name)
    return _flatten(column, name=name, token_ndim=token_ndim)


def _not_a_column(obj: Any, name: str, hint: str) -> InvalidInputTypeError:
    return InvalidInputTypeError(
        f"{name}: expected one column (one list of per-token values per sentence), got a "
        f"{type(obj).__name__}; {hint}"
    )


def _from_pandas(column: Any, *, name: str, token_ndim: int | None) -> Ragged:
    import pandas as pd

    if isinstance(column, pd.DataFrame):
        raise _not_a_column(
            column, name, "select a column (df['labels']) or use spanfast.io.columns_from_table."
        )
    if not isinstance(column, (pd.Series, pd.Index, pd.api.extensions.ExtensionArray)):
        raise _not_a_column(column, name, "pass a pandas Series.")
    array = column if isinstance(column, pd.api.extensions.ExtensionArray) else column.array
    if hasattr(array, "__arrow_array__") and isinstance(column.dtype, pd.ArrowDtype):
        # pd.ArrowDtype: the Arrow data pandas already holds, without a copy.
        return _from_arrow(array.__arrow_array__(), name=name)
    sentences = np.asarray(column, dtype=object) if column.dtype == object else column.to_numpy()
    if sentences.dtype == object and sentences.ndim == 1:
        null_rows = np.flatnonzero(pd.isna(sentences))
        if null_rows.size:
            raise InvalidInputError(
                f"{name}: sentence {_row(int(null_rows[0]))} is null; every sentence needs a list "
                "(use [] for an empty one)."
            )
    ragged = _flatten(sentences, name=name, token_ndim=token_ndim)
    if ragged.values.dtype == object:
        _raise_on_null_token(ragged, pd.isna(ragged.values), name=name)
    return ragged


def _raise_on_null_token(ragged: Ragged, null: np.ndarray, *, name: str) -> None:
    """Raise naming the first token whose entry (or one of whose K entries) is null."""
    if null.ndim > 1:
        null = null.reshape(null.shape[0], -1).any(axis=1)
    tokens = np.flatnonzero(null)
    if tokens.size:
        i, j = _sentence_of(ragged.offsets, int(tokens[0]))
        raise InvalidInputError(f"{name}[{i}][{j}] is null (sentence {i}, token {j}).")


def _from_polars(column: Any, *, name: str) -> Ragged:
    import polars as pl

    if isinstance(column, pl.DataFrame):
        raise _not_a_column(
            column, name, "select a column (df['labels']) or use spanfast.io.columns_from_table."
        )
    if not isinstance(column, pl.Series):
        raise _not_a_column(column, name, "pass a polars Series (collect a LazyFrame first).")
    # Series.to_arrow shares polars' buffers (one chunk after rechunking, if needed).
    return _from_arrow(column.to_arrow(), name=name)


def _from_dataset_column(column: Any, *, name: str) -> Ragged:
    import datasets

    if isinstance(column, datasets.Dataset):
        raise _not_a_column(
            column,
            name,
            "select a column (dataset['labels']) or use spanfast.io.columns_from_table.",
        )
    source = getattr(column, "source", None)
    column_name = getattr(column, "column_name", None)
    if not isinstance(source, datasets.Dataset) or not isinstance(column_name, str):
        raise _not_a_column(
            column,
            name,
            "pass a top-level column of a datasets.Dataset (for nested features, "
            "dataset.flatten() first).",
        )
    return _from_arrow(_dataset_column_arrow(source, column_name), name=name)


def _dataset_column_arrow(dataset: Any, column_name: str) -> Any:
    """The Arrow data of one column of a ``datasets.Dataset``, in the dataset's row order.

    ``shuffle``, ``select``, ``filter`` and ``sort`` leave the stored table untouched and
    record the new row order as an indices mapping (``Dataset._indices``, a one-column
    table of row numbers; the attribute ``Dataset.flatten_indices`` resolves). One
    ``take`` applies it to this column alone, instead of rewriting the whole dataset
    as ``flatten_indices`` does or gathering row by row as ``with_format("arrow")`` does.
    """
    column = dataset.data.column(column_name)
    indices = getattr(dataset, "_indices", None)
    if indices is not None:
        column = column.take(indices.column(0))
    return column


# ---------------------------------------------------------------------------------------
# Tables


def _column_names(table: Any) -> list[str]:
    library = _library(table)
    if _is_arrow(table) and hasattr(table, "column_names"):  # Table, RecordBatch
        return list(table.column_names)
    if library in ("pandas", "polars"):
        if not hasattr(table, "columns"):
            raise _table_type_error(table)
        return [str(column) for column in table.columns]
    if library == "datasets":
        if not hasattr(table, "column_names"):
            raise _table_type_error(table)
        return list(table.column_names)
    if isinstance(table, Mapping):
        return list(table)
    raise _table_type_error(table)


def _table_type_error(table: Any) -> InvalidInputTypeError:
    return InvalidInputTypeError(
        "expected a table with named columns (pyarrow Table, pandas or polars DataFrame, "
        f"datasets.Dataset or a mapping of column name to column), got {type(table).__name__}."
    )


def _table_column(table: Any, column_name: str) -> Any:
    library = _library(table)
    if _is_arrow(table):
        return table.column(column_name)
    if library == "polars":
        return table.get_column(column_name)
    if library == "datasets":
        return _dataset_column_arrow(table, column_name)
    return table[column_name]
