"""Reading ``spanfast scan`` input: Parquet files or directories, JSON Lines, ``.npz``.

INPUT's format comes from its name (or --format). JSON Lines (:mod:`.jsonl`) and
``.npz`` files are read whole and checked here; Parquet is listed by
:mod:`spanfast._input.files` (the listing every runner shares) and streamed by
:mod:`spanfast.streaming`, and only its row counts (to number rows within files)
and the few sentences shown with the issues are read here.
Readers raise :class:`~spanfast.cli.errors.InputError` naming the file, the
column and the row.
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from .errors import InputError, located
from .jsonl import CODECS, STDIN, missing_column, read_jsonl, require_pyarrow

# --format's names, and the file names each format is recognised by
FORMAT_NAMES = {"parquet": ".parquet", "jsonl": ".jsonl", "npz": ".npz"}
SUFFIXES = {
    ".parquet": ".parquet",
    ".pq": ".parquet",
    ".jsonl": ".jsonl",
    ".ndjson": ".jsonl",
    ".npz": ".npz",
}


@dataclasses.dataclass(frozen=True)
class Columns:
    """The column names given on the command line."""

    labels: str
    probs: str
    tokens: str | None
    ids: tuple[str, ...] = ()
    class_names: tuple[str, ...] | None = None  # --class-names: tag strings in labels map to ids
    task: str | None = None  # --task: "span" reads 2-D probabilities as several span classes

    @property
    def names(self) -> list[str]:
        """The columns to read, labels first, the id columns last."""
        return [self.labels, self.probs] + ([self.tokens] if self.tokens else []) + list(self.ids)


def input_files(path: Path, form: str | None = None) -> tuple[str, list[Path]]:
    """(format, files) of INPUT, from names and file types only (nothing is read).

    ``form`` (--format: parquet, jsonl or npz) overrides the extension. ``-`` is
    JSON Lines on stdin. A directory is Parquet, listed by
    :func:`spanfast._input.files.list_parquet` (nested, Hive-partitioned, .pq).
    """
    if os.fspath(path) == STDIN:
        if form not in (None, "jsonl"):
            raise InputError(path, f"stdin ('-') is read as JSON Lines, not {form}")
        return ".jsonl", [path]
    if not path.exists():
        raise InputError(path, "no such file or directory")
    if path.is_dir():
        if form not in (None, "parquet"):
            raise InputError(path, f"is a directory, which is read as Parquet, not {form}")
        return ".parquet", [Path(name) for name in parquet_listing(path, []).files]
    if form is not None:
        return FORMAT_NAMES[form], [path]
    inner, outer = (suffix.lower() for suffix in (Path(path.stem).suffix, path.suffix))
    if outer in CODECS and SUFFIXES.get(inner) == ".jsonl":  # data.jsonl.gz
        return ".jsonl", [path]
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise InputError(
            path,
            f"unknown input format {suffix or '(no extension)'!r}: expected .parquet or .pq (a "
            "file or a directory of them), .jsonl or .ndjson (also .gz, .bz2, .zst), or .npz; "
            "or give --format",
        )
    return SUFFIXES[suffix], [path]


def parquet_listing(path: Path, files: list[Path]) -> Any:
    """The shared Parquet listing of INPUT (a directory or a file), errors as one line."""
    from spanfast._input.files import list_parquet
    from spanfast.errors import InvalidInputError

    try:
        return list_parquet(path if path.is_dir() else [os.fspath(f) for f in files])
    except InvalidInputError as error:
        raise InputError(error.file or path, _without_path(error)) from None


def _without_path(error: Any) -> str:
    """An error's message without the path it starts with (the line names it in front)."""
    detail, path = str(error), getattr(error, "file", None)
    return detail[len(f"{path}: ") :] if path and detail.startswith(f"{path}: ") else detail


def output_target(out: str | None, out_format: str | None, files, directory) -> Any:
    """The ``--out`` target (None without one), checked before any input is read: never
    an input file, and pyarrow present for a .parquet output."""
    from . import writers

    if out is None:
        return None
    output = writers.target(out, out_format)
    writers.refuse_inputs(output, files, directory)
    if directory is not None and output.path is not None and output.format == "parquet":
        _refuse_inside(output, directory)
    if output.format == "parquet":
        require_pyarrow(out, "writing .parquet")
    return output


