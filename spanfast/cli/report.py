"""``spanfast report``: the HTML report of a dataset's label issues (also ``scan --html``).

The data is read whole (JSON Lines, ``.npz`` or Parquet), the issues found as
``scan`` finds them, and the page written through the atomic writer; the
output is checked, and refused if it is an input, before anything is read.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
from pathlib import Path
from typing import Any

from spanfast.options import FILTER_BY, RANK_BY

from . import readers, writers
from .errors import EXIT_OK, InputError, OutputError

NAME = "report"


def add_data_arguments(parser: argparse.ArgumentParser, *, tokens_required: bool) -> None:
    """INPUT, the columns, class names and the options of the search (shared with export)."""
    parser.add_argument(
        "input", metavar="INPUT", help="a .parquet file or directory, .jsonl or .npz"
    )
    parser.add_argument("--labels", required=True, metavar="COL", help="column of per-token labels")
    parser.add_argument(
        "--probs", required=True, metavar="COL", help="column of per-token predicted probabilities"
    )
    parser.add_argument(
        "--tokens", required=tokens_required, metavar="COL", help="column of per-token text"
    )
    parser.add_argument(
        "--class-names",
        metavar="NAMES",
        help="comma-separated class names, class 0 first (BIO tags such as O,B-PER,I-PER are "
        "shown as entities); default O,SPAN for span data, 0..K-1 for token data",
    )
    parser.add_argument(
        "--filter-by", choices=FILTER_BY, default="prune_by_noise_rate", metavar="METHOD"
    )
    parser.add_argument("--rank-by", choices=RANK_BY, default="self_confidence", metavar="METHOD")
    parser.set_defaults(ties="position")


def add_parser(commands: argparse._SubParsersAction) -> None:
    """Add ``spanfast report`` to the sub-commands."""
    report = commands.add_parser(
        NAME,
        help="write a self-contained HTML report of the label issues",
        description=(
            "Find label issues in a dataset (as 'spanfast scan' does) and write one "
            "self-contained HTML page: what was run, issue counts per class, the distribution "
            "of sentence scores, and one card per flagged sentence, worst first, with the given "
            "and predicted spans. Opens from disk; needs no network."
        ),
        epilog="Exit status: 0 success; 2 bad input, unwritable output or usage error.",
    )
    add_data_arguments(report, tokens_required=False)
    report.add_argument("--out", required=True, metavar="FILE.html", help="the page to write")
    report.add_argument("--title", help="the page title")
    report.add_argument(
        "--spans",
        action="store_true",
        help="show entity-level issues (missed, spurious, boundary, type, boundary+type, "
        "malformed), as spanfast.find_span_issues finds them, instead of token issues; token "
        "data needs --class-names of a tag scheme",
    )
    report.set_defaults(run=run, parser=report)


def output_target(out: str, form: str, files: list[Path], directory: Path | None) -> writers.Target:
    """A checked text output, refused when it is one of the input files."""
    output = dataclasses.replace(writers.target(out, "jsonl"), format=form)
    writers.refuse_inputs(output, files, directory)
    return output


def class_names(args: Any) -> list[str] | None:
    """--class-names as a list."""
    text = getattr(args, "class_names", None)
    return None if not text else [name.strip() for name in text.split(",")]


def read_whole(input_path: Path, columns: readers.Columns, args: Any) -> dict[str, Any]:
    """Every column of INPUT, converted and checked (Parquet read whole too)."""
    kind, files = readers.input_files(input_path)
    if kind == ".parquet":
        readers.require_pyarrow(files[0], "reading .parquet")
        import pyarrow as pa
        import pyarrow.parquet as pq

        readers.parquet_row_counts(files, columns)  # every file is Parquet with the columns
        tables = [pq.read_table(path, columns=columns.names) for path in files]
        table = pa.concat_tables(tables)
        raw = {name: table.column(name) for name in columns.names}
        return readers.checked_columns(files[0] if len(files) == 1 else input_path, raw, columns)
    if kind == ".jsonl":
        raw = readers.read_jsonl(files[0], columns)
    else:
        raw = readers.read_npz(files[0], columns, allow_pickle=getattr(args, "allow_pickle", False))
    return readers.checked_columns(files[0], raw, columns)


def find(data: dict[str, Any], args: Any, path: Path) -> Any:
    """The issues of checked data, as scan finds them (span-level ones with --spans)."""
    from spanfast.errors import InvalidInputError, InvalidOptionError
    from spanfast.results import find_issues

    try:
        if getattr(args, "spans", False):
            from spanfast.spans import find_span_issues

            return find_span_issues(
                data["labels"],
                data["probs"],
                class_names=class_names(args),
                filter_by=args.filter_by,
            )
        return find_issues(
            data["labels"],
            data["probs"],
            filter_by=args.filter_by,
            return_indices_ranked_by=args.rank_by,
            ties=args.ties,
        )
    except (InvalidInputError, InvalidOptionError) as error:
        raise InputError(path, str(error)) from None


def run_info(args: Any, command: str) -> dict[str, Any]:
    """What was run, for the top of the page."""
    return {
        "command": f"spanfast {command}",
        "input": os.fspath(args.input),
        "columns": f"labels={args.labels}, probs={args.probs}, tokens={args.tokens}",
        "options": f"filter_by={args.filter_by}, rank_by={args.rank_by}",
    }


def write_report(
    output: writers.Target, issues: Any, data: dict[str, Any], args: Any, command: str
) -> None:
    """Write the page for ``issues`` of ``data`` to ``output`` atomically."""
    from spanfast.errors import InvalidInputError
    from spanfast.report import to_html

    tokens = data["tokens"]
    if tokens is None:  # no text column: the tokens are shown by position
        from spanfast.ragged import Ragged

        labels = data["labels"]
        positions = _positions(labels.offsets)
        tokens = Ragged(positions.astype(str).astype(object), labels.offsets)
    with writers.AtomicOutput(output) as destination:
        try:
            page = to_html(
                issues,
                tokens,
                labels=data["labels"],
                pred_probs=data["probs"],
                class_names=class_names(args),
                title=getattr(args, "title", None),
                run_info=run_info(args, command),
            )
        except InvalidInputError as error:
            raise InputError(args.input, str(error)) from None
        destination.write_text(lambda stream: stream.write(page))


def _positions(offsets: Any) -> Any:
    """Each token's index within its sentence."""
    import numpy as np

    offsets = np.asarray(offsets, np.int64)
    lengths = np.diff(offsets)
    return np.arange(offsets[-1]) - np.repeat(offsets[:-1], lengths)


def run(args: argparse.Namespace) -> int:
    """Run ``spanfast report``; its exit status."""
    columns = readers.Columns(args.labels, args.probs, args.tokens)
    input_path = Path(args.input)
    kind, files = readers.input_files(input_path)
    if not args.out.lower().endswith((".html", ".htm")) and args.out != writers.STDOUT:
        raise OutputError(args.out, "expected a .html file")
    output = output_target(args.out, "html", files, input_path if input_path.is_dir() else None)
    data = read_whole(input_path, columns, args)
    issues = find(data, args, input_path)
    write_report(output, issues, data, args, NAME)
    if output.path is not None:
        n_sentences = len(set(issues.sentence.tolist()))
        what = "span issues" if args.spans else "label issues"
        print(f"Wrote the report of {len(issues)} {what} in {n_sentences} sentences to {args.out}")
    return EXIT_OK
