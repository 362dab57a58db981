"""Corrected labels written in the original file's layout: same schema, same rows, same order.

JSON Lines: every line not changed by the review is copied byte for byte; a
changed line is the same object with only its labels value replaced (tag
strings stay tag strings, class ids class ids). Parquet (one file): the
same table and schema (metadata included) with the labels column replaced
by one of the same type. ``.npz`` (flat values + ``COL_offsets``): the same
arrays in the same order and compression, the labels' values replaced (same
dtype; tag strings as wide as they need). The output goes through the atomic writer and is
never one of the inputs.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from .._atomic import OutputFileError, checked_path, refuse_inputs
from ..errors import InvalidInputError
from .apply import Changes, Mapping, corrections
from .reviewed import read_reviewed

FORMATS = (".jsonl", ".parquet", ".npz")


def _input_error(path: Path, message: str, sentence: int | None = None) -> InvalidInputError:
    return InvalidInputError(f"{path}: {message}", file=str(path), sentence=sentence, field="input")


def _class_ids(
    path: Path, row: int, values: list, names: list[str] | None
) -> tuple[np.ndarray, bool]:
    """(class ids, whether the row holds tag strings) of one row's labels."""
    if values and all(isinstance(v, str) for v in values):
        if names is None:
            raise _input_error(path, f"row {row} holds tag strings: give the class names", row)
        index = {name: k for k, name in enumerate(names)}
        unknown = [v for v in values if v not in index]
        if unknown:
            raise _input_error(path, f"row {row}: tag {unknown[0]!r} is not a class name", row)
        return np.array([index[v] for v in values], np.int64), True
    if not all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in values):
        raise _input_error(path, f"row {row}: labels are not class ids or tag strings", row)
    return np.array(values, np.int64), False


def _row_values(path: Path, row: int, record: Any, column: str) -> list:
    if not isinstance(record, dict) or column not in record:
        raise _input_error(path, f"row {row} has no {column!r}", row)
    value = record[column]
    if not isinstance(value, list):
        raise _input_error(path, f"row {row}: {column!r} is not a list", row)
    return value


def _apply_jsonl(
    export: Any, source: Path, labels: str, tokens: str, names: list[str] | None, tool: Any
) -> tuple[bytes, Changes]:
    raw_lines = source.read_bytes().splitlines(keepends=True)
    rows = [n for n, line in enumerate(raw_lines) if line.strip()]
    parsed: dict[int, dict] = {}

    def record(row: int) -> dict:
        if row not in parsed:
            try:
                parsed[row] = json.loads(raw_lines[rows[row]])
            except ValueError as error:
                raise _input_error(
                    source, f"line {rows[row] + 1}: malformed JSON: {error}", row
                ) from None
        return parsed[row]

    strings: dict[int, bool] = {}

    def classes_of(row: int) -> np.ndarray:
        ids, strings[row] = _class_ids(
            source, row, _row_values(source, row, record(row), labels), names
        )
        return ids

    def tokens_of(row: int) -> list[str]:
        words = _row_values(source, row, record(row), tokens)
        return [str(w) for w in words]

    mapping = Mapping(names, _n_classes(names, lambda: _max_jsonl(source, raw_lines, rows, labels)))
    _, reviewed = read_reviewed(export, tool)
    new, changes = corrections(reviewed, len(rows), tokens_of, classes_of, mapping)
    for row, ids in new.items():
        line = raw_lines[rows[row]]
        ending = line[len(line.rstrip(b"\r\n")) :]
        obj = record(row)
        obj[labels] = [mapping.names[k] for k in ids.tolist()] if strings[row] else ids.tolist()
        raw_lines[rows[row]] = json.dumps(obj, ensure_ascii=False).encode("utf-8") + (ending or b"")
    return b"".join(raw_lines), changes


def _n_classes(names: list[str] | None, largest: Any) -> int:
    """K from the class names, else from the largest label (only needed without names)."""
    return len(names) if names is not None else int(largest()) + 1


def _max_jsonl(source: Path, raw_lines: list, rows: list, column: str) -> int:
    """The largest class id of a JSON Lines labels column (no names: ids only)."""
    largest = 0
    for row, n in enumerate(rows):
        try:
            values = json.loads(raw_lines[n]).get(column) or []
        except (ValueError, AttributeError):
            raise _input_error(source, f"line {n + 1}: malformed JSON", row) from None
        ints = [v for v in values if isinstance(v, int)]
        largest = max([largest, *ints])
    return largest


