"""The ``spanfast`` command line.

``spanfast demo`` finds the label issues in the example dataset bundled with
spanfast and shows how many of its planted annotation mistakes were found.
Each subcommand is a parser built by one ``_add_<name>_command`` function and
run by one ``_run_<name>`` function, so new subcommands slot in beside it.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import re
import sys
import time
from collections.abc import Sequence
from typing import NoReturn

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
