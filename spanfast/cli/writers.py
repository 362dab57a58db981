"""Writing ``spanfast scan --out``: files that are never left half-written, and stdout.

A file output is written to ``.<name>.spanfast-<pid>.partial`` beside it and
renamed over it with :func:`os.replace` only when complete, so every exit
Python sees (an error, Ctrl-C, SIGTERM) keeps the previous file and removes
the partial one. A partial file left by a killed run (SIGKILL, power loss) is
recognised by its name and removed by the next run for the same output once
the process named in it is gone. Outputs that are not regular files
(``/dev/null``, a FIFO) are written in place. The input is never overwritten:
an output that is, or links to, an input file is refused before anything is
read. Messages name the output as the user gave it, never the partial file.
"""

from __future__ import annotations

import dataclasses
import json
import os
import stat
from collections.abc import Iterable
from pathlib import Path
from types import TracebackType
from typing import Any

import numpy as np

from .errors import OutputError

OUTPUT_FORMATS = ("jsonl", "csv", "parquet")
# Compressed text outputs, by the file name's last extension (pyarrow's codecs).
COMPRESSIONS = {".gz": "gzip", ".zst": "zstd", ".bz2": "bz2"}
STDOUT = "-"
_PARTIAL_INFIX = ".spanfast-"
_PARTIAL_SUFFIX = ".partial"


@dataclasses.dataclass(frozen=True)
class Target:
    """Where the issues go: ``given`` as typed, ``path`` to write (None for stdout)."""

    given: str
    path: Path | None
    format: str
    compression: str | None = None  # a pyarrow codec name, from the extension

    @property
    def in_place(self) -> bool:
        """Written directly, not through a partial file: stdout, devices, FIFOs."""
        return self.path is None or (self.path.exists() and not self.path.is_file())


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
    if given.is_dir():
        raise OutputError(out, "is a directory; name a file to write")
    path = Path(os.path.realpath(given))  # through symlinks: the link stays, its target is written
    if not path.parent.exists():
        raise OutputError(out, "the directory to write to does not exist")
    if not path.parent.is_dir():
        raise OutputError(out, f"{given.parent} is not a directory")
    return Target(out, path, form, compression)


def refuse_inputs(output: Target, inputs: Iterable[Path], directory: Path | None) -> None:
    """Fail if the output is one of the input files (by inode: symlinks, hard links).

    A Parquet output in an input directory is refused too: the next scan of the
    directory would read it as data.
    """
    if output.path is None:
        return
    for path in inputs:
        if _same_file(output.path, path):
            raise OutputError(
                output.given, f"is the input file {path}; refusing to overwrite the input"
            )
    if directory is not None and output.format == "parquet":
        if _same_file(output.path.parent, directory):
            raise OutputError(
                output.given,
                f"is inside the input directory {directory}, whose .parquet files are all "
                "read as data; write it elsewhere",
            )


def _same_file(first: Path, second: Path) -> bool:
    """os.path.samefile, False when either is missing (same device and inode otherwise)."""
    try:
        return os.path.samefile(first, second)
    except OSError:
        return False


def partial_path(path: Path, pid: int) -> Path:
    """The temporary file process ``pid`` writes ``path`` through."""
    return path.with_name(f".{path.name}{_PARTIAL_INFIX}{pid}{_PARTIAL_SUFFIX}")


def remove_stale_partials(path: Path) -> list[Path]:
    """Remove the partial files of ``path`` whose writer is no longer running; return them."""
    prefix = f".{path.name}{_PARTIAL_INFIX}"
    removed = []
    try:
        entries = list(os.scandir(path.parent))
    except OSError:
        return removed
    for entry in entries:
        name = entry.name
        if not (name.startswith(prefix) and name.endswith(_PARTIAL_SUFFIX)):
            continue
        pid_text = name[len(prefix) : -len(_PARTIAL_SUFFIX)]
        if not pid_text.isdigit():
            continue
        pid = int(pid_text)
        if pid != os.getpid() and _is_running(pid):
            continue
        try:
            os.unlink(entry.path)
        except OSError:  # removed meanwhile, or not ours to remove
            continue
        removed.append(Path(entry.path))
    return removed


def _is_running(pid: int) -> bool:
    """Whether process ``pid`` exists (signal 0 only checks; on Windows it would kill)."""
    if os.name == "nt":
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # EPERM: running, as another user
        return True
    return True


class AtomicOutput:
    """The output file, replaced only when complete; a context manager.

    Entering removes stale partial files and creates this run's partial file (so
    an unwritable directory fails before the data is read); :meth:`write`
    writes and renames it over the target; leaving without a write removes it.
    """

    def __init__(self, output: Target) -> None:
        self.output = output
        self.partial: Path | None = None
        self.written = False

    def __enter__(self) -> AtomicOutput:
        """Clean up stale partials and create ours, before any input is read."""
        if self.output.in_place:
            return self
        path = self.output.path
        assert path is not None
        remove_stale_partials(path)
        partial = partial_path(path, os.getpid())
        try:
            # 0o666 less the umask, as a plain open() makes it; O_EXCL: never through a link.
            descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        except OSError as error:
            raise self._error(error) from None
        self.partial = partial
        os.close(descriptor)
        return self

    def write(self, columns: dict[str, np.ndarray]) -> None:
        """Write one row per issue, then move the file into place."""
        try:
            if self.output.path is None:
                _write_stdout(self.output.format, columns)
            elif self.partial is None:
                _write_file(self.output.path, self.output, columns)
            else:
                _write_file(self.partial, self.output, columns)
                _keep_mode(self.output.path, self.partial)
                os.replace(self.partial, self.output.path)
        except OSError as error:
            if self.output.path is None:
                raise  # stdout: a closed pipe is handled by main
            raise self._error(error) from None
        self.written = True

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        """Remove the partial file unless it was moved into place (any exit, any exception)."""
        if self.partial is not None and not self.written:
            try:
                os.unlink(self.partial)
            except OSError:
                pass

    def _error(self, error: OSError) -> OutputError:
        """The OSError as the user's output path shows it (not the partial file's)."""
        detail = error.strerror or str(error)
        if self.partial is not None:
            detail = detail.replace(os.fspath(self.partial), self.output.given)
        return OutputError(self.output.given, detail)


def _keep_mode(old: Path, new: Path) -> None:
    """Give ``new`` the permissions of the file it replaces, as writing into it would keep."""
    try:
        os.chmod(new, stat.S_IMODE(os.stat(old).st_mode))
    except FileNotFoundError:
        pass


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