def _apply_parquet(
    export: Any, source: Path, labels: str, tokens: str, names: list[str] | None, tool: Any
) -> tuple[Any, Changes]:
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        raise _input_error(
            source, "reading .parquet needs pyarrow: pip install 'spanfast[parquet]'"
        ) from None
    try:
        table = pq.read_table(source)
    except (pa.ArrowException, OSError) as error:
        raise _input_error(source, f"cannot read as Parquet: {error}") from None
    for column in (labels, tokens):
        if column not in table.column_names:
            raise _input_error(source, f"has no column {column!r}")
    column = table.column(labels).combine_chunks()
    if not (pa.types.is_list(column.type) or pa.types.is_large_list(column.type)):
        raise _input_error(source, f"column {labels!r} is not a list column")
    if column.null_count:
        raise _input_error(source, f"column {labels!r} has null rows")
    offsets = np.asarray(column.offsets, np.int64)
    flat = column.flatten()
    is_text = pa.types.is_string(flat.type) or pa.types.is_large_string(flat.type)
    if is_text:
        if names is None:
            raise _input_error(source, f"column {labels!r} holds tag strings: give the class names")
        index = {name: k for k, name in enumerate(names)}
        tags = flat.to_pylist()
        unknown = next((t for t in tags if t not in index), None)
        if unknown is not None:
            raise _input_error(source, f"tag {unknown!r} is not a class name")
        values = np.fromiter((index[t] for t in tags), np.int64, count=len(tags))
    else:
        values = np.asarray(flat.to_numpy(zero_copy_only=False), np.int64)
    token_column = table.column(tokens)

    def tokens_of(row: int) -> list[str]:
        words = token_column[row].as_py()
        if words is None:
            raise _input_error(source, f"row {row} has no tokens", row)
        return [str(w) for w in words]

    def classes_of(row: int) -> np.ndarray:
        return values[offsets[row] - offsets[0] : offsets[row + 1] - offsets[0]]

    mapping = Mapping(names, _n_classes(names, lambda: values.max(initial=0)))
    _, reviewed = read_reviewed(export, tool)
    new, changes = corrections(reviewed, table.num_rows, tokens_of, classes_of, mapping)
    if not new:
        return table, changes
    updated = values.copy()
    for row, ids in new.items():
        updated[offsets[row] - offsets[0] : offsets[row + 1] - offsets[0]] = ids
    if is_text:
        flat_new = pa.array(np.asarray(mapping.names, object)[updated], flat.type)
    else:
        flat_new = pa.array(updated).cast(flat.type)
    list_type = pa.large_list if pa.types.is_large_list(column.type) else pa.list_
    rebuilt = type(column).from_arrays(
        pa.array(offsets - offsets[0], column.offsets.type), flat_new
    )
    rebuilt = rebuilt.cast(list_type(column.type.value_field))
    position = table.column_names.index(labels)
    table = table.set_column(position, table.schema.field(position), rebuilt)
    return table, changes


def apply_corrections(
    export: Any,
    input: Any,
    out: Any,
    *,
    labels: str,
    tokens: str,
    class_names: Any = None,
    tool: str | None = None,
) -> Changes:
    """Write ``input`` with the corrections of an annotation tool's export applied, to ``out``.

    Parameters
    ----------
    export : str or path-like
        What Label Studio (JSON), Prodigy (``db-out`` JSONL) or doccano (JSONL)
        exported after review of the tasks ``spanfast export`` wrote.
    input : str or path-like
        The original data: a ``.jsonl`` or ``.parquet`` file, or an ``.npz`` of
        flat columns with ``COL_offsets``.
    out : str or path-like
        The corrected copy, in the input's format; never the input itself.
    labels, tokens : str
        The columns (keys) of the labels and the tokens.
    class_names : sequence of str, optional
        As given to the export; needed for tag-string labels (a Parquet file's
        ``class_names`` schema metadata is used when not given).
    tool : {"label-studio", "prodigy", "doccano"}, optional
        Read from the export's shape when not given.

    Returns
    -------
    Changes
        What changed, per class and kind (``Changes.summary()``).
    """
    from .._atomic import AtomicFile

    source = Path(input)
    suffix = source.suffix.lower()
    if suffix not in FORMATS:
        raise _input_error(source, "apply-corrections reads a .jsonl, .parquet or .npz file")
    if not source.is_file():
        raise _input_error(source, "no such file")
    given = os.fspath(out)
    if Path(given).suffix.lower() != suffix:
        raise OutputFileError(given, f"the corrected copy of a {suffix} file is a {suffix} file")
    path = checked_path(given)
    refuse_inputs(path, given, [source, Path(export)])
    names = None if class_names is None else [str(n) for n in class_names]
    if suffix == ".jsonl":
        content, changes = _apply_jsonl(export, source, labels, tokens, names, tool)
        writer = _write_bytes(content)
    elif suffix == ".npz":
        arrays, compressed, changes = _apply_npz(export, source, labels, tokens, names, tool)
        writer = _write_npz(arrays, compressed)
    else:
        if names is None:
            names = _parquet_names(source)
        table, changes = _apply_parquet(export, source, labels, tokens, names, tool)
        writer = _write_parquet(table)
    assert path is not None
    with AtomicFile(given, path) as destination:
        destination.replace_with(writer)
    return changes


