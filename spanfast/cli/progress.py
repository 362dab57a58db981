"""The progress line ``spanfast scan`` draws on stderr while it streams Parquet data."""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Iterator
from typing import TextIO


class Progress:
    """A one-line progress report, redrawn in place at most ten times a second.

    Called as spanfast.streaming's ``progress(pass_number, n_passes, rows_done)``.
    """

    def __init__(self, stream: TextIO, total_rows: int) -> None:
        self._stream = stream
        self._total = total_rows
        self._shown_at = 0.0
        self._drawn = False
        self._width = 0

    def __call__(self, pass_number: int, n_passes: int, rows_done: int) -> None:
        """Redraw the line, unless it was redrawn less than 0.1 s ago (the last always is)."""
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
        """End the line, so that what follows on stderr starts on a line of its own."""
        if self._drawn:
            self._stream.write("\n")
            self._stream.flush()


@contextlib.contextmanager
def progress_bar(total_rows: int) -> Iterator[Progress | None]:
    """A Progress on stderr when stderr is a terminal, else None (logs get no \\r lines)."""
    if not sys.stderr.isatty():
        yield None
        return
    progress = Progress(sys.stderr, total_rows)
    try:
        yield progress
    finally:
        progress.close()