def _refuse_inside(output: Any, directory: Path) -> None:
    """A Parquet output at any depth of an input directory would be read as data next time."""
    from spanfast._input.files import is_parquet_name

    from .errors import OutputError

    inside = Path(os.path.realpath(output.path.parent))
    top = Path(os.path.realpath(directory))
    if is_parquet_name(output.path.name) and (inside == top or top in inside.parents):
        raise OutputError(
            output.given,
            f"is inside the input directory {directory}, whose Parquet files are all read "
            "as data; write it elsewhere",
        )


# -- files read whole: JSON Lines and .npz ------------------------------------------------


def checked_columns(path: Path, raw: dict[str, Any], columns: Columns) -> dict[str, Any]:
    """Convert and check one file's columns; errors name the file, the column and the row."""
    from spanfast._input.checked import (
        as_labels,
        as_probabilities,
        check_aligned,
        check_label_range,
    )
    from spanfast.errors import InvalidInputError
    from spanfast.io import as_ragged

    def checked(column: str, check: Callable[[], Any]) -> Any:
        """Run a check; its error names ``column``, the one being read."""
        try:
            return check()
        except InvalidInputError as error:
            raise located(error, files=[path], columns=columns, column=column) from None

    probs = checked(
        columns.probs,
        lambda: as_probabilities(as_ragged(raw[columns.probs], name=columns.probs), span=None),
    )
    n_columns = 2 if probs.values.ndim == 1 else probs.values.shape[1]
    if columns.class_names is not None and len(columns.class_names) != n_columns:
        raise InputError(
            path,
            f"--class-names has {len(columns.class_names)} names but there are {n_columns} "
            "probabilities per token (2 for 1-D span data: outside, the span class)",
            column=columns.probs,
        )
    raw_labels = tag_ids(path, columns, raw[columns.labels])
    if columns.task == "span" and probs.values.ndim == 2:
        # several span classes: labels are (T, C) 0/1 or per-token class ids, which
        # find_issues(task="span") converts and checks against C itself
        labels = checked(columns.labels, lambda: as_ragged(raw_labels, name=columns.labels))
    else:
        labels = checked(
            columns.labels, lambda: as_labels(as_ragged(raw_labels, name=columns.labels))
        )
        checked(columns.probs, lambda: check_aligned(labels, probs))
        span = probs.values.ndim == 1
        n_classes = 2 if span else probs.values.shape[1]
        checked(columns.labels, lambda: check_label_range(labels, n_classes, span=span))
    data = {"labels": labels, "probs": probs, "tokens": None}
    data["ids"] = {name: raw[name] for name in columns.ids}  # checked by find_issues
    if columns.tokens:
        tokens = checked(
            columns.tokens, lambda: as_ragged(raw[columns.tokens], name=columns.tokens)
        )
        if tokens.values.ndim != 1:
            raise InputError(path, "expected one string per token", column=columns.tokens)
        if not np.array_equal(tokens.lengths, labels.lengths):
            row = (
                int(np.flatnonzero(tokens.lengths != labels.lengths)[0])
                if len(tokens) == len(labels)
                else None
            )
            raise InputError(
                path,
                f"{len(tokens)} sentences, {tokens.n_tokens} tokens but {columns.labels!r} has "
                f"{len(labels)} sentences, {labels.n_tokens} labels"
                if row is None
                else f"{tokens.lengths[row]} tokens but {labels.lengths[row]} labels",
                column=columns.tokens,
                row=row,
            )
        data["tokens"] = tokens
    return data


def read_whole(
    kind: str, files: list[Path], directory: Path | None, columns: Columns, *, allow_pickle: bool
) -> tuple[Path, dict[str, Any]]:
    """(the path errors name, the columns) of INPUT read whole, Parquet included."""
    if kind == ".jsonl":
        return files[0], read_jsonl(files[0], columns)
    if kind == ".npz":
        return files[0], read_npz(files[0], columns, allow_pickle=allow_pickle)
    require_pyarrow(files[0], "reading .parquet")
    listing = parquet_listing(directory or files[0], files)
    parquet_row_counts(files, columns, listing)  # every file is Parquet with the columns
    table = read_parquet(listing, columns.names)
    path = files[0] if directory is None or len(files) == 1 else directory
    return path, {name: table.column(name) for name in columns.names}


