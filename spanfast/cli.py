"""The ``spanfast`` command line.

``spanfast demo`` finds the label issues in the example dataset bundled with
spanfast and shows how many of its planted annotation mistakes were found.
``spanfast scan`` finds the label issues in a Parquet, JSON Lines or ``.npz``
file and prints the worst of them or writes them all to a file.
Each subcommand is a parser built by one ``_add_<name>_command`` function and
run by one ``_run_<name>`` function, so new subcommands slot in beside it.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import dataclasses
import io
import json
import os
import re
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, NoReturn, TextIO

import numpy as np

__all__ = ["main"]

_ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;]*m")


class _UsageError(Exception):
    """A command line that the parser rejected; carries the one-line message."""


class _Parser(argparse.ArgumentParser):
    """ArgumentParser that reports usage errors to ``main`` instead of exiting."""

    def error(self, message: str) -> NoReturn:
        raise _UsageError(f"{self.prog}: error: {message}")


def _non_negative_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a number >= 0, got {value}")
    return value


def _add_demo_command(commands: argparse._SubParsersAction) -> None:
    demo = commands.add_parser(
        "demo",
        help="find label issues in the bundled example dataset",
        description=(
            "Find label issues in the example dataset bundled with spanfast (synthetic "
            "English sentences, span = person names, with annotation mistakes planted on "
            "purpose) and report how many of the planted mistakes were found."
        ),
    )
    demo.add_argument(
        "--top",
        type=_non_negative_int,
        default=10,
        metavar="N",
        help="number of issues to display, most likely mislabeled first (default: 10)",
    )
    demo.add_argument(
        "--no-color", action="store_true", help="print the issues without terminal colours"
    )
    demo.set_defaults(run=_run_demo)


def _build_parser() -> _Parser:
    parser = _Parser(
        prog="spanfast",
        description="Find mislabeled tokens in span and token classification data.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    _add_demo_command(commands)
    _add_scan_command(commands)
    return parser


def _percent(part: int, whole: int) -> str:
    return f"{100.0 * part / whole:.1f}%" if whole else "n/a"


def _run_demo(args: argparse.Namespace) -> int:
    # Imported here so that `spanfast --help` and usage errors do not load Numba.
    from spanfast import span_classification
    from spanfast.data import load_example

    example = load_example()

    started = time.perf_counter()
    issues = span_classification.find_label_issues(example.labels, example.pred_probs)
    first_seconds = time.perf_counter() - started
    started = time.perf_counter()
    span_classification.find_label_issues(example.labels, example.pred_probs)
    second_seconds = time.perf_counter() - started

    sentence_scores, _ = span_classification.get_label_quality_scores(
        example.labels, example.pred_probs
    )

    flagged = {(int(i), int(j)) for i, j in issues}
    n_found = len(flagged.intersection(example.planted))
    n_planted = len(example.planted)
    worst = sorted(range(len(sentence_scores)), key=lambda i: (sentence_scores[i], i))[:3]

    print(
        f"Example data: {example.n_sentences} synthetic English sentences, "
        f"{example.n_tokens:,} tokens; span class = person names."
    )
    print(
        f"{n_planted} token labels ({_percent(n_planted, example.n_tokens)}) were corrupted "
        "on purpose (planted mistakes)."
    )
    print(f"\nfind_label_issues flagged {len(issues)} tokens")
    print(
        f"  planted mistakes found: {n_found} of {n_planted} (recall {_percent(n_found, n_planted)})"
    )
    print(
        f"  flagged tokens that are planted: {n_found} of {len(issues)} "
        f"(precision {_percent(n_found, len(issues))})"
    )
    print(
        f"  wall time: first call {first_seconds:.3f} s (includes Numba JIT compilation or "
        f"loading it from the cache), second call {second_seconds:.3f} s"
    )
    print(
        "get_label_quality_scores: lowest sentence scores "
        + ", ".join(f"#{i} {sentence_scores[i]:.4f}" for i in worst)
    )

    shown = min(args.top, len(issues))
    if shown == 0:
        return 0
    print(f"\nTop {shown} issues, most likely mislabeled first (O = outside a span):\n")
    display = io.StringIO() if args.no_color else None
    with contextlib.redirect_stdout(display) if display else contextlib.nullcontext():
        span_classification.display_issues(
            issues,
            example.tokens,
            labels=example.labels,
            pred_probs=example.pred_probs,
            class_names=["O", "SPAN"],
            top=shown,
        )
    if display is not None:
        print(_ANSI_ESCAPE.sub("", display.getvalue()), end="")
    return 0


# ---------------------------------------------------------------------------------------
# spanfast scan

# The choices of core.FILTER_BY and core.RANK_BY, repeated so that `spanfast --help` and
# usage errors do not import Numba (a test checks that they agree).
_FILTER_BY = (
    "low_normalized_margin",
    "low_self_confidence",
    "prune_by_noise_rate",
    "prune_by_class",
    "both",
    "confident_learning",
    "predicted_neq_given",
)
_RANK_BY = ("self_confidence", "normalized_margin", "confidence_weighted_entropy")
_INPUT_FORMATS = (".parquet", ".jsonl", ".npz")
_OUTPUT_FORMATS = (".parquet", ".csv", ".jsonl")
_DEFAULT_TOP = 20


def _positive_int(text: str) -> int:
    value = _non_negative_int(text)
    if value == 0:
        raise argparse.ArgumentTypeError("expected a number >= 1, got 0")
    return value


def _add_scan_command(commands: argparse._SubParsersAction) -> None:
    scan = commands.add_parser(
        "scan",
        help="find label issues in a Parquet, JSON Lines or .npz file",
        description=(
            "Find label issues in a dataset with one row per sentence: a column of "
            "per-token labels and a column of per-token predicted probabilities (one "
            "probability per token for span classification, a list of K class "
            "probabilities per token for token classification; detected from the data). "
            "Without --out, print the top issues; with --out, write them to a file."
        ),
        epilog=(
            "INPUT formats: .parquet (a file, or a directory of .parquet files read in name "
            "order; list columns); .jsonl (one JSON object per line = one sentence); .npz "
            "(for each column COL either COL with the values of all tokens back to back "
            "plus COL_offsets, int, length n_sentences + 1; or COL as a 2-D/3-D array of "
            "equally long sentences; or COL as an object array of per-sentence arrays, "
            "which NumPy stores pickled: needs --allow-pickle). Rows are numbered from 0. "
            "Exit status: 0 on success, 2 on bad input or usage (one line on stderr)."
        ),
    )
    scan.add_argument("input", metavar="INPUT", help="a .parquet file or directory, .jsonl or .npz")
    scan.add_argument("--labels", required=True, metavar="COL", help="column of per-token labels")
    scan.add_argument(
        "--probs", required=True, metavar="COL", help="column of per-token predicted probabilities"
    )
    scan.add_argument(
        "--tokens",
        metavar="COL",
        help="column of per-token text: shown with each issue, written as token_text",
    )
    scan.add_argument(
        "--out",
        metavar="FILE",
        help="write one row per issue to FILE (.parquet, .csv or .jsonl) instead of printing",
    )
    scan.add_argument(
        "--top",
        type=_non_negative_int,
        metavar="N",
        help=(
            f"number of issues, most likely mislabeled first: printed (default: {_DEFAULT_TOP}) "
            "or, with --out, written (default: all)"
        ),
    )
    scan.add_argument(
        "--filter-by",
        choices=_FILTER_BY,
        default="prune_by_noise_rate",
        metavar="METHOD",
        help="how issues are found, as cleanlab's filter_by: "
        + ", ".join(_FILTER_BY)
        + " (default: prune_by_noise_rate)",
    )
    scan.add_argument(
        "--rank-by",
        choices=_RANK_BY,
        default="self_confidence",
        metavar="METHOD",
        help="label quality score that ranks the issues, as cleanlab's "
        "return_indices_ranked_by: " + ", ".join(_RANK_BY) + " (default: self_confidence)",
    )
    scan.add_argument(
        "--batch-size",
        type=_positive_int,
        metavar="ROWS",
        help="Parquet input: sentences read per batch (default: spanfast.streaming's)",
    )
    scan.add_argument(
        "--allow-pickle",
        action="store_true",
        help=".npz input: load object arrays, which are pickled (only for files you trust)",
    )
    scan.add_argument(
        "--no-color", action="store_true", help="print the issues without terminal colours"
    )
    scan.set_defaults(run=_run_scan)


class _InputError(Exception):
    """Bad input: shown as one line naming the file, the column and the row where known."""

    def __init__(
        self, path: Any, detail: str, *, column: str | None = None, row: int | None = None
    ) -> None:
        where = [os.fspath(path)]
        if column is not None:
            where.append(f"column {column!r}" + (f", row {row}" if row is not None else ""))
        elif row is not None:
            where.append(f"row {row}")
        super().__init__(": ".join(where) + ": " + " ".join(str(detail).split()))


_SENTENCE_NUMBER = re.compile(r"\bsentence (\d+)")


def _located(error: Exception, path: Any, column: str | None, first_row: int = 0) -> _InputError:
    """An _InputError for a spanfast input error, its row taken from the 'sentence i' it names."""
    found = _SENTENCE_NUMBER.search(str(error))
    row = first_row + int(found.group(1)) if found else None
    return _InputError(path, str(error), column=column, row=row)


@dataclasses.dataclass(frozen=True)
class _Columns:
    """The column names given on the command line."""

    labels: str
    probs: str
    tokens: str | None

    @property
    def names(self) -> list[str]:
        return [self.labels, self.probs] + ([self.tokens] if self.tokens else [])


# -- finding the input files -------------------------------------------------------------


def _input_kind(path: Path) -> tuple[str, list[Path]]:
    """(format, files) of INPUT: ``.parquet`` / ``.jsonl`` / ``.npz`` and the files to read."""
    if not path.exists():
        raise _InputError(path, "no such file or directory")
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.suffix == ".parquet" and p.is_file())
        if not files:
            raise _InputError(path, "directory holds no .parquet files")
        return ".parquet", files
    suffix = path.suffix.lower()
    if suffix not in _INPUT_FORMATS:
        raise _InputError(
            path,
            f"unknown input format {suffix or '(no extension)'!r}: expected .parquet (a file or "
            "a directory of them), .jsonl or .npz",
        )
    return suffix, [path]


def _require_pyarrow(path: Any, what: str) -> None:
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        raise _InputError(path, f"{what} needs pyarrow: pip install pyarrow") from None


def _missing_column(path: Any, column: str, available: Sequence[str]) -> _InputError:
    return _InputError(
        path,
        "no such column; the columns are " + ", ".join(map(repr, available)),
        column=column,
    )


# -- reading and checking whole files (JSON Lines, .npz, Parquet without streaming) -----


def _checked_columns(path: Any, raw: dict[str, Any], columns: _Columns) -> dict[str, Any]:
    """Convert and check one file's columns; errors name the file, the column and the row."""
    from spanfast._input.checked import (
        as_labels,
        as_probabilities,
        check_aligned,
        check_label_range,
    )
    from spanfast.errors import InvalidInputError
    from spanfast.io import as_ragged

    def convert(column: str, check: Callable[[Any], Any]) -> Any:
        try:
            return check(as_ragged(raw[column], name=column))
        except InvalidInputError as error:
            raise _located(error, path, column) from None

    labels = convert(columns.labels, as_labels)
    probs = convert(columns.probs, lambda ragged: as_probabilities(ragged, span=None))
    try:
        check_aligned(labels, probs)
    except InvalidInputError as error:
        raise _located(error, path, columns.probs) from None
    span = probs.values.ndim == 1
    try:
        check_label_range(labels, 2 if span else probs.values.shape[1], span=span)
    except InvalidInputError as error:
        raise _located(error, path, columns.labels) from None
    checked = {"labels": labels, "probs": probs, "tokens": None}
    if columns.tokens:
        tokens = convert(columns.tokens, lambda ragged: ragged)
        if tokens.values.ndim != 1:
            raise _InputError(path, "expected one string per token", column=columns.tokens)
        if not np.array_equal(tokens.lengths, labels.lengths):
            row = (
                int(np.flatnonzero(tokens.lengths != labels.lengths)[0])
                if len(tokens) == len(labels)
                else None
            )
            raise _InputError(
                path,
                f"{len(tokens)} sentences, {tokens.n_tokens} tokens but {columns.labels!r} has "
                f"{len(labels)} sentences, {labels.n_tokens} labels"
                if row is None
                else f"{tokens.lengths[row]} tokens but {labels.lengths[row]} labels",
                column=columns.tokens,
                row=row,
            )
        checked["tokens"] = tokens
    return checked


