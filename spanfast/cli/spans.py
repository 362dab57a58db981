"""``spanfast scan --spans`` and the options it shares with ``--task``: entity-level issues.

The options are added to ``scan``'s parser here and the run is its own, so
that ``scan.py`` only dispatches: the data are read whole (entities need whole
sentences), :func:`spanfast.find_span_issues` finds the issues, and they are
written through the same atomic outputs or printed with each span marked.
"""

from __future__ import annotations

import argparse
import contextlib
from pathlib import Path
from typing import Any

from . import readers, writers
from .errors import EXIT_ISSUES_FOUND, EXIT_OK, UsageError, located

DEFAULT_TOP = 20


def _class_names(text: str) -> tuple[str, ...]:
    """--class-names O,B-PER,I-PER: the K names, in the order of the probability columns."""
    names = tuple(name.strip() for name in text.split(","))
    if not all(names):
        raise argparse.ArgumentTypeError(f"an empty class name in {text!r}")
    return names


def _scheme(text: str) -> str:
    """--scheme: a known tag scheme, in any case."""
    from spanfast.errors import InvalidInputError
    from spanfast.spans.schemes import check_scheme

    try:
        return str(check_scheme(text))
    except InvalidInputError as error:
        raise argparse.ArgumentTypeError(str(error).replace("scheme=", "")) from None


def add_span_arguments(scan: argparse.ArgumentParser) -> None:
    """Add --task, --spans, --class-names and --scheme to ``spanfast scan``."""
    scan.add_argument(
        "--task",
        choices=("span", "token"),
        help="what 2-D probabilities are: token classification (K classes, the default) or "
        "'span', one independent probability per span class (an issue then names its "
        "span_class); 1-D probabilities are span data",
    )
    scan.add_argument(
        "--spans",
        action="store_true",
        help="report entity-level issues (missed, spurious, boundary, type, boundary+type, "
        "malformed) instead of token issues, as spanfast.find_span_issues: one row per "
        "span with sentence, start, end (exclusive), kind, given_label, predicted_label, score",
    )
    scan.add_argument(
        "--class-names",
        type=_class_names,
        metavar="NAME,...",
        help="the K class names, in the order of the probability columns, e.g. "
        "O,B-PER,I-PER; tags of a scheme for --spans on token data, and needed to read a "
        "labels column of tag strings (default: a Parquet input's schema metadata "
        "'class_names', a JSON list)",
    )
    scan.add_argument(
        "--scheme",
        type=_scheme,
        metavar="SCHEME",
        help="--spans: the tag scheme of --class-names, bio, iob2, bioes or bilou (default: "
        "read from the names)",
    )


# Options of the token scan that entity-level issues have no use for.
_TOKEN_OPTIONS = (
    "id",
    "order",
    "token_score_method",
    "sentence_score_method",
    "temperature",
    "rank_by",
    "ties",
    "low_memory",
    "batch_size",
)


def _flag(dest: str) -> str:
    return "--" + dest.replace("_", "-")


def run_spans(input_path: Path, columns: readers.Columns, args: Any) -> int:
    """``spanfast scan --spans``: span issues written to --out or printed; the exit status."""
    import numpy as np

    from spanfast.errors import InvalidInputError, InvalidOptionError
    from spanfast.spans import find_span_issues

    prog = "spanfast scan"
    for option, given in (
        ("--sentences", args.sentences),
        ("--html", args.html is not None),
        ("--summary", args.summary),
    ):
        if given:
            raise UsageError(prog, f"--spans and {option}: run them separately")
    if args.dask is not None:
        raise UsageError(prog, "--spans reads the data whole, not on Dask; run without --dask")
    for dest in _TOKEN_OPTIONS:  # token-level options: never ignored silently
        if getattr(args, dest) != args.parser.get_default(dest):
            raise UsageError(prog, f"--spans does not use {_flag(dest)}; run without it")
    if args.out_format is not None and args.out is None:
        raise UsageError(prog, "--out-format needs --out")
    kind, files = readers.input_files(input_path, args.format)
    directory = input_path if input_path.is_dir() else None
    output = readers.output_target(args.out, args.out_format, files, directory)
    with writers.AtomicOutput(output) if output else contextlib.nullcontext() as destination:
        path, raw = readers.read_whole(
            kind, files, directory, columns, allow_pickle=args.allow_pickle
        )
        data = readers.checked_columns(path, raw, columns)
        try:
            issues = find_span_issues(
                data["labels"],
                data["probs"],
                class_names=list(columns.class_names) if columns.class_names else None,
                scheme=args.scheme,
                task=args.task,
                filter_by=args.filter_by,
            )
        except (InvalidInputError, InvalidOptionError) as error:
            field = getattr(error, "field", None)
            if field in ("class_names", "scheme", "task"):
                option = "--" + field.replace("_", "-")
                raise UsageError(prog, f"{option}: {error}") from None
            raise located(error, files=[path], columns=columns) from None
        rows = issues.to_dict()
        for name in ("given_label", "predicted_label"):  # class ids (no names): as text
            rows[name] = np.array([None if v is None else str(v) for v in rows[name]], object)
        if args.top is not None:
            rows = {name: values[: args.top] for name, values in rows.items()}
        if destination is not None:
            destination.write(rows)
            if destination.output.path is not None:
                print(f"Wrote {len(rows['sentence'])} of {len(issues)} span issues to {args.out}")
        else:
            from .display import print_span_issues

            top = DEFAULT_TOP if args.top is None else args.top
            print_span_issues(
                issues, data["tokens"], top, labels=data["labels"], class_names=columns.class_names
            )
    return EXIT_ISSUES_FOUND if args.fail_on_issues and len(issues) else EXIT_OK
