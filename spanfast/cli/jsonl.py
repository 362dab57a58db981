"""Reading JSON Lines input of ``spanfast scan``: a file (``.jsonl``, ``.ndjson``, also
compressed ``.gz``, ``.bz2``, ``.zst``) or stdin (``-``), read whole by pyarrow.

When pyarrow cannot read a line, the lines are read again with Python's json to
say which line and column is at fault and why (pyarrow's row numbers count from
its block, and its messages name types, not rows).
"""

from __future__ import annotations

import io
import json
import os
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .errors import InputError

STDIN = "-"
# compressed JSON Lines: the codec pyarrow decompresses each extension with
CODECS = {".gz": "gzip", ".bz2": "bz2", ".zst": "zstd"}


def require_pyarrow(path: Any, what: str) -> None:
    """Fail with an install hint (pyarrow is an optional dependency of spanfast)."""
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        raise InputError(path, f"{what} needs pyarrow: pip install pyarrow") from None


def missing_column(path: Any, column: str, available: Any) -> InputError:
    """The error for a column the file lacks, listing the ones it has."""
    return InputError(
        path, "no such column; the columns are " + ", ".join(map(repr, available)), column=column
    )


def read_jsonl(path: Path, columns: Any) -> dict[str, Any]:
    """The columns of a JSON Lines file (compressed by its extension, or stdin for ``-``),
    as pyarrow arrays."""
    require_pyarrow(path, "reading .jsonl")
    import pyarrow as pa
    import pyarrow.json

    stdin = os.fspath(path) == STDIN
    content = sys.stdin.buffer.read() if stdin else None  # kept: errors re-read the lines
    codec = None if stdin else CODECS.get(path.suffix.lower())
    try:
        source = pa.BufferReader(content) if stdin else pa.input_stream(path, compression=codec)
        table = pyarrow.json.read_json(source)
    except pa.ArrowInvalid as error:
        raise _jsonl_error(path, str(error), content, codec) from None
    except OSError as error:  # not what the extension says: a .gz that is not gzip
        if codec is None:
            raise
        raise InputError(path, f"cannot read as {codec}-compressed JSON Lines: {error}") from None
    for column in columns.names:
        if column not in table.column_names:
            raise missing_column(path, column, table.column_names)
    return {column: table.column(column) for column in columns.names}


def _json_leaves(value: Any, depth: int = 0) -> set[tuple[int, str]]:
    """(nesting depth, kind) of every non-null leaf of a JSON value."""
    if isinstance(value, list):
        leaves: set[tuple[int, str]] = set()
        for item in value:
            leaves |= _json_leaves(item, depth + 1)
        return leaves
    if value is None:
        return set()
    kind = (
        "boolean"
        if isinstance(value, bool)
        else "number"
        if isinstance(value, (int, float))
        else "string"
        if isinstance(value, str)
        else "object"
    )
    return {(depth, kind)}


def _describe_leaves(leaves: set[tuple[int, str]]) -> str:
    """'a list of numbers and lists of lists of strings': what a value holds, for messages."""
    return " and ".join(
        "lists of " * (depth - 1) + (f"a list of {kind}s" if depth else f"a {kind}")
        for depth, kind in sorted(leaves)
    )


def _reject_constant(name: str) -> None:
    """Python's json accepts NaN and Infinity; JSON (and pyarrow) do not."""
    raise ValueError(f"{name} is not valid JSON")


def _valid_text(value: Any) -> bool:
    """Every string in a JSON value encodes as UTF-8 (json.loads lets lone surrogates in)."""
    try:
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _lines(path: Path, content: bytes | None, codec: str | None) -> Iterator[bytes]:
    """The lines of a JSON Lines input again: from ``content`` (stdin), or decompressed."""
    if content is not None:
        yield from io.BytesIO(content)
        return
    import pyarrow as pa

    with pa.input_stream(path, compression=codec) as stream:
        yield from io.BufferedReader(stream)


def _jsonl_error(
    path: Path, arrow_message: str, content: bytes | None = None, codec: str | None = None
) -> InputError:
    """Locate the line pyarrow could not read (its own row number counts from its block)."""
    named = re.search(r"Column\(/([^/)]*)", arrow_message)
    column = named.group(1) if named else None
    first_leaves: set[tuple[int, str]] | None = None
    row = -1
    for line in _lines(path, content, codec):
        if not line.strip():
            continue
        row += 1
        try:
            record = json.loads(line, parse_constant=_reject_constant)
        except ValueError as error:
            return InputError(path, f"invalid JSON: {error}", row=row)
        if not isinstance(record, dict):
            return InputError(
                path, f"expected a JSON object per line, got {type(record).__name__}", row=row
            )
        bad_text = next((key for key, value in record.items() if not _valid_text(value)), None)
        if bad_text is not None:
            return InputError(
                path,
                "holds text that is not valid Unicode (an unpaired surrogate escape such "
                "as \\ud800)",
                column=bad_text,
                row=row,
            )
        if column is None or column not in record:
            continue
        leaves = _json_leaves(record[column])
        if len(leaves) > 1:
            return InputError(path, f"mixes {_describe_leaves(leaves)}", column=column, row=row)
        if leaves and first_leaves is None:
            first_leaves = leaves
        elif leaves and leaves != first_leaves:
            return InputError(
                path,
                f"holds {_describe_leaves(leaves)} where earlier rows hold "
                f"{_describe_leaves(first_leaves)}",
                column=column,
                row=row,
            )
    detail = re.sub(r"\s*in row \d+$", "", arrow_message.strip())
    return InputError(path, f"cannot read JSON Lines: {detail}", column=column)