def _read_jsonl(path: Path, columns: _Columns) -> dict[str, Any]:
    _require_pyarrow(path, "reading .jsonl")
    import pyarrow as pa
    import pyarrow.json

    try:
        table = pyarrow.json.read_json(path)
    except pa.ArrowInvalid as error:
        raise _jsonl_error(path, str(error)) from None
    for column in columns.names:
        if column not in table.column_names:
            raise _missing_column(path, column, table.column_names)
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
    return " and ".join(
        "lists of " * (depth - 1) + (f"a list of {kind}s" if depth else f"a {kind}")
        for depth, kind in sorted(leaves)
    )


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not valid JSON")


def _jsonl_error(path: Path, arrow_message: str) -> _InputError:
    """Locate the line pyarrow could not read (its own row number counts from its block)."""
    named = re.search(r"Column\(/([^/)]*)", arrow_message)
    column = named.group(1) if named else None
    first_leaves: set[tuple[int, str]] | None = None
    with open(path, "rb") as lines:
        row = -1
        for line in lines:
            if not line.strip():
                continue
            row += 1
            try:
                record = json.loads(line, parse_constant=_reject_constant)
            except ValueError as error:
                return _InputError(path, f"invalid JSON: {error}", row=row)
            if not isinstance(record, dict):
                return _InputError(
                    path, f"expected a JSON object per line, got {type(record).__name__}", row=row
                )
            if column is None or column not in record:
                continue
            leaves = _json_leaves(record[column])
            if len(leaves) > 1:
                return _InputError(
                    path, f"mixes {_describe_leaves(leaves)}", column=column, row=row
                )
            if leaves and first_leaves is None:
                first_leaves = leaves
            elif leaves and leaves != first_leaves:
                return _InputError(
                    path,
                    f"holds {_describe_leaves(leaves)} where earlier rows hold "
                    f"{_describe_leaves(first_leaves)}",
                    column=column,
                    row=row,
                )
    detail = re.sub(r"\s*in row \d+$", "", arrow_message.strip())
    return _InputError(path, f"cannot read JSON Lines: {detail}", column=column)


