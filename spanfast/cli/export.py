"""``spanfast export``: the flagged sentences as tasks for Label Studio, Prodigy or doccano."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from . import readers
from .errors import EXIT_OK, InputError
from .report import add_data_arguments, class_names, find, output_target, read_whole

NAME = "export"


def add_parser(commands: argparse._SubParsersAction) -> None:
    """Add ``spanfast export`` to the sub-commands."""
    from spanfast.export import FORMATS

    export = commands.add_parser(
        NAME,
        help="write the flagged sentences as Label Studio, Prodigy or doccano tasks",
        description=(
            "Find label issues in a dataset (as 'spanfast scan' does) and write each flagged "
            "sentence as an annotation task, most likely mislabeled first: the tokens joined "
            "by single spaces, the given spans as the annotation to correct (and, for Label "
            "Studio, the model's spans as a prediction scored by the sentence score)."
        ),
        epilog=(
            "Formats: label-studio (a JSON list of tasks), prodigy (JSON Lines, ner_manual), "
            "doccano (JSON Lines, sequence labeling). The output never overwrites an input and "
            "is written through a temporary file. Exit status: 0 success; 2 bad input, "
            "unwritable output or usage error."
        ),
    )
    add_data_arguments(export, tokens_required=True)
    export.add_argument("--to", required=True, choices=FORMATS, help="the annotation tool")
    export.add_argument(
        "--out", required=True, metavar="FILE", help="the file to write ('-': stdout)"
    )
    export.set_defaults(run=run, parser=export)


def run(args: argparse.Namespace) -> int:
    """Run ``spanfast export``; its exit status."""
    from spanfast.report.sentences import without_gc

    from .writers import AtomicOutput

    columns = readers.Columns(args.labels, args.probs, args.tokens)
    input_path = Path(args.input)
    _, files = readers.input_files(input_path)
    output = output_target(args.out, args.to, files, input_path if input_path.is_dir() else None)
    data = read_whole(input_path, columns, args)
    issues = find(data, args, input_path)
    with AtomicOutput(output) as destination, without_gc():  # tasks freed before GC resumes
        count = _write(destination, issues, data, args, input_path)
    if output.path is not None:
        print(f"Wrote {count} {args.to} tasks ({len(issues)} label issues) to {args.out}")
    return EXIT_OK


def _write(destination: Any, issues: Any, data: dict, args: argparse.Namespace, path: Path) -> int:
    """The tasks of the flagged sentences, written; their number."""
    from spanfast.errors import InvalidInputError
    from spanfast.export import to_tasks, write_tasks

    try:
        tasks = to_tasks(
            issues,
            data["tokens"],
            to=args.to,
            labels=data["labels"],
            pred_probs=data["probs"],
            class_names=class_names(args),
        )
    except InvalidInputError as error:
        raise InputError(path, str(error)) from None
    destination.write_text(lambda stream: write_tasks(stream, tasks, args.to))
    return len(tasks)