def tag_ids(path: Path, columns: Columns, raw: Any) -> Any:
    """A labels column of tag strings ("B-PER") as class ids by --class-names; else as it is."""
    strings, values, offsets = _string_labels(raw)
    if not strings:
        return raw
    if columns.class_names is None:
        raise InputError(
            path,
            "holds tag strings such as 'B-PER'; give the class names in the order of the "
            "probability columns with --class-names O,B-PER,I-PER,... to map them to class ids",
            column=columns.labels,
        )
    from spanfast.ragged import Ragged

    ids = {name: k for k, name in enumerate(columns.class_names)}
    flat = np.fromiter((ids.get(tag, -1) for tag in values), np.int64, count=len(values))
    unknown = np.flatnonzero(flat < 0)
    if unknown.size:
        t = int(unknown[0])
        row = int(np.searchsorted(offsets, t, side="right") - 1)
        raise InputError(
            path,
            f"token {t - int(offsets[row])} has tag {values[t]!r}, which is not one of "
            "--class-names",
            column=columns.labels,
            row=row,
        )
    return Ragged(flat, offsets)


def _string_labels(raw: Any) -> tuple[bool, list, np.ndarray]:
    """(holds strings, the flat tags, the offsets) of a labels column (pyarrow or Ragged)."""
    from spanfast.ragged import Ragged

    if isinstance(raw, Ragged):
        if raw.values.ndim != 1 or raw.values.dtype.kind not in "USO":
            return False, [], raw.offsets
        values = raw.values.tolist()
        if not all(isinstance(tag, (str, bytes)) for tag in values):
            return False, [], raw.offsets
        tags = [tag.decode() if isinstance(tag, bytes) else tag for tag in values]
        return True, tags, np.asarray(raw.offsets, np.int64)
    try:
        import pyarrow as pa
    except ImportError:
        return False, [], np.zeros(1, np.int64)
    if isinstance(raw, pa.ChunkedArray):
        raw = raw.combine_chunks()
    if not (isinstance(raw, pa.Array) and pa.types.is_list(raw.type)):
        return False, [], np.zeros(1, np.int64)
    if not (
        pa.types.is_string(raw.type.value_type) or pa.types.is_large_string(raw.type.value_type)
    ):
        return False, [], np.zeros(1, np.int64)
    offsets = np.asarray(raw.offsets, np.int64)
    return True, raw.flatten().to_pylist(), offsets - offsets[0]


def read_npz(path: Path, columns: Columns, *, allow_pickle: bool) -> dict[str, Any]:
    """The columns of an ``.npz`` file: flat values + ``COL_offsets``, N-D, or object arrays."""
    from spanfast.errors import InvalidInputError
    from spanfast.ragged import Ragged

    try:
        archive = np.load(path, allow_pickle=allow_pickle)
    except Exception as error:  # not a zip of .npy files: NumPy raises several kinds
        raise InputError(path, f"cannot read as .npz: {error}") from None
    raw: dict[str, Any] = {}
    with archive:
        if not hasattr(archive, "files"):
            raise InputError(path, "cannot read as .npz: holds a single array, not named ones")
        for column in columns.names:
            offsets_name = f"{column}_offsets"
            if column not in archive.files:
                raise missing_column(path, column, archive.files)
            try:
                values = archive[column]
                offsets = archive[offsets_name] if offsets_name in archive.files else None
            except ValueError as error:
                if "allow_pickle" not in str(error):
                    raise InputError(path, str(error), column=column) from None
                raise InputError(
                    path,
                    "is an object array, which .npz stores pickled; pass --allow-pickle if you "
                    f"trust the file, or store it as {column} (flat values) + {offsets_name}",
                    column=column,
                ) from None
            if offsets is None:
                raw[column] = values
                continue
            try:
                raw[column] = Ragged(values, offsets)
            except InvalidInputError as error:
                raise located(error, files=[path], columns=columns, column=column) from None
    return raw