def _apply_npz(
    export: Any, source: Path, labels: str, tokens: str, names: list[str] | None, tool: Any
) -> tuple[dict[str, np.ndarray], bool, Changes]:
    """An ``.npz`` of flat columns + ``COL_offsets`` (as ``spanfast scan`` reads it, no pickle)."""
    import zipfile

    try:
        with np.load(source, allow_pickle=False) as archive:
            arrays = {name: archive[name] for name in archive.files}
        with zipfile.ZipFile(source) as archive:
            compressed = any(i.compress_type != zipfile.ZIP_STORED for i in archive.infolist())
    except Exception as error:  # not a zip of .npy files, or pickled object arrays
        raise _input_error(source, f"cannot read as .npz without pickle: {error}") from None
    for column in (labels, tokens):
        if column not in arrays or f"{column}_offsets" not in arrays:
            raise _input_error(source, f"needs {column!r} as flat values and {column}_offsets")
    values, offsets = arrays[labels], np.asarray(arrays[f"{labels}_offsets"], np.int64)
    words, word_offsets = arrays[tokens], np.asarray(arrays[f"{tokens}_offsets"], np.int64)
    if not np.array_equal(offsets, word_offsets) or values.ndim != 1:
        raise _input_error(source, f"{labels!r} and {tokens!r} differ in sentence lengths")
    is_text = values.dtype.kind in "US"
    if is_text:
        if names is None:
            raise _input_error(source, f"{labels!r} holds tag strings: give the class names")
        index = {name: k for k, name in enumerate(names)}
        tags = values.astype(str).tolist()
        unknown = next((t for t in tags if t not in index), None)
        if unknown is not None:
            raise _input_error(source, f"tag {unknown!r} is not a class name")
        ids = np.fromiter((index[t] for t in tags), np.int64, count=len(tags))
    elif values.dtype.kind in "iu":
        ids = values.astype(np.int64)
    else:
        raise _input_error(source, f"{labels!r} holds {values.dtype}, not class ids or tags")

    def tokens_of(row: int) -> list[str]:
        return [str(w) for w in words[word_offsets[row] : word_offsets[row + 1]].tolist()]

    def classes_of(row: int) -> np.ndarray:
        return ids[offsets[row] : offsets[row + 1]]

    mapping = Mapping(names, _n_classes(names, lambda: ids.max(initial=0)))
    _, reviewed = read_reviewed(export, tool)
    new, changes = corrections(reviewed, offsets.shape[0] - 1, tokens_of, classes_of, mapping)
    if new:
        updated = ids.copy()
        for row, classes in new.items():
            updated[offsets[row] : offsets[row + 1]] = classes
        if is_text:  # as wide a string dtype as the tags need (of the same kind, str or bytes)
            arrays[labels] = np.array(
                np.asarray(mapping.names)[updated].tolist(), values.dtype.kind
            )
        else:
            arrays[labels] = updated.astype(values.dtype)
    return arrays, compressed, changes


def _write_npz(arrays: dict[str, np.ndarray], compressed: bool) -> Any:
    def write(path: Path) -> None:
        with open(path, "wb") as stream:  # a file object: savez adds no ".npz" to the name
            (np.savez_compressed if compressed else np.savez)(stream, **arrays)

    return write


def _parquet_names(source: Path) -> list[str] | None:
    """The ``class_names`` a Parquet file stores in its schema metadata."""
    import pyarrow.parquet as pq

    try:
        metadata = pq.read_schema(source).metadata or {}
    except Exception:
        return None
    text = metadata.get(b"class_names")
    try:
        names = json.loads(text) if text else None
    except ValueError:
        return None
    return [str(n) for n in names] if isinstance(names, list) else None


def _write_bytes(content: bytes) -> Any:
    def write(path: Path) -> None:
        with open(path, "wb") as stream:
            stream.write(content)

    return write


def _write_parquet(table: Any) -> Any:
    def write(path: Path) -> None:
        import pyarrow.parquet as pq

        pq.write_table(table, path)

    return write
