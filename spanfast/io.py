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

Every public spanfast function accepts these columns too (they all go through the
input boundary, :mod:`spanfast._input`). None of those libraries is imported until
such an object arrives.

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

from typing import Any

from ._input.convert import flatten
from ._input.frames import table_column
from .ragged import Ragged

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
    if isinstance(column, Ragged):
        return column
    return Ragged(*flatten(column, name=name))


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
    wanted = [labels, probs] + ([tokens] if tokens is not None else [])
    columns = [as_ragged(table_column(table, name), name=name) for name in wanted]
    return columns[0], columns[1], (columns[2] if tokens is not None else None)
