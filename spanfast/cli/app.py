"""The ``spanfast`` entry point: builds the parser from the command modules and dispatches.

Each sub-command is a module with ``NAME``, ``add_parser(commands)`` (which
sets the defaults ``run`` and ``parser``) and ``run(args) -> int``; this module knows nothing of what they do. It owns
what every command shares: ``--version``, help, the exit statuses of
interruptions and closed pipes, and handing every error to the one reporter.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
import threading
import warnings
from collections.abc import Iterator, Sequence
from typing import NoReturn

from ..errors import KernelCacheWarning
from . import apply, demo, export, precompile, scan
from . import report as report_command
from .errors import (
    EXIT_BROKEN_PIPE,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_TERMINATED,
    CommandError,
    UsageError,
    one_line,
    report,
)

COMMANDS = (demo, scan, report_command, export, apply, precompile)


class _Parser(argparse.ArgumentParser):
    """ArgumentParser that hands usage errors to ``main`` instead of exiting."""

    def error(self, message: str) -> NoReturn:
        """Raise, so that main prints one line and returns 2 instead of argparse exiting."""
        raise UsageError(self.prog, message)


def _version() -> str:
    """The installed distribution's version; the package's own when not installed."""
    try:
        from importlib.metadata import PackageNotFoundError, version

        return version("spanfast")
    except (ImportError, PackageNotFoundError):
        import spanfast

        return spanfast.__version__


def build_parser() -> argparse.ArgumentParser:
    """The ``spanfast`` parser with one sub-parser per command module."""
    parser = _Parser(
        prog="spanfast",
        description="Find mislabeled tokens in span and token classification data.",
        epilog="Run 'spanfast COMMAND --help' for a command's options and exit statuses.",
    )
    parser.add_argument(
        "--version", action="version", version=f"spanfast {_version()}", help="print the version"
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    for command in COMMANDS:
        command.add_parser(commands)
    return parser


class _Terminated(SystemExit):
    """SIGTERM, raised as an exit so that cleanups (partial output files) run."""


@contextlib.contextmanager
def _sigterm_as_exit() -> Iterator[None]:
    """While running a command, SIGTERM unwinds like an exception, then the old handler returns."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def terminate(signal_number: int, frame: object) -> NoReturn:
        """Unwind the stack, running every finally and __exit__ on the way."""
        raise _Terminated(EXIT_TERMINATED)

    previous = signal.signal(signal.SIGTERM, terminate)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _quiet_stdout() -> None:
    """After a closed pipe: point stdout at /dev/null so the final flush cannot fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):  # stdout replaced by a non-file object (tests)
        pass


def _one_line_warning(command: str):
    """``warnings.showwarning`` for the command: one line on stderr, as its errors,
    without the library's file and line (restored by ``catch_warnings``)."""

    def show(message, category, filename, lineno, file=None, line=None) -> None:
        # One line, as errors: distributed's warnings, for one, span several lines.
        print(one_line(f"spanfast {command}: warning: {message}"), file=sys.stderr)

    return show


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``spanfast`` command line and return its exit status.

    Parameters
    ----------
    argv : sequence of str, optional
        Arguments after the program name; ``sys.argv[1:]`` when omitted.

    Returns
    -------
    int
        0 on success (and for ``--help``, ``--version`` and a bare ``spanfast``,
        which prints the help); 1 when ``scan --fail-on-issues`` found issues; 2 on a
        usage error, bad input or an output that cannot be written (after one line on
        stderr); 130 on Ctrl-C; 141 when stdout is a closed pipe; 143 on SIGTERM.

    Examples
    --------
    >>> from spanfast.cli import main
    >>> main(["no-such-command"])
    2
    """
    parser = build_parser()
    command = "spanfast"
    try:
        args, unknown = parser.parse_known_args(argv)
        if unknown:  # reported by the sub-command, so that its help is the one pointed at
            getattr(args, "parser", parser).error(f"unrecognized arguments: {' '.join(unknown)}")
        if args.command is None:
            parser.print_help()
            return EXIT_OK
        command = args.command
        with _sigterm_as_exit(), warnings.catch_warnings():
            # A cache that cannot be written only costs time; the one-line error
            # contract (and a clean stderr) holds in every environment.
            warnings.simplefilter("ignore", KernelCacheWarning)
            warnings.showwarning = _one_line_warning(command)
            return args.run(args)
    except (UsageError, CommandError, OSError) as error:
        if isinstance(error, BrokenPipeError):
            _quiet_stdout()
            return EXIT_BROKEN_PIPE
        return report(command, error)
    except KeyboardInterrupt:
        print(file=sys.stderr)  # end the line the ^C was echoed on
        return EXIT_INTERRUPTED
    except _Terminated:
        return EXIT_TERMINATED
    except SystemExit as exit_request:  # --help and --version print and ask to exit
        return exit_request.code if isinstance(exit_request.code, int) else EXIT_OK
