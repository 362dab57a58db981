"""Argument types and conventions shared by the sub-commands."""

from __future__ import annotations

import argparse
import os
from typing import TextIO


def non_negative_int(text: str) -> int:
    """An argparse type: a whole number >= 0, with a message saying what was expected."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a number >= 0, got {value}")
    return value


def positive_int(text: str) -> int:
    """An argparse type: a whole number >= 1."""
    value = non_negative_int(text)
    if value == 0:
        raise argparse.ArgumentTypeError("expected a number >= 1, got 0")
    return value


def add_no_color(parser: argparse.ArgumentParser) -> None:
    """The --no-color flag, with the rule :func:`use_color` applies."""
    parser.add_argument(
        "--no-color",
        action="store_true",
        help="do not colour the flagged tokens; they are marked [[like this]] instead "
        "(also without a terminal, or when NO_COLOR is set)",
    )


def use_color(no_color: bool, stream: TextIO) -> bool:
    """Colour only on a terminal, never with --no-color or a non-empty NO_COLOR (no-color.org)."""
    if no_color or os.environ.get("NO_COLOR"):
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())
