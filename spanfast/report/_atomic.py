"""Text files written through :mod:`spanfast.cli.writers`' atomic output.

The report and the exports are not issue tables, so they cannot go through
``AtomicOutput.write``; this subclass adds a text writer with the same
guarantees (a partial file beside the target, renamed over it only when
complete, removed on any failure; the target's permissions kept; the input
never overwritten).
"""

from __future__ import annotations

import dataclasses
import os
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, TextIO

from ..cli.writers import AtomicOutput, Target, _keep_mode, refuse_inputs, target


class AtomicText(AtomicOutput):
    """An :class:`~spanfast.cli.writers.AtomicOutput` whose content is written by a function."""

    def write_text(self, produce: Callable[[TextIO], None]) -> None:
        """Call ``produce(stream)`` on the partial file (or stdout), then move it into place."""
        path = self.output.path
        try:
            if path is None:
                produce(sys.stdout)
                sys.stdout.flush()
            else:
                target = path if self.partial is None else self.partial
                with open(target, "w", encoding="utf-8", newline="\n") as stream:
                    produce(stream)
                if self.partial is not None:
                    _keep_mode(path, self.partial)
                    os.replace(self.partial, path)
        except OSError as error:
            if path is None:
                raise
            raise self._error(error) from None
        self.written = True


def text_target(out: Any, form: str, inputs: Iterable[Any] = ()) -> Target:
    """The checked output ``out`` (``-`` for stdout), refusing to overwrite any of ``inputs``."""
    # writers.target checks the path (directory exists, not a directory) for any format.
    output = dataclasses.replace(target(os.fspath(out), "jsonl"), format=form)
    refuse_inputs(output, [Path(p) for p in inputs], None)
    return output


def write_text_file(
    out: Any, produce: Callable[[TextIO], None], *, form: str, inputs: Iterable[Any] = ()
) -> None:
    """Write a text file atomically (see :class:`AtomicText`)."""
    with AtomicText(text_target(out, form, inputs)) as destination:
        destination.write_text(produce)
