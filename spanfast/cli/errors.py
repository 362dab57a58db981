"""What can go wrong on the command line, and the one place that reports it.

Every failure a user can cause ends as one line on stderr,
``spanfast <command>: <where>: <what>``, and an exit status; no traceback.
Where an input mistake is comes from the attributes of
:class:`spanfast.errors.InvalidInputError` (``field``, ``sentence``, ``token``,
``file``, ``row``), turned here into the file, column and row the user sees.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from typing import Any

# Exit statuses, as documented in `spanfast --help` and the README.
EXIT_OK = 0
EXIT_ISSUES_FOUND = 1  # only with --fail-on-issues
EXIT_BAD_INPUT = 2  # usage errors, unreadable or malformed input, unwritable output
EXIT_BROKEN_PIPE = 128 + 13  # as git and coreutils, killed by SIGPIPE
EXIT_INTERRUPTED = 128 + 2  # Ctrl-C
EXIT_TERMINATED = 128 + 15  # SIGTERM


class UsageError(Exception):
    """A command line the parser rejected; ``prog`` is the (sub)command whose help to see."""

    def __init__(self, prog: str, message: str) -> None:
        super().__init__(message)
        self.prog = prog

    def __str__(self) -> str:
        return f"{self.prog}: error: {self.args[0]} (see '{self.prog} --help')"


class CommandError(Exception):
    """A failure shown as one line: ``<path>: [column 'c'[, row r]: ]<detail>``."""

    def __init__(
        self, path: Any, detail: str, *, column: str | None = None, row: int | None = None
    ) -> None:
        where = [os.fspath(path)]
        if column is not None:
            where.append(f"column {column!r}" + (f", row {row}" if row is not None else ""))
        elif row is not None:
            where.append(f"row {row}")
        super().__init__(": ".join(where) + ": " + " ".join(str(detail).split()))


class InputError(CommandError):
    """Bad input, named by file, column and row where known."""


class OutputError(CommandError):
    """The output cannot be written; names the path the user gave, never a temporary file."""


def report(command: str, error: BaseException) -> int:
    """Print ``error`` as the one line of a failed ``spanfast <command>``; its exit status."""
    if isinstance(error, UsageError):
        line = str(error)
    elif isinstance(error, OSError):  # not anticipated by a check: name the file it names
        where = f"{error.filename}: " if error.filename else ""
        line = f"spanfast {command}: {where}{error.strerror or error}"
    else:
        line = f"spanfast {command}: {error}"
    # One line, whatever the message: pyarrow's span several ("...\nDeserializing ...").
    print(one_line(line), file=sys.stderr)
    return EXIT_BAD_INPUT


def one_line(text: str) -> str:
    """``text``'s non-blank lines joined by "; " (what a command prints is one line)."""
    return "; ".join(part.strip() for part in text.splitlines() if part.strip())


def located(
    error: Exception,
    *,
    files: Sequence[Any],
    columns: Any,
    column: str | None = None,
    row_counts: Sequence[int] | None = None,
    directory: Any = None,
) -> InputError:
    """An InputError naming the file, column and row of a spanfast input error.

    ``files`` are the files read, in order. The error's ``sentence`` is global (counted
    from the first row of the first file); its ``file`` and ``row`` (the row within
    that file) say where it is, as spanfast's Parquet readers set them. An error without
    them is placed by ``row_counts``, the files' rows, when given. ``column`` is the
    column being read when the caller knows it; otherwise the error's ``field`` names
    it (``labels``/``pred_probs``/``tokens``, or a column name).
    """
    field, sentence = getattr(error, "field", None), getattr(error, "sentence", None)
    if column is None:
        by_field = {"labels": columns.labels, "pred_probs": columns.probs, "tokens": columns.tokens}
        column = by_field.get(field, field if field in columns.names else None)

    detail = str(error)
    path = getattr(error, "file", None)
    if path is not None and detail.startswith(f"{path}: "):
        detail = detail[len(f"{path}: ") :]  # the line names the file once, in front
    row = getattr(error, "row", None)
    if path is None and sentence is not None and row_counts is not None and len(files) > 1:
        ends = list(_running_sum(row_counts))
        number = next((n for n, end in enumerate(ends) if sentence < end), None)
        if number is not None:  # an error not placed in a file where it was raised
            path = files[number]
            row = sentence - (ends[number] - row_counts[number])
    if path is not None and row is not None and sentence is not None and len(files) > 1:
        detail = detail.replace(
            f"sentence {sentence}", f"sentence {sentence} of all {len(files)} files"
        )
    if path is None:
        path = files[0] if len(files) == 1 or directory is None else directory
        row = sentence if row is None else row
    return InputError(path, detail, column=column, row=row)


def _running_sum(counts: Sequence[int]):
    """End row (exclusive) of each file in the global numbering."""
    total = 0
    for count in counts:
        total += int(count)
        yield total
