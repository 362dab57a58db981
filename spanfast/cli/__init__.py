"""The ``spanfast`` command line: ``spanfast demo`` and ``spanfast scan``.

One module per command (:mod:`~spanfast.cli.demo`, :mod:`~spanfast.cli.scan`),
the entry point that dispatches to them (:mod:`~spanfast.cli.app`), and the
pieces they share beside them: :mod:`~spanfast.cli.readers` (input files),
:mod:`~spanfast.cli.writers` (output files, written atomically),
:mod:`~spanfast.cli.display`, :mod:`~spanfast.cli.progress`,
:mod:`~spanfast.cli.options` and :mod:`~spanfast.cli.errors` (the one reporter).
"""

from .app import main

__all__ = ["main"]
