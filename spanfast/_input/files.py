"""Parquet data on disk: which files, in which order, and their Hive partition values.

One listing, :func:`list_parquet`, for every runner (``spanfast.streaming``,
``spanfast.dask``, ``spanfast scan``), so that they number rows alike:

- A **directory** is walked recursively. Its data files end in ``.parquet`` or
  ``.pq``; names starting with ``.`` or ``_`` (hidden files, ``_SUCCESS``,
  ``_metadata``, spanfast's own partial outputs) are skipped, files and
  directories alike, as :mod:`pyarrow.dataset` skips them.
- **Row order**: the files sorted by their path relative to the directory,
  compared directory by directory (as tuples of names: ``a/b/c.parquet`` comes
  before ``a/z.parquet``), then each file's rows in order. A list of files is
  read in the order given.
- **file**: the path relative to the directory, with ``/`` separators.
- **Hive partitions**: directories named ``key=value`` (``split=train/part-0.parquet``).
  Their values are typed by :class:`pyarrow.dataset.HivePartitioning` over the whole
  listing (``int32`` when every value is an integer, else ``string``) and can be
  read as id columns (one value per file). Every file must lie under the same keys.
- **Schema**: the columns read must exist in every file with the same kind of type
  in each (list depth and integer / float / string leaves; widths may differ, as the
  runners promote them); otherwise the partitions disagree, an error naming both files.
- **Errors** at a sentence count it over all the files (``sentence``) and name the
  file opened and the row within it (``file``, ``row``: :meth:`ParquetFiles.errors_located`).
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from .._records import FILE, ROW_IN_FILE
from ..errors import InvalidInputError

PARQUET_SUFFIXES = (".parquet", ".pq")
SKIPPED_PREFIXES = (".", "_")


@dataclass(frozen=True)
class ParquetFiles:
    """The files of a Parquet input in row order, with what each adds as id columns.

    Attributes
    ----------
    files : list of str
        Paths to open, in row order.
    relative : list of str
        Each file's ``file`` value: its path relative to ``directory`` (``/``
        separators), or the path as given for a list of files.
    directory : str or None
        The directory given, or None for files.
    partitions : list of dict
        Per file, its Hive partition values (key -> Python value); empty without.
    partition_types : dict
        Hive partition key -> pyarrow type, in the order of the directory levels.
    """

    files: list[str]
    relative: list[str]
    directory: str | None = None
    partitions: list[dict[str, Any]] = field(default_factory=list)
    partition_types: dict[str, Any] = field(default_factory=dict)

    def partition_column(self, number: int, name: str, n_rows: int) -> Any:
        """Partition key ``name`` of file ``number`` as a pyarrow array of ``n_rows``."""
        import pyarrow as pa

        return pa.array([self.partitions[number][name]] * n_rows, self.partition_types[name])

    def file_columns(self, columns: Sequence[str]) -> list[str]:
        """``columns`` less the partition keys (which no file stores: :meth:`check`)."""
        return [column for column in columns if column not in self.partition_types]

    def check(self, columns: Sequence[str]) -> list[int]:
        """Rows per file, from the footers; every file is Parquet and has ``columns``
        (or they are partition keys), each with the same kind of type in every file."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        counts = []
        first: dict[str, tuple[str, Any]] = {}
        for number, path in enumerate(self.files):
            try:
                parquet_file = pq.ParquetFile(path)
            except (pa.ArrowException, OSError) as error:
                raise InvalidInputError(
                    f"{path}: cannot read as Parquet: {error}", file=path
                ) from None
            schema = parquet_file.schema_arrow
            for column in columns:
                if column in self.partition_types:
                    if column in schema.names:
                        raise InvalidInputError(
                            f"{path}: column {column!r} is also a partition key of the "
                            "directory; rename one of them",
                            field=column,
                            file=path,
                        )
                    continue
                if column not in schema.names:
                    raise InvalidInputError(
                        f"{path}: no such column; the columns are "
                        + ", ".join(map(repr, schema.names)),
                        field=column,
                        file=path,
                    )
                kind = type_kind(schema.field(column).type)
                if column not in first:
                    first[column] = (self.relative[number], schema.field(column).type, kind)
                elif kind != first[column][2]:
                    where, before, _ = first[column]
                    raise InvalidInputError(
                        f"{path}: the files disagree on the schema: column {column!r} is "
                        f"{schema.field(column).type} here but {before} in {where}",
                        field=column,
                        file=path,
                    )
            counts.append(parquet_file.metadata.num_rows)
        return counts

    @contextmanager
    def errors_located(self, rows_per_file: Sequence[int] | None = None) -> Iterator[None]:
        """Input errors raised inside name the file and row of their global sentence.

        An :class:`~spanfast.errors.InvalidInputError` with a ``sentence`` (global: the
        row over all the files, in order) and no ``file`` gets ``file`` (the path as
        opened, an entry of :attr:`files`) and ``row`` (the row within that file); its
        message and other attributes stay. ``rows_per_file`` are the files' rows (as
        :meth:`check` gives them); without them they are read from the footers, only
        when an error needs them.
        """
        try:
            yield
        except InvalidInputError as error:
            self._locate(error, rows_per_file)
            raise

    def _locate(self, error: InvalidInputError, rows_per_file: Sequence[int] | None) -> None:
        """Set ``error.file`` and ``error.row`` from its global sentence, where it has one
        and no file, and the sentence is one of the files' rows."""
        if error.file is not None or error.sentence is None:
            return
        if rows_per_file is None:
            rows_per_file = self._rows_in_footers()
            if rows_per_file is None:  # a file unreadable now: the error as it is
                return
        first_row = 0
        for path, n_rows in zip(self.files, rows_per_file):
            if error.sentence < first_row + n_rows:
                error.file, error.row = path, error.sentence - first_row
                return
            first_row += n_rows

    def _rows_in_footers(self) -> list[int] | None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        try:
            return [pq.read_metadata(path).num_rows for path in self.files]
        except (pa.ArrowException, OSError):
            return None


