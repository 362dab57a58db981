"""pandas, polars and Hugging Face ``datasets`` columns and tables as ``(values, offsets)``.

None of these libraries is imported until one of its objects arrives.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from ..errors import InvalidInputError, InvalidInputTypeError, InvalidOptionError
from .arrow import from_arrow, is_arrow
from .nested import flatten_nested
from .where import error_at

Flat = tuple[np.ndarray, np.ndarray]


def library(obj: Any) -> str:
    """Top-level package that defines ``type(obj)``: "pandas", "polars", "datasets", ..."""
    return type(obj).__module__.partition(".")[0]


def not_a_column(obj: Any, name: str, hint: str) -> InvalidInputTypeError:
    return InvalidInputTypeError(
        f"{name}: expected one column (one list of per-token values per sentence), got a "
        f"{type(obj).__name__}; {hint}",
        field=name,
    )


def from_pandas(column: Any, *, name: str, token_ndim: int | None) -> Flat:
    import pandas as pd

    if isinstance(column, pd.DataFrame):
        raise not_a_column(
            column, name, "select a column (df['labels']) or use spanfast.io.columns_from_table."
        )
    if not isinstance(column, (pd.Series, pd.Index, pd.api.extensions.ExtensionArray)):
        raise not_a_column(column, name, "pass a pandas Series.")
    array = column if isinstance(column, pd.api.extensions.ExtensionArray) else column.array
    if hasattr(array, "__arrow_array__") and isinstance(column.dtype, pd.ArrowDtype):
        # pd.ArrowDtype: the Arrow data pandas already holds, without a copy.
        return from_arrow(array.__arrow_array__(), name=name)
    sentences = np.asarray(column, dtype=object) if column.dtype == object else column.to_numpy()
    if sentences.dtype == object and sentences.ndim == 1:
        null_rows = np.flatnonzero(pd.isna(sentences))
        if null_rows.size:
            raise error_at(
                f"{name}: {{where}} is null; every sentence needs a list (use [] for an empty one).",
                field=name,
                sentence=int(null_rows[0]),
            )
    values, offsets = flatten_nested(sentences, name=name, token_ndim=token_ndim)
    if values.dtype == object:
        null = pd.isna(values)
        if null.ndim > 1:
            null = null.reshape(null.shape[0], -1).any(axis=1)
        if null.any():
            raise error_at(
                f"{name}[{{i}}][{{j}}] is null ({{where}}).",
                field=name,
                offsets=offsets,
                flat_index=int(np.argmax(null)),
            )
    return values, offsets


def from_polars(column: Any, *, name: str) -> Flat:
    import polars as pl

    if isinstance(column, pl.DataFrame):
        raise not_a_column(
            column, name, "select a column (df['labels']) or use spanfast.io.columns_from_table."
        )
    if not isinstance(column, pl.Series):
        raise not_a_column(column, name, "pass a polars Series (collect a LazyFrame first).")
    # Series.to_arrow shares polars' buffers (one chunk after rechunking, if needed).
    return from_arrow(column.to_arrow(), name=name)


def from_dataset_column(column: Any, *, name: str) -> Flat:
    import datasets

    if isinstance(column, (datasets.DatasetDict, datasets.IterableDatasetDict)):
        raise not_a_column(column, name, "choose a split and a column (ds['train']['labels']).")
    if isinstance(column, datasets.Dataset):
        raise not_a_column(
            column,
            name,
            "select a column (dataset['labels']) or use spanfast.io.columns_from_table.",
        )
    source = getattr(column, "source", None)
    column_name = getattr(column, "column_name", None)
    if not isinstance(source, datasets.Dataset) or not isinstance(column_name, str):
        raise not_a_column(
            column,
            name,
            "pass a top-level column of a datasets.Dataset (for nested features, "
            "dataset.flatten() first).",
        )
    return from_arrow(dataset_column_arrow(source, column_name), name=name)


def dataset_column_arrow(dataset: Any, column_name: str) -> Any:
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


def resolved_table(table: Any, columns: list[str], split: str | None = None) -> Any:
    """The table whose columns are read: a polars ``LazyFrame`` collected with only
    ``columns``, the ``split`` of a ``datasets.DatasetDict``; any other table as it is.

    Recognised by the module of their type, so neither library is imported for others.
    """
    kind, name = library(table), type(table).__name__
    if kind == "datasets" and name in ("DatasetDict", "IterableDatasetDict"):
        splits = ", ".join(map(repr, table))
        if split is None:
            raise InvalidOptionError(
                f"a datasets.{name} holds several splits ({splits}); choose one with split=."
            )
        if split not in table:
            raise InvalidOptionError(f"split={split!r} is not a split; the splits are {splits}.")
        return table[split]
    if split is not None:
        raise InvalidOptionError(
            f"split= chooses a split of a datasets.DatasetDict, not of a {name}."
        )
    if kind == "polars" and name == "LazyFrame":
        names = table.collect_schema().names()
        missing = [column for column in columns if column not in names]
        if missing:
            raise _no_column(missing[0], names)
        return table.select(columns).collect()
    return table


def column_names(table: Any) -> list[str]:
    kind = library(table)
    if is_arrow(table) and hasattr(table, "column_names"):  # Table, RecordBatch
        return list(table.column_names)
    if kind == "polars" and type(table).__name__ == "LazyFrame":
        return table.collect_schema().names()  # .columns would resolve the schema, warning
    if kind in ("pandas", "polars"):
        if not hasattr(table, "columns"):
            raise _table_type_error(table)
        return [str(column) for column in table.columns]
    if kind == "datasets":
        if type(table).__name__ in ("DatasetDict", "IterableDatasetDict"):
            raise InvalidInputTypeError(
                f"a datasets.{type(table).__name__} holds several splits ("
                + ", ".join(map(repr, table))
                + "); pass one (dataset['train']), or find_issues_in_table(..., split=)."
            )
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


def table_column(table: Any, column_name: str) -> Any:
    """Column ``column_name`` of ``table``; the message lists the columns if it is missing."""
    names = column_names(table)
    if column_name not in names:
        raise _no_column(column_name, names)
    kind = library(table)
    if is_arrow(table):
        return table.column(column_name)
    if kind == "polars" and type(table).__name__ == "LazyFrame":
        return table.select(column_name).collect().get_column(column_name)
    if kind == "polars":
        return table.get_column(column_name)
    if kind == "datasets":
        return dataset_column_arrow(table, column_name)
    return table[column_name]


def _no_column(column_name: str, names: list[str]) -> InvalidInputError:
    return InvalidInputError(
        f"the table has no column {column_name!r}; its columns are "
        + ", ".join(map(repr, names))
        + ".",
        field=column_name,
    )
