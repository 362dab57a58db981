"""``spanfast scan``: label issues in a Parquet, JSON Lines or ``.npz`` file, printed or written.

The order of the work is the safety argument: the command line and the
output path are checked, and the output's partial file created, before any
input is read, so a mistake costs nothing and a failure keeps the old output.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import os
import sys
from pathlib import Path
from typing import Any

import numpy as np

from spanfast.options import DEFAULT_TEMPERATURE, FILTER_BY, RANK_BY, TIES

from . import readers, writers
from .errors import EXIT_ISSUES_FOUND, EXIT_OK, UsageError, located
from .options import add_no_color, non_negative_int, positive_int, use_color
from .progress import progress_bar
from .spans import add_span_arguments, run_spans

NAME = "scan"

DEFAULT_TOP = 20

EPILOG = (
    "INPUT formats: .parquet or .pq (a file, or a directory of them in any layout: nested, "
    "Hive-partitioned split=train/...; files in sorted relative-path order, then row order; "
    "names starting with . or _ skipped; list columns); .jsonl or .ndjson (one JSON object "
    "per line = one sentence; also compressed .gz, .bz2, .zst; '-' reads stdin); .npz "
    "(for each column COL either COL with the values of all tokens back to back "
    "plus COL_offsets, int, length n_sentences + 1; or COL as a 2-D/3-D array of "
    "equally long sentences; or COL as an object array of per-sentence arrays, "
    "which NumPy stores pickled: needs --allow-pickle). Rows are numbered from 0. "
    "--out never overwrites an input file (nor one linked to it) and writes through a "
    "temporary file, so a failed or interrupted run keeps the previous output. "
    "Exit status: 0 success; 1 issues found with --fail-on-issues; 2 bad input, "
    "unwritable output or usage error (one line on stderr); 130 interrupted (Ctrl-C); "
    "141 output pipe closed (as git and coreutils); 143 terminated (SIGTERM)."
)


def add_parser(commands: argparse._SubParsersAction) -> None:
    """Add ``spanfast scan`` to the sub-commands."""
    scan = commands.add_parser(
        NAME,
        help="find label issues in a Parquet, JSON Lines or .npz file",
        description=(
            "Find label issues in a dataset with one row per sentence: a column of "
            "per-token labels and a column of per-token predicted probabilities (one "
            "probability per token for span classification, a list of K class "
            "probabilities per token for token classification; detected from the data). "
            "Without --out, print the top issues; with --out, write them to a file."
        ),
        epilog=EPILOG,
    )
    scan.add_argument(
        "input",
        metavar="INPUT",
        help="a .parquet file or directory, .jsonl (or '-' for stdin) or .npz",
    )
    scan.add_argument(
        "--format",
        choices=tuple(readers.FORMAT_NAMES),
        help="read INPUT as parquet, jsonl or npz whatever its extension",
    )
    scan.add_argument("--labels", required=True, metavar="COL", help="column of per-token labels")
    scan.add_argument(
        "--probs", required=True, metavar="COL", help="column of per-token predicted probabilities"
    )
    scan.add_argument(
        "--tokens",
        metavar="COL",
        help="column of per-token text: shown with each issue, written as token_text",
    )
    add_span_arguments(scan)
    scan.add_argument(
        "--id",
        action="append",
        default=[],
        metavar="COL",
        help="a column identifying the row (repeatable), carried unchanged into every output "
        "row and shown with each printed issue; a null id is an error, duplicates are "
        "carried as they are; a Hive partition key (split) of a directory is a column too. "
        "A directory input also gives the columns file (path relative to the directory) and "
        "row_in_file",
    )
    scan.add_argument(
        "--sentences",
        action="store_true",
        help="write (or print) one row per sentence instead of per issue: sentence, score, "
        "n_issues and the id columns",
    )
    scan.add_argument(
        "--order",
        choices=("rank", "position"),
        default="rank",
        help="--sentences: lowest sentence score first (rank, default) or in dataset order",
    )
    scan.add_argument(
        "--summary",
        action="store_true",
        help="also print the number of issues per (given label, predicted label) pair, most "
        "frequent first (common_label_issues' counts summed over tokens); on stderr with "
        "--out -",
    )
    scan.add_argument(
        "--token-score-method",
        choices=RANK_BY,
        default="self_confidence",
        metavar="METHOD",
        help="token score pooled into sentence scores, as get_label_quality_scores' "
        "token_score_method (default: self_confidence)",
    )
    scan.add_argument(
        "--sentence-score-method",
        choices=("min", "softmin"),
        default="min",
        help="how token scores pool into a sentence score (default: min)",
    )
    scan.add_argument(
        "--temperature",
        type=float,
        default=DEFAULT_TEMPERATURE,
        help=f"softmin temperature (default: {DEFAULT_TEMPERATURE})",
    )
    scan.add_argument(
        "--out",
        metavar="FILE",
        help="write one row per issue to FILE (.parquet, .csv or .jsonl) instead of printing; "
        "'-' writes JSON Lines (or --out-format csv) to stdout",
    )
    scan.add_argument(
        "--out-format",
        choices=writers.OUTPUT_FORMATS,
        metavar="FORMAT",
        help="format of --out: jsonl, csv or parquet (default: from FILE's extension; jsonl "
        "for '-')",
    )
    scan.add_argument(
        "--top",
        type=non_negative_int,
        metavar="N",
        help=(
            f"number of issues, most likely mislabeled first: printed (default: {DEFAULT_TOP}) "
            "or, with --out, written (default: all)"
        ),
    )
    scan.add_argument(
        "--filter-by",
        choices=FILTER_BY,
        default="prune_by_noise_rate",
        metavar="METHOD",
        help="how issues are found, as cleanlab's filter_by: "
        + ", ".join(FILTER_BY)
        + " (default: prune_by_noise_rate)",
    )
    scan.add_argument(
        "--rank-by",
        choices=RANK_BY,
        default="self_confidence",
        metavar="METHOD",
        help="label quality score that ranks the issues, as cleanlab's "
        "return_indices_ranked_by: " + ", ".join(RANK_BY) + " (default: self_confidence)",
    )
    scan.add_argument(
        "--ties",
        choices=TIES,
        default="position",
        help="how equal scores are ordered: by position (default), or as NumPy's argsort "
        "orders them in cleanlab (cleanlab 2.9.0's answer exactly; keeps the whole "
        "dataset in memory)",
    )
    scan.add_argument(
        "--low-memory",
        action="store_true",
        help="cleanlab's low_memory=True (find_label_issues_batched): thresholds averaged "
        "over batches of 10,000 tokens, issues in position order; --filter-by is unused",
    )
    scan.add_argument(
        "--fail-on-issues",
        action="store_true",
        help="exit with status 1 when any label issue is found (0 when none), e.g. in CI",
    )
    scan.add_argument(
        "--batch-size",
        type=positive_int,
        metavar="ROWS",
        help="Parquet input: sentences read per batch (default: spanfast.streaming's)",
    )
    scan.add_argument(
        "--dask",
        metavar="local[:N]|tcp://HOST:PORT",
        help="Parquet input: run on Dask, a LocalCluster of N worker processes (default 2) "
        "or an existing scheduler; the same output (needs spanfast[dask])",
    )
    scan.add_argument(
        "--allow-pickle",
        action="store_true",
        help=".npz input: load object arrays, which are pickled (only for files you trust)",
    )
    scan.add_argument(
        "--html",
        metavar="FILE.html",
        help="also write the HTML report of the issues to FILE.html (Parquet input is then "
        "read whole)",
    )
    add_no_color(scan)
    scan.set_defaults(run=run, parser=scan)


def run(args: argparse.Namespace) -> int:
    """Run ``spanfast scan``; its exit status (errors propagate to main's reporter)."""
    if args.out_format is not None and args.out is None:
        raise UsageError(f"spanfast {NAME}", "--out-format needs --out")
    if args.sentences and args.html is not None:
        raise UsageError(f"spanfast {NAME}", "--sentences and --html: run them separately")
    input_path = Path(args.input)
    class_names = args.class_names or readers.parquet_class_names(input_path, args.format)
    columns = readers.Columns(
        args.labels, args.probs, args.tokens, tuple(args.id), class_names, args.task
    )
    if args.spans:
        return run_spans(input_path, columns, args)
    kind, files = readers.input_files(input_path, args.format)
    directory = input_path if input_path.is_dir() else None
    output = readers.output_target(args.out, args.out_format, files, directory)
    if args.dask is not None:
        _check_dask(kind, files, directory, columns, args)

    html_output = None
    if args.html is not None:
        from .report import output_target

        html_output = output_target(args.html, "html", files, directory)
    with writers.AtomicOutput(output) if output else contextlib.nullcontext() as destination:
        issues, data, row_counts = _find(kind, files, directory, columns, args)
        if html_output is not None:
            from .report import write_report

            if data is None:  # streamed: the report needs every sentence
                path, raw = readers.read_whole(
                    kind, files, directory, columns, allow_pickle=args.allow_pickle
                )
                data = readers.checked_columns(path, raw, columns)
            write_report(html_output, issues, data, args, NAME)
        if destination is not None:
            _write(destination, issues, args)
        elif args.sentences:
            _show_sentences(issues, args)
        else:
            _show(issues, data, files, row_counts, columns, args)
        if args.summary:
            _summary(
                issues, sys.stderr if output is not None and output.path is None else sys.stdout
            )
    return EXIT_ISSUES_FOUND if args.fail_on_issues and len(issues) else EXIT_OK


def _find(
    kind: str, files: list[Path], directory: Path | None, columns: readers.Columns, args: Any
) -> tuple[Any, dict[str, Any] | None, np.ndarray | None]:
    """(issues, the data read whole or None, Parquet row counts per file or None)."""
    from spanfast.errors import InvalidInputError, InvalidOptionError

    if _streamed(kind, files, columns):
        listing = readers.parquet_listing(directory or files[0], files)
        row_counts = readers.parquet_row_counts(files, columns, listing)
        with progress_bar(int(row_counts.sum())) as progress:
            try:
                issues = _find_in_parquet(files, directory, columns, args, progress)
            except (InvalidInputError, InvalidOptionError) as error:
                raise located(
                    error,
                    files=files,
                    columns=columns,
                    row_counts=row_counts.tolist(),
                    directory=directory,
                ) from None
        return issues, None, row_counts
    path, raw = readers.read_whole(kind, files, directory, columns, allow_pickle=args.allow_pickle)
    data = readers.checked_columns(path, raw, columns)
    try:
        issues = _find_in_memory(data, args)
    except (InvalidInputError, InvalidOptionError) as error:
        raise located(error, files=[path], columns=columns) from None
    if directory is not None:  # as streamed: the file and the row within it
        issues = _with_file_and_row(issues, readers.parquet_listing(directory, files), columns)
    return issues, data, None


def _with_file_and_row(issues: Any, listing: Any, columns: readers.Columns) -> Any:
    """The issues with the id columns ``file`` and ``row_in_file`` of a directory's rows."""
    from spanfast._records import file_and_row

    counts = readers.parquet_row_counts([Path(f) for f in listing.files], columns, listing)
    parts = [file_and_row(name, int(n), 0) for name, n in zip(listing.relative, counts)]
    added = {key: np.concatenate([part[key] for part in parts]) for key in parts[0]}
    return dataclasses.replace(issues, sentence_ids={**(issues.sentence_ids or {}), **added})


def _streamed(kind: str, files: list[Path], columns: readers.Columns) -> bool:
    """Parquet is streamed, except tag strings (read whole: spanfast.streaming takes class
    ids only)."""
    if kind != ".parquet":
        return False
    readers.require_pyarrow(files[0], "reading .parquet")
    return not readers.parquet_tags(files, columns)


def _check_dask(
    kind: str, files: list[Path], directory: Path | None, columns: readers.Columns, args: Any
) -> None:
    """--dask runs the streamed Parquet scan on a cluster; refuse what it would not run."""
    prog = f"spanfast {NAME}"
    if kind != ".parquet":
        raise UsageError(prog, f"--dask reads Parquet input; {args.input} is {kind[1:]}")
    if not _streamed(kind, files, columns):
        raise UsageError(
            prog, "--dask: tag-string labels are read whole, not on Dask; run without --dask"
        )
    keys = readers.parquet_listing(directory or files[0], files).partition_types
    partition_ids = [name for name in columns.ids if name in keys]
    if partition_ids:
        raise UsageError(
            prog,
            f"--dask reads the columns stored in the files; --id {partition_ids[0]} is a "
            "Hive partition key of the directory: run without --dask",
        )


def _find_in_parquet(
    files: list[Path], directory: Path | None, columns: readers.Columns, args: Any, progress: Any
) -> Any:
    """Label issues of Parquet files, streamed in batches by spanfast.streaming."""
    from spanfast.streaming import find_label_issues_parquet

    if getattr(args, "dask", None):  # one task per file on the cluster; the same issues
        from spanfast.cli._dask import find_on_dask

        return find_on_dask(args.dask, files, directory, columns, _options(args), progress)
    options = {} if args.batch_size is None else {"batch_size": args.batch_size}
    return find_label_issues_parquet(
        # a directory as such: its file column is then relative to it
        os.fspath(directory) if directory is not None else [os.fspath(path) for path in files],
        labels=columns.labels,
        probs=columns.probs,
        tokens=columns.tokens,
        id=list(columns.ids),
        file_and_row=directory is not None,
        progress=progress,
        **_options(args),
        **options,
    )


def _options(args: Any) -> dict[str, Any]:
    """The options of find_issues that the command line sets."""
    return {
        "filter_by": args.filter_by,
        "return_indices_ranked_by": args.rank_by,
        "ties": args.ties,
        "low_memory": args.low_memory,
        "token_score_method": args.token_score_method,
        "sentence_score_method": args.sentence_score_method,
        "temperature": args.temperature,
        "task": args.task,
    }


def _find_in_memory(data: dict[str, Any], args: Any) -> Any:
    """Label issues of checked data, with the token text of each when tokens were given."""
    from spanfast.results import find_issues

    issues = find_issues(data["labels"], data["probs"], id=data["ids"] or None, **_options(args))
    if data["tokens"] is not None:
        tokens = data["tokens"]
        text = tokens.values[tokens.offsets[issues.sentence] + issues.token]
        issues = dataclasses.replace(issues, token_text=np.asarray(text, dtype=object))
    return issues


def _issue_columns(issues: Any, top: int | None) -> dict[str, np.ndarray]:
    """The issue columns, the first ``top`` rows when given."""
    columns = issues.to_dict()
    if top is not None:
        columns = {name: values[:top] for name, values in columns.items()}
    return columns


def _sentence_columns(issues: Any, top: int | None, order: str) -> dict[str, np.ndarray]:
    """One row per sentence, the first ``top`` when given."""
    columns = issues.sentences(order)
    if top is not None:
        columns = {name: values[:top] for name, values in columns.items()}
    return columns


def _write(destination: writers.AtomicOutput, issues: Any, args: Any) -> None:
    """Write the issues (or sentences) to --out, and say so unless they went to stdout."""
    if args.sentences:
        rows = _sentence_columns(issues, args.top, args.order)
        total, what = len(issues.sentence_scores), "sentences"
    else:
        rows, total, what = _issue_columns(issues, args.top), len(issues), "label issues"
    destination.write(rows)
    if destination.output.path is not None:
        print(f"Wrote {len(rows['sentence'])} of {total} {what} to {args.out}")


def _show_sentences(issues: Any, args: Any) -> None:
    """Print the lowest-scoring (or first) sentences as a table."""
    top = DEFAULT_TOP if args.top is None else args.top
    rows = _sentence_columns(issues, top, args.order)
    n_sentences = len(issues.sentence_scores)
    first = "lowest score first" if args.order == "rank" else "in order"
    print(
        f"{n_sentences} sentences, {len(issues)} label issues; top {len(rows['sentence'])}, {first}:"
    )
    if len(rows["sentence"]):
        print()
        cells = [
            [f"{v:.6g}" if name == "score" else str(v) for v in values.tolist()]
            for name, values in rows.items()
        ]
        widths = [max(map(len, [name, *column])) for name, column in zip(rows, cells)]
        for row in [list(rows), *zip(*cells)]:
            print("  ".join(cell.rjust(width) for cell, width in zip(row, widths)))


def _summary(issues: Any, stream: Any) -> None:
    """One line per (given, predicted) label pair with its number of issues."""
    counts = issues.class_counts()
    print(f"{len(issues)} label issues by (given label, predicted label):", file=stream)
    for given, predicted, n in zip(*(values.tolist() for values in counts.values())):
        print(f"  given {given} -> predicted {predicted}: {n}", file=stream)


def _show(
    issues: Any,
    data: dict[str, Any] | None,
    files: list[Path],
    row_counts: np.ndarray | None,
    columns: readers.Columns,
    args: Any,
) -> None:
    """Print the count and the top issues: as display_issues with tokens, else a table."""
    from .display import display_sentences, print_rows_of_sentences, print_table

    top = DEFAULT_TOP if args.top is None else args.top
    issue_columns = _issue_columns(issues, top)
    n_shown = len(issue_columns["sentence"])
    if not n_shown:
        shown = "."
    elif args.low_memory:  # cleanlab's order for it: positions, not scores
        shown = f"; first {n_shown}, in position order:"
    else:
        shown = f"; top {n_shown}, most likely mislabeled first:"
    print(f"{len(issues)} label issues found{shown}")
    if n_shown == 0:
        return
    print()
    # several span classes: display_issues draws one class per call, so a table names each
    if columns.tokens is None or "span_class" in issue_columns:
        print_table(issue_columns, "#" if args.low_memory else "rank")
        return
    rows = np.unique(issue_columns["sentence"])
    if data is not None:
        sentences = {
            key: readers.take_sentences(data[key], rows) for key in ("labels", "probs", "tokens")
        }
    else:
        sentences = {
            key: readers.parquet_rows(files, row_counts, getattr(columns, key), rows)
            for key in ("labels", "probs", "tokens")
        }
    sentences["rows"] = rows
    display_sentences(issue_columns, sentences, color=use_color(args.no_color, sys.stdout))
    print_rows_of_sentences(issue_columns)
