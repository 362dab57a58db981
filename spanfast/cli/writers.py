"""Writing ``spanfast scan --out``: the issue tables (JSON Lines, CSV, Parquet), and stdout.

Files go through the one atomic writer, :mod:`spanfast._atomic` (a partial
file beside the target, renamed over it only when complete, removed on any
failure; stale partials of killed runs cleaned up; devices and FIFOs written
in place). This module adds what the command line needs: the output formats
and compressions, the refusal to write over an input, and errors as the
command line reports them (:class:`~spanfast.cli.errors.OutputError`).
"""

from __future__ import annotations

import dataclasses
import json
import os  # noqa: F401 -- tests patch os.replace through this module
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from .._atomic import STDOUT, AtomicFile, checked_path, same_file
from .errors import OutputError

OUTPUT_FORMATS = ("jsonl", "csv", "parquet")
# Compressed text outputs, by the file name's last extension (pyarrow's codecs).
COMPRESSIONS = {".gz": "gzip", ".zst": "zstd", ".bz2": "bz2"}


@dataclasses.dataclass(frozen=True)
class Target:
    """Where the issues go: ``given`` as typed, ``path`` to write (None for stdout)."""

    given: str
    path: Path | None
    format: str
    compression: str | None = None  # a pyarrow codec name, from the extension


def target(out: str, out_format: str | None) -> Target:
    """Check ``--out``/``--out-format`` before anything is read; the Target they name."""
    if out == STDOUT:
        form = out_format or "jsonl"
        if form == "parquet":
            raise OutputError(
                out, "Parquet is not written to stdout: use --out-format jsonl or csv"
            )
        return Target(out, None, form)
    given = Path(out)
    suffix = given.suffix.lower()
    compression = COMPRESSIONS.get(suffix)
    if compression is not None:
        suffix = given.with_suffix("").suffix.lower()  # issues.csv.gz: csv, gzip
    form = out_format or suffix.lstrip(".")
    if form not in OUTPUT_FORMATS:
        raise OutputError(
            out,
            f"unknown output format {suffix or '(no extension)'!r}: expected .parquet, .csv or "
            ".jsonl (also .csv.gz, .jsonl.gz, .zst, .bz2), or name one with --out-format",
        )
    if compression is not None and form == "parquet":
        raise OutputError(
            out, "Parquet compresses its own columns: name the file .parquet, not compressed"
        )
    path = checked_path(out, OutputError)
    return Target(out, path, form, compression)


def refuse_inputs(output: Target, inputs: Iterable[Path], directory: Path | None) -> None:
    """Fail if the output is one of the input files (by inode: symlinks, hard links).

    A Parquet output in an input directory is refused too: the next scan of the
    directory would read it as data.
    """
    if output.path is None:
        return
    for path in inputs:
        if same_file(output.path, path):
            raise OutputError(
                output.given, f"is the input file {path}; refusing to overwrite the input"
            )
    if directory is not None and output.format == "parquet":
        if same_file(output.path.parent, directory):
            raise OutputError(
                output.given,
                f"is inside the input directory {directory}, whose .parquet files are all "
                "read as data; write it elsewhere",
            )


class AtomicOutput(AtomicFile):
    """The output file of a command, replaced only when complete; a context manager.

    Entering creates the partial file (so an unwritable directory fails before
    the data is read); :meth:`write` writes the issue table,
    :meth:`~spanfast._atomic.AtomicFile.write_text` any text.
    """

    def __init__(self, output: Target) -> None:
        super().__init__(output.given, output.path, OutputError)
        self.output = output

    def write(self, columns: dict[str, np.ndarray]) -> None:
        """Write one row per issue, then move the file into place."""
        if self.output.path is None:
            _write_stdout(self.output.format, columns)  # a closed pipe is handled by main
            self.written = True
            return
        self.replace_with(lambda path: _write_file(path, self.output, columns))


def _write_file(path: Path, output: Target, columns: dict[str, np.ndarray]) -> None:
    """Write the columns to ``path`` in the output's format, compressed if it says so."""
    import pyarrow as pa

    if output.format == "parquet":
        import pyarrow.parquet as pq

        pq.write_table(arrow_table(columns), path)
        return
    # Python's file (its errors are OSErrors with errno and strerror), pyarrow's codec.
    with open(path, "wb") as stream:
        if output.compression is None:
            write_rows(stream, output.format, columns)
            return
        with pa.CompressedOutputStream(stream, output.compression) as sink:
            write_rows(sink, output.format, columns)


def _write_stdout(form: str, columns: dict[str, Any]) -> None:
    """The rows to stdout, as bytes after whatever was printed as text.

    Written in pipe-sized pieces: one large write to a pipe whose reader has gone
    returns a short count instead of failing, and the closed pipe must be noticed
    (exit 141).
    """
    import io
    import sys

    buffer = io.BytesIO()
    write_rows(buffer, form, columns)
    rendered = buffer.getbuffer()
    sys.stdout.flush()
    binary = getattr(sys.stdout, "buffer", None)
    if binary is None:  # a text-only stdout (an embedding application)
        sys.stdout.write(bytes(rendered).decode("utf-8"))
    else:
        for start in range(0, len(rendered), _PIPE_CHUNK):
            binary.write(rendered[start : start + _PIPE_CHUNK])
            binary.flush()
    sys.stdout.flush()


_PIPE_CHUNK = 1 << 16


def arrow_table(columns: dict[str, Any]) -> Any:
    """The columns as a pyarrow Table (object columns of text as strings)."""
    import pyarrow as pa

    return pa.table(
        {
            name: pa.array(values.tolist(), pa.string()) if values.dtype == object else values
            for name, values in columns.items()
        }
    )


def write_rows(sink: Any, form: str, columns: dict[str, Any]) -> None:
    """One row per issue to a binary sink: CSV with a header (pyarrow's writer), or
    JSON Lines (pyarrow has no JSON writer: the standard library's encoder, one line
    per row, floats as Python's shortest round-trip repr)."""
    if form == "csv":
        import pyarrow.csv

        # A bare header, as before (and as csv.writer): quoted only if a name needs it.
        plain = not any(set(name) & set(',"\r\n') for name in columns)
        options = pyarrow.csv.WriteOptions(quoting_header="none" if plain else "needed")
        pyarrow.csv.write_csv(arrow_table(columns), sink, options)
        return
    names = list(columns)
    rows = zip(*(values.tolist() for values in columns.values()))
    text = "".join(json.dumps(dict(zip(names, row)), ensure_ascii=False) + "\n" for row in rows)
    sink.write(text.encode("utf-8"))