def type_kind(arrow_type: Any) -> str:
    """What a column's type is, up to integer and float widths and list kinds:
    ``list<list<float>>``, ``list<integer>``, ``string``."""
    import pyarrow as pa

    if pa.types.is_list(arrow_type) or pa.types.is_large_list(arrow_type):
        return f"list<{type_kind(arrow_type.value_type)}>"
    if pa.types.is_fixed_size_list(arrow_type):
        return f"list<{type_kind(arrow_type.value_type)}>"
    if pa.types.is_integer(arrow_type):
        return "integer"
    if pa.types.is_floating(arrow_type):
        return "float"
    if pa.types.is_string(arrow_type) or pa.types.is_large_string(arrow_type):
        return "string"
    return str(arrow_type)


def is_parquet_name(name: str) -> bool:
    """A data file of a Parquet directory (by its name)."""
    return name.lower().endswith(PARQUET_SUFFIXES) and not name.startswith(SKIPPED_PREFIXES)


def directory_files(directory: str) -> list[tuple[str, ...]]:
    """The Parquet files under ``directory`` as relative path components, in row order."""
    found = []
    visited = set()  # linked directories are followed, each once (a link to a parent: no loop)
    for root, subdirectories, names in os.walk(directory, followlinks=True):
        real = os.path.realpath(root)
        if real in visited:
            subdirectories[:] = []
            continue
        visited.add(real)
        subdirectories[:] = sorted(d for d in subdirectories if not d.startswith(SKIPPED_PREFIXES))
        relative = os.path.relpath(root, directory)
        parts = () if relative == os.curdir else tuple(relative.split(os.sep))
        found.extend(
            (*parts, name)
            for name in names
            if is_parquet_name(name) and os.path.isfile(os.path.join(root, name))
        )
    return sorted(found)


def list_parquet(paths: str | os.PathLike | Sequence[str | os.PathLike]) -> ParquetFiles:
    """The files of a Parquet file, directory (of any layout) or list of files.

    Parameters
    ----------
    paths : path or sequence of paths
        A file, a directory, or a list of files (read in the order given).

    Returns
    -------
    ParquetFiles
        The files in row order, their ``file`` values and Hive partition values.
    """
    if isinstance(paths, (str, os.PathLike)):
        path = os.fspath(paths)
        if os.path.isdir(path):
            return _directory(path)
        return ParquetFiles([path], [path])
    files = [os.fspath(path) for path in paths]
    directories = [path for path in files if os.path.isdir(path)]
    if directories:  # one directory, or files: a list of several has no one numbering
        raise InvalidInputError(
            f"{directories[0]}: a directory in a list of files; give the directory alone"
        )
    if not files:
        raise InvalidInputError("no Parquet files given")
    return ParquetFiles(files, files)