def take_sentences(ragged: Any, rows: np.ndarray) -> Any:
    """The sentences ``rows`` of a Ragged, as a Ragged (to display a few of a large set)."""
    from spanfast._positions import offsets_from_lengths
    from spanfast.ragged import Ragged

    lengths = ragged.lengths[rows]
    offsets = offsets_from_lengths(lengths)
    flat = np.repeat(ragged.offsets[rows] - offsets[:-1], lengths) + np.arange(offsets[-1])
    return Ragged(ragged.values[flat], offsets)


# -- Parquet: streamed by spanfast.streaming; here only what streaming does not give --------


def parquet_row_counts(files: list[Path], columns: Columns, listing: Any = None) -> np.ndarray:
    """Rows per file, from the footers; checks that every file is Parquet and has the
    columns (Hive partition keys of ``listing`` count as columns), alike in every file."""
    from spanfast._input.files import ParquetFiles
    from spanfast.errors import InvalidInputError

    if listing is None:
        names = [os.fspath(path) for path in files]
        listing = ParquetFiles(names, names)
    try:
        counts = listing.check(columns.names)
    except InvalidInputError as error:
        raise InputError(error.file or files[0], _without_path(error), column=error.field) from None
    return np.asarray(counts, np.int64)


def read_parquet(listing: Any, names: list[str]) -> Any:
    """The columns ``names`` of every file of ``listing`` as one table (partition keys as
    columns), in row order."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    tables = []
    for number, path in enumerate(listing.files):
        table = pq.read_table(path, columns=listing.file_columns(names))
        for name in names:
            if name not in table.column_names:  # a Hive partition key
                table = table.append_column(
                    name, listing.partition_column(number, name, table.num_rows)
                )
        tables.append(table.select(names))
    return pa.concat_tables(tables)


CLASS_NAMES_KEY = b"class_names"


def parquet_class_names(path: Path, form: str | None = None) -> tuple[str, ...] | None:
    """The class names a Parquet input stores in its schema metadata, if any.

    The key ``class_names`` holds a JSON list of the K names (as ``pyarrow``'s
    ``schema.with_metadata({"class_names": json.dumps(names)})`` writes it); for a
    directory, the first file's. Used when --class-names is not given.
    """
    try:
        kind, files = input_files(path, form) if path.exists() else ("", [])
    except InputError:
        return None  # the run reports it where it reads the input
    if not files or kind != ".parquet":
        return None
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        return None
    try:
        metadata = pq.read_schema(files[0]).metadata or {}
    except (pa.ArrowException, OSError):
        return None
    if CLASS_NAMES_KEY not in metadata:
        return None
    try:
        names = json.loads(metadata[CLASS_NAMES_KEY])
    except ValueError:
        names = None
    if not (isinstance(names, list) and names and all(isinstance(n, str) for n in names)):
        raise InputError(files[0], "schema metadata 'class_names' is not a JSON list of strings")
    return tuple(names)


def parquet_tags(files: list[Path], columns: Columns) -> bool:
    """The labels column holds tag strings (from the first file's schema; none when unreadable)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        field = pq.read_schema(files[0]).field(columns.labels)
    except (pa.ArrowException, OSError, KeyError):
        return False  # parquet_row_counts says what is wrong
    value_type = getattr(field.type, "value_type", None)
    return value_type is not None and (
        pa.types.is_string(value_type) or pa.types.is_large_string(value_type)
    )


def parquet_rows(files: list[Path], row_counts: np.ndarray, column: str, rows: np.ndarray) -> Any:
    """The values of ``column`` at the given global rows (sorted, unique) as a Ragged.

    Reads only the row groups that hold one of the rows.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    from spanfast.io import as_ragged

    pieces = []
    first_row = 0
    for path, n_rows in zip(files, row_counts.tolist()):
        wanted = rows[(rows >= first_row) & (rows < first_row + n_rows)] - first_row
        first_row += n_rows
        if wanted.size == 0:
            continue
        parquet_file = pq.ParquetFile(path)
        group_start = 0
        for group in range(parquet_file.num_row_groups):
            group_rows = parquet_file.metadata.row_group(group).num_rows
            local = wanted[(wanted >= group_start) & (wanted < group_start + group_rows)]
            if local.size:
                table = parquet_file.read_row_group(group, columns=[column])
                pieces.append(table.column(column).take(pa.array(local - group_start)))
            group_start += group_rows
    return as_ragged(pa.chunked_array(pieces), name=column)