def _read_npz(path: Path, columns: _Columns, *, allow_pickle: bool) -> dict[str, Any]:
    from spanfast.errors import InvalidInputError
    from spanfast.ragged import Ragged

    try:
        archive = np.load(path, allow_pickle=allow_pickle)
    except Exception as error:  # not a zip of .npy files: NumPy raises several kinds
        raise _InputError(path, f"cannot read as .npz: {error}") from None
    raw: dict[str, Any] = {}
    with archive:
        if not hasattr(archive, "files"):
            raise _InputError(path, "cannot read as .npz: holds a single array, not named ones")
        for column in columns.names:
            offsets_name = f"{column}_offsets"
            if column not in archive.files:
                raise _missing_column(path, column, archive.files)
            try:
                values = archive[column]
                offsets = archive[offsets_name] if offsets_name in archive.files else None
            except ValueError as error:
                if "allow_pickle" not in str(error):
                    raise _InputError(path, str(error), column=column) from None
                raise _InputError(
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
                raise _located(error, path, column) from None
    return raw


def _read_parquet(path: Path, columns: _Columns) -> dict[str, Any]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(path, columns=columns.names)
    except (pa.ArrowException, OSError) as error:
        raise _InputError(path, f"cannot read as Parquet: {error}") from None
    return {column: table.column(column) for column in columns.names}


def _concatenate(path: Any, parts: list[dict[str, Any]], columns: _Columns) -> dict[str, Any]:
    """One dataset from the checked columns of several files."""
    from spanfast.ragged import Ragged

    if len(parts) == 1:
        return parts[0]
    widths = {part["probs"].values.shape[1:] for part in parts if part["probs"].n_tokens}
    if len(widths) > 1:
        raise _InputError(
            path,
            "files disagree on the probabilities per token: "
            + " vs ".join(str(w[0]) if w else "one (span)" for w in sorted(widths)),
            column=columns.probs,
        )
    joined: dict[str, Any] = {}
    for key in ("labels", "probs", "tokens"):
        if parts[0][key] is None:
            joined[key] = None
            continue
        filled = [part[key] for part in parts if part[key].n_tokens] or [parts[0][key]]
        lengths = np.concatenate([part[key].lengths for part in parts])
        offsets = np.zeros(lengths.shape[0] + 1, np.int64)
        np.cumsum(lengths, out=offsets[1:])
        joined[key] = Ragged(np.concatenate([part.values for part in filled]), offsets)
    return joined


def _find_issues(data: dict[str, Any], args: argparse.Namespace) -> Any:
    from spanfast.results import find_issues

    issues = find_issues(
        data["labels"],
        data["probs"],
        filter_by=args.filter_by,
        return_indices_ranked_by=args.rank_by,
    )
    if data["tokens"] is not None:
        tokens = data["tokens"]
        text = tokens.values[tokens.offsets[issues.sentence] + issues.token]
        issues = dataclasses.replace(issues, token_text=np.asarray(text, dtype=object))
    return issues


# -- Parquet: streamed ------------------------------------------------------------------


class _Progress:
    """A one-line progress report on stderr, redrawn in place at most ten times a second."""

    def __init__(self, stream: TextIO, total_rows: int) -> None:
        self._stream = stream
        self._total = total_rows
        self._shown_at = 0.0
        self._drawn = False
        self._width = 0

    def __call__(self, pass_number: int, n_passes: int, rows_done: int) -> None:
        now = time.monotonic()
        if now - self._shown_at < 0.1 and rows_done < self._total:
            return
        self._shown_at = now
        percent = f" {100 * rows_done / self._total:3.0f}%" if self._total else ""
        passes = f" pass {pass_number}/{n_passes}" if n_passes > 1 else ""
        line = f"spanfast scan:{passes}{percent} ({rows_done:,} of {self._total:,} sentences)"
        # Blank out what is left of a longer previous line.
        self._stream.write("\r" + line.ljust(self._width))
        self._width = len(line)
        self._stream.flush()
        self._drawn = True

    def close(self) -> None:
        if self._drawn:
            self._stream.write("\n")
            self._stream.flush()


def _parquet_row_counts(files: list[Path], columns: _Columns) -> np.ndarray:
    """Rows per file; checks that every file is Parquet and has the columns."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    counts = np.zeros(len(files), np.int64)
    for n, path in enumerate(files):
        try:
            parquet_file = pq.ParquetFile(path)
        except (pa.ArrowException, OSError) as error:
            raise _InputError(path, f"cannot read as Parquet: {error}") from None
        names = parquet_file.schema_arrow.names
        for column in columns.names:
            if column not in names:
                raise _missing_column(path, column, names)
        counts[n] = parquet_file.metadata.num_rows
    return counts


def _find_label_issues_parquet(
    files: list[Path], columns: _Columns, args: argparse.Namespace, progress: Any
) -> Any:
    """Label issues of Parquet files, streamed by spanfast.streaming when it is available."""
    try:
        from spanfast.streaming import find_label_issues_parquet
    except ImportError:  # spanfast.streaming not there yet
        return _find_label_issues_parquet_in_memory(files, columns, args, progress)
    options = {} if args.batch_size is None else {"batch_size": args.batch_size}
    return find_label_issues_parquet(
        [os.fspath(path) for path in files],
        labels=columns.labels,
        probs=columns.probs,
        tokens=columns.tokens,
        filter_by=args.filter_by,
        return_indices_ranked_by=args.rank_by,
        progress=progress,
        **options,
    )


def _find_label_issues_parquet_in_memory(
    files: list[Path], columns: _Columns, args: argparse.Namespace, progress: Any
) -> Any:
    """Stand-in for spanfast.streaming.find_label_issues_parquet: reads every file whole."""
    parts = []
    rows_done = 0
    for path in files:
        part = _checked_columns(path, _read_parquet(path, columns), columns)
        parts.append(part)
        rows_done += len(part["labels"])
        if progress is not None:
            progress(1, 1, rows_done)
    return _find_issues(_concatenate(files[-1], parts, columns), args)


def _locate_in_files(
    error: Exception, files: list[Path], row_counts: np.ndarray, columns: _Columns
) -> _InputError:
    """Name the file, column and row of an error that numbers sentences across all files."""
    message = str(error)
    # spanfast's input errors say which input and sentence; older messages are parsed.
    row = getattr(error, "sentence", None)
    if row is None:
        found = _SENTENCE_NUMBER.search(message)
        row = int(found.group(1)) if found is not None else None
    named = next((path for path in files if os.fspath(path) in message), None)
    if row is not None:
        file_number = int(np.searchsorted(np.cumsum(row_counts), row, side="right"))
        if file_number < len(files) and len(files) > 1:
            named = files[file_number]
            message = re.sub(
                rf"\bsentence {row}\b", f"sentence {row} of all {len(files)} files", message
            )
            row -= int(row_counts[:file_number].sum())
    by_field = {"labels": columns.labels, "pred_probs": columns.probs, "tokens": columns.tokens}
    column = by_field.get(getattr(error, "field", None))
    if column is None:
        names = [columns.probs, columns.tokens, columns.labels]
        column = (
            columns.probs
            if "pred_probs" in message
            else next(
                (name for name in names if name and re.search(rf"\b{re.escape(name)}\b", message)),
                columns.labels if "label" in message.lower() else None,
            )
        )
    path = named if named is not None else files[0] if len(files) == 1 else files[0].parent
    detail = message.replace(f"{os.fspath(named)}: ", "") if named is not None else message
    return _InputError(path, detail, column=column, row=row)


def _parquet_rows(files: list[Path], row_counts: np.ndarray, column: str, rows: np.ndarray) -> Any:
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


# -- output ------------------------------------------------------------------------------


def _issue_columns(issues: Any, top: int | None) -> dict[str, np.ndarray]:
    columns = issues.to_dict()
    if top is not None:
        columns = {name: values[:top] for name, values in columns.items()}
    return columns


def _write_issues(path: Path, columns: dict[str, np.ndarray]) -> None:
    """Write one row per issue, atomically: a failed run leaves no partial file."""
    suffix = path.suffix.lower()
    descriptor, temporary = tempfile.mkstemp(
        dir=path.parent, prefix=f".{path.name}.", suffix=".partial"
    )
    try:
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temporary, 0o666 & ~umask)  # as a plain open() would have created it
        if suffix == ".parquet":
            os.close(descriptor)
            import pyarrow as pa
            import pyarrow.parquet as pq

            table = pa.table(
                {
                    name: pa.array(values.tolist(), pa.string())
                    if values.dtype == object
                    else values
                    for name, values in columns.items()
                }
            )
            pq.write_table(table, temporary)
        else:
            names = list(columns)
            rows = zip(*(values.tolist() for values in columns.values()))
            with open(descriptor, "w", encoding="utf-8", newline="") as stream:
                if suffix == ".csv":
                    writer = csv.writer(stream)
                    writer.writerow(names)
                    writer.writerows(rows)
                else:
                    for row in rows:
                        stream.write(json.dumps(dict(zip(names, row)), ensure_ascii=False) + "\n")
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.close(descriptor)
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def _print_table(columns: dict[str, np.ndarray]) -> None:
    header = ["rank", "sentence", "token", "score", "given_label", "predicted_label"]
    rows = [
        [str(rank), str(i), str(j), f"{score:.6g}", str(given), str(predicted)]
        for rank, (i, j, score, given, predicted) in enumerate(
            zip(
                *(
                    columns[name].tolist()
                    for name in ("sentence", "token", "score", "given_label", "predicted_label")
                )
            ),
            start=1,
        )
    ]
    widths = [max(len(cell) for cell in column) for column in zip(header, *rows)]
    for row in [header, *rows]:
        print("  ".join(cell.rjust(width) for cell, width in zip(row, widths)))


def _take_sentences(ragged: Any, rows: np.ndarray) -> Any:
    """The sentences ``rows`` of a Ragged, as a Ragged."""
    from spanfast.ragged import Ragged

    lengths = ragged.lengths[rows]
    offsets = np.zeros(rows.shape[0] + 1, np.int64)
    np.cumsum(lengths, out=offsets[1:])
    flat = np.repeat(ragged.offsets[rows] - offsets[:-1], lengths) + np.arange(offsets[-1])
    return Ragged(ragged.values[flat], offsets)


def _display(columns: dict[str, np.ndarray], sentences: dict[str, Any], *, color: bool) -> None:
    """display_issues on the few sentences the issues are in (indexed by sentence number)."""
    from spanfast import span_classification
    from spanfast.token_classification import summary

    rows = sentences["rows"].tolist()

    def by_row(ragged: Any, convert: Callable[[np.ndarray], Any]) -> dict[int, Any]:
        return {row: convert(values) for row, values in zip(rows, ragged)}

    probs = sentences["probs"]
    display = (
        span_classification.display_issues if probs.values.ndim == 1 else summary.display_issues
    )
    shown = io.StringIO() if not color else None
    with contextlib.redirect_stdout(shown) if shown else contextlib.nullcontext():
        display(
            list(zip(columns["sentence"].tolist(), columns["token"].tolist())),
            by_row(sentences["tokens"], lambda values: [str(token) for token in values]),
            labels=by_row(sentences["labels"], lambda values: values),
            pred_probs=by_row(probs, lambda values: values),
            top=len(columns["sentence"]),
        )
    if shown is not None:
        print(_ANSI_ESCAPE.sub("", shown.getvalue()), end="")


# -- the command -------------------------------------------------------------------------


@contextlib.contextmanager
def _progress_bar(total_rows: int) -> Iterator[_Progress | None]:
    if not sys.stderr.isatty():
        yield None
        return
    progress = _Progress(sys.stderr, total_rows)
    try:
        yield progress
    finally:
        progress.close()


def _scan(args: argparse.Namespace) -> int:
    from spanfast.errors import InvalidInputError, InvalidOptionError

    columns = _Columns(args.labels, args.probs, args.tokens)
    kind, files = _input_kind(Path(args.input))
    out = Path(args.out) if args.out else None
    if out is not None:
        if out.suffix.lower() not in _OUTPUT_FORMATS:
            raise _InputError(
                out,
                f"unknown output format {out.suffix or '(no extension)'!r}: expected "
                + ", ".join(_OUTPUT_FORMATS),
            )
        if not out.parent.is_dir():
            raise _InputError(out, "the directory to write to does not exist")
        if out.suffix.lower() == ".parquet":
            _require_pyarrow(out, "writing .parquet")

    data = None
    row_counts = None
    try:
        if kind == ".parquet":
            _require_pyarrow(files[0], "reading .parquet")
            row_counts = _parquet_row_counts(files, columns)
            with _progress_bar(int(row_counts.sum())) as progress:
                try:
                    issues = _find_label_issues_parquet(files, columns, args, progress)
                except (InvalidInputError, InvalidOptionError) as error:
                    raise _locate_in_files(error, files, row_counts, columns) from None
        else:
            path = files[0]
            raw = (
                _read_jsonl(path, columns)
                if kind == ".jsonl"
                else _read_npz(path, columns, allow_pickle=args.allow_pickle)
            )
            data = _checked_columns(path, raw, columns)
            issues = _find_issues(data, args)
    except (InvalidInputError, InvalidOptionError) as error:
        raise _InputError(args.input, str(error)) from None

    if out is not None:
        _write_issues(out, _issue_columns(issues, args.top))
        shown = len(issues) if args.top is None else min(args.top, len(issues))
        print(f"Wrote {shown} of {len(issues)} label issues to {out}")
        return 0

    top = _DEFAULT_TOP if args.top is None else args.top
    issue_columns = _issue_columns(issues, top)
    n_shown = len(issue_columns["sentence"])
    print(
        f"{len(issues)} label issues found"
        + (f"; top {n_shown}, most likely mislabeled first:" if n_shown else ".")
    )
    if n_shown == 0:
        return 0
    print()
    if columns.tokens is None:
        _print_table(issue_columns)
        return 0
    rows = np.unique(issue_columns["sentence"])
    if data is not None:
        sentences = {key: _take_sentences(data[key], rows) for key in ("labels", "probs", "tokens")}
    else:
        sentences = {
            key: _parquet_rows(files, row_counts, getattr(columns, key), rows)
            for key in ("labels", "probs", "tokens")
        }
    sentences["rows"] = rows
    _display(issue_columns, sentences, color=not args.no_color and sys.stdout.isatty())
    return 0


def _run_scan(args: argparse.Namespace) -> int:
    try:
        return _scan(args)
    except _InputError as error:
        print(f"spanfast scan: {error}", file=sys.stderr)
        return 2
    except OSError as error:
        where = f"{error.filename}: " if error.filename else ""
        print(f"spanfast scan: {where}{error.strerror or error}", file=sys.stderr)
        return 2


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``spanfast`` command line and return its exit status.

    Parameters
    ----------
    argv : sequence of str, optional
        Arguments after the program name; ``sys.argv[1:]`` when omitted.

    Returns
    -------
    int
        0 on success, 2 on a usage error (after a one-line message on stderr).

    Examples
    --------
    >>> from spanfast.cli import main
    >>> main(["no-such-command"])
    2
    """
    parser = _build_parser()
    try:
        args = parser.parse_args(argv)
    except _UsageError as error:
        print(f"{error} (see 'spanfast --help')", file=sys.stderr)
        return 2
    except SystemExit as exit_request:  # --help prints and asks to exit
        return exit_request.code if isinstance(exit_request.code, int) else 0
    return args.run(args)