def _directory(directory: str) -> ParquetFiles:
    found = directory_files(directory)
    if not found:
        raise InvalidInputError(
            f"{directory}: directory holds no .parquet files (nor .pq files, at any depth)",
            file=directory,
        )
    files = [os.path.join(directory, *parts) for parts in found]
    relative = ["/".join(parts) for parts in found]
    keys = [tuple(_hive_keys(parts[:-1])) for parts in found]
    if not any(keys):
        return ParquetFiles(files, relative, directory)
    for number, file_keys in enumerate(keys):
        if file_keys != keys[0]:
            raise InvalidInputError(
                f"{files[number]}: the files disagree on the partitions: {relative[number]} is "
                f"under {_keys_text(file_keys)} but {relative[0]} under {_keys_text(keys[0])}",
                file=files[number],
            )
    import pyarrow.dataset as ds

    dataset = ds.dataset(
        files,
        format="parquet",
        partitioning=ds.HivePartitioning.discover(infer_dictionary=False),
        partition_base_dir=directory,
    )
    by_path = {
        os.path.normpath(fragment.path): ds.get_partition_keys(fragment.partition_expression)
        for fragment in dataset.get_fragments()
    }
    types = {key: dataset.schema.field(key).type for key in keys[0]}
    partitions = [by_path[os.path.normpath(path)] for path in files]
    return ParquetFiles(files, relative, directory, partitions, types)


def _hive_keys(directories: tuple[str, ...]) -> list[str]:
    return [name.partition("=")[0] for name in directories if "=" in name]


def _keys_text(keys: tuple[str, ...]) -> str:
    return "partition keys " + ", ".join(keys) if keys else "no partition keys"


