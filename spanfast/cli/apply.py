"""``spanfast apply-corrections``: an annotation tool's reviewed export, back into the data."""

from __future__ import annotations

import argparse
from pathlib import Path

from .errors import EXIT_OK, InputError, OutputError

NAME = "apply-corrections"


def add_parser(commands: argparse._SubParsersAction) -> None:
    """Add ``spanfast apply-corrections`` to the sub-commands."""
    from spanfast.export import TOOLS

    apply = commands.add_parser(
        NAME,
        help="write the data with the corrections made in Label Studio, Prodigy or doccano",
        description=(
            "Read what Label Studio (JSON export), Prodigy (db-out JSONL) or doccano (JSONL "
            "export) wrote after review of the tasks 'spanfast export' made, map each span's "
            "character offsets back to tokens, and write the original data with only the "
            "reviewed sentences' labels changed: same schema, same rows, same order. Prints "
            "what changed per class and kind."
        ),
        epilog=(
            "A reviewed sentence whose text is not the input's tokens (tokens changed, another "
            "dataset), a span off token boundaries, or a label that is not a class is an error "
            "naming the sentence; nothing is written then. The output never overwrites an input "
            "and is written through a temporary file. Exit status: 0 success; 2 bad input, "
            "unwritable output or usage error."
        ),
    )
    apply.add_argument("export", metavar="EXPORT_FROM_TOOL", help="the file the tool exported")
    apply.add_argument(
        "--input",
        required=True,
        metavar="ORIGINAL",
        help="the data exported from (.jsonl, .parquet, .npz)",
    )
    apply.add_argument("--out", required=True, metavar="FILE", help="the corrected copy to write")
    apply.add_argument("--labels", required=True, metavar="COL", help="column of per-token labels")
    apply.add_argument("--tokens", required=True, metavar="COL", help="column of per-token text")
    apply.add_argument(
        "--class-names",
        metavar="NAMES",
        help="comma-separated class names, as given to 'spanfast export'",
    )
    apply.add_argument(
        "--from", dest="tool", choices=TOOLS, help="the tool (default: from the file)"
    )
    apply.set_defaults(run=run, parser=apply)


def run(args: argparse.Namespace) -> int:
    """Run ``spanfast apply-corrections``; its exit status."""
    from spanfast._atomic import OutputFileError
    from spanfast.errors import InvalidInputError
    from spanfast.export import apply_corrections

    export = Path(args.export)
    if not export.is_file():
        raise InputError(export, "no such file")
    names = None if not args.class_names else [n.strip() for n in args.class_names.split(",")]
    try:
        changes = apply_corrections(
            export,
            args.input,
            args.out,
            labels=args.labels,
            tokens=args.tokens,
            class_names=names,
            tool=args.tool,
        )
    except OutputFileError as error:
        raise OutputError(error.given, str(error)[len(error.given) + 2 :]) from None
    except InvalidInputError as error:
        raise InputError(getattr(error, "file", None) or args.export, _detail(error)) from None
    print(changes.summary())
    print(f"Wrote {args.out}")
    return EXIT_OK


def _detail(error: Exception) -> str:
    """The message without the file it starts with (the line names the file once)."""
    text, path = str(error), getattr(error, "file", None)
    return text[len(path) + 2 :] if path and text.startswith(f"{path}: ") else text