class ParquetBatches:
    """The batches of Parquet files, re-read each pass with only the columns it needs.

    ``reader(last_pass=False)`` gives ``(labels, probs, None)`` per batch; the last
    pass also has the tokens and the ids (columns, Hive partition keys);
    ``labels_only=True`` (a first pass that counts classes) gives ``(labels, dtype,
    None)``, ``dtype`` that of the file's probabilities, from its schema. ``file`` /
    ``row_in_file``, when asked, are added to the result by :meth:`with_file_and_row`
    from the rows per file of the last pass, not carried per batch (per batch, the
    file names became one Python string per row: 400 MiB at 3.5 M rows).
    """

    def __init__(self, listing, columns: tuple, names: tuple, file_and_row: bool, batch_size):
        self.listing = listing
        self.labels, self.probs, self.tokens = columns
        self.names = names
        self.file_and_row = file_and_row
        self.batch_size = batch_size
        self.rows_per_file: list[int] | None = None  # of the last pass read to the end

    @property
    def has_tokens(self) -> bool:
        return self.tokens is not None

    def columns(self, last_pass: bool, labels_only: bool = False) -> list[str]:
        """The columns a pass reads."""
        columns = [self.labels] if labels_only else [self.labels, self.probs]
        if last_pass:
            columns += ([self.tokens] if self.tokens else []) + list(self.names)
        return columns

    def __call__(self, last_pass: bool = True, labels_only: bool = False) -> Iterator[tuple]:
        """The batches of one pass, in row order."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        listing = self.listing
        columns = listing.file_columns(self.columns(last_pass, labels_only))
        with_ids = last_pass and bool(self.names)
        rows_per_file = []
        for number, path in enumerate(listing.files):
            try:
                parquet_file = pq.ParquetFile(path)
                if labels_only:
                    dtype = _probability_leaf(parquet_file, self.probs)[0]
                record_batches = parquet_file.iter_batches(
                    batch_size=self.batch_size, columns=columns
                )
                row_in_file = 0
                for record_batch in record_batches:
                    probs = dtype if labels_only else record_batch.column(self.probs)
                    batch = [record_batch.column(self.labels), probs]
                    batch.append(
                        record_batch.column(self.tokens) if last_pass and self.tokens else None
                    )
                    if with_ids:
                        n_rows = record_batch.num_rows
                        ids = {
                            name: record_batch.column(name)
                            if name in columns
                            else listing.partition_column(number, name, n_rows)
                            for name in self.names
                        }
                        batch.append(ids)
                    row_in_file += record_batch.num_rows
                    yield tuple(batch)
                rows_per_file.append(row_in_file)
            except (OSError, pa.ArrowException) as error:  # a damaged file: say which
                raise InvalidInputError(
                    f"{path}: cannot read as Parquet: {error}", file=path
                ) from error
        if last_pass:
            self.rows_per_file = rows_per_file

    def with_file_and_row(self, issues: Any) -> Any:
        """``issues`` with the id columns ``file`` and ``row_in_file`` of the last pass's
        rows (after the other ids), when asked and the run had a last pass (it has
        sentence scores; data without tokens has neither); the file column holds one
        string object per file."""
        if not self.file_and_row or self.rows_per_file is None or issues.sentence_scores is None:
            return issues
        n_rows = sum(self.rows_per_file)
        file, row_in_file = np.empty(n_rows, object), np.empty(n_rows, np.int64)
        start = 0
        for name, count in zip(self.listing.relative, self.rows_per_file):
            file[start : start + count] = name
            row_in_file[start : start + count] = np.arange(count)
            start += count
        ids = {**(issues.sentence_ids or {}), FILE: file, ROW_IN_FILE: row_in_file}
        return replace(issues, sentence_ids=ids)

    def layout(self) -> tuple[int, bool] | None:
        """``(n_classes, span)`` of the probabilities, known without reading them all:
        from the files' schemas, K from the first token's row (or a fixed-size list).
        None when the schemas do not say (not float32/float64 lists, no file with rows,
        files whose fixed-size lists differ or are not fixed in every file):
        then the first pass reads the probabilities too. (The dataset's dtype is that
        of the files with tokens: the labels-only pass gives each batch its file's.)"""
        import pyarrow.parquet as pq

        depth = None
        widths = set()
        any_rows = False
        for path in self.listing.files:
            parquet_file = pq.ParquetFile(path)
            dtype, file_depth, file_width = _probability_leaf(parquet_file, self.probs)
            if dtype is None or file_depth not in (1, 2) or depth not in (None, file_depth):
                return None
            depth = file_depth
            widths.add(file_width)
            any_rows = any_rows or parquet_file.metadata.num_rows > 0
        if len(widths) > 1:
            # Files whose schemas disagree on K (or fix it in some files only): the
            # probabilities pass finds where the layout changes and says so.
            return None
        width = widths.pop() if widths else None
        if not any_rows:
            return None
        if depth == 1:
            return 2, True
        n_classes = width if width is not None else self._first_row_width()
        return None if n_classes is None else (n_classes, False)

    def _first_row_width(self) -> int | None:
        """The number of class probabilities of the first token (None without tokens)."""
        import pyarrow.compute as pc
        import pyarrow.parquet as pq

        for path in self.listing.files:
            for record_batch in pq.ParquetFile(path).iter_batches(
                batch_size=self.batch_size, columns=[self.probs]
            ):
                rows = record_batch.column(self.probs).flatten()
                if len(rows):
                    width = pc.list_value_length(rows.slice(0, 1))[0].as_py()
                    return width if width else None
        return None


def _probability_leaf(parquet_file: Any, column: str) -> tuple[np.dtype | None, int, int | None]:
    """(the dtype of the probabilities, None unless float32/float64; how many lists deep
    they are; the size of the innermost fixed-size list, or None) from a file's schema."""
    import pyarrow as pa

    leaf, depth, width = parquet_file.schema_arrow.field(column).type, 0, None
    while (
        pa.types.is_list(leaf) or pa.types.is_large_list(leaf) or pa.types.is_fixed_size_list(leaf)
    ):
        width = leaf.list_size if pa.types.is_fixed_size_list(leaf) else None
        leaf, depth = leaf.value_type, depth + 1
    if not (pa.types.is_float32(leaf) or pa.types.is_float64(leaf)):
        return None, depth, width
    return np.dtype(leaf.to_pandas_dtype()), depth, width
