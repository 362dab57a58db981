"""Files that are never left half-written: the one atomic writer of spanfast.

Used by the command line's issue tables (:mod:`spanfast.cli.writers`), the
HTML report, the annotation-tool exports and applied corrections. A file is
written to ``.<name>.spanfast-<pid>.partial`` beside it and renamed over it
with :func:`os.replace` only when complete, so every exit Python sees (an
error, Ctrl-C, SIGTERM) keeps the previous file and removes the partial one. A
partial file left by a killed run (SIGKILL, power loss) is recognised by its
name and removed by the next run for the same output once the process named
in it is gone. Outputs that are not regular files (``/dev/null``, a FIFO) are
written in place. The file replaced keeps its permissions. Errors name the
output as the user gave it, never the partial file.

This module knows nothing of the command line: it raises
:class:`OutputFileError` (an ``OSError``) unless the caller gives its own error type.
"""

from __future__ import annotations

import os
import stat
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from types import TracebackType
from typing import Any, TextIO

STDOUT = "-"
_PARTIAL_INFIX = ".spanfast-"
_PARTIAL_SUFFIX = ".partial"


class OutputFileError(OSError):
    """An output that cannot be written, named as the user gave it."""

    def __init__(self, given: str, detail: str) -> None:
        super().__init__(f"{given}: {detail}")
        self.given = given


ErrorType = Callable[[str, str], Exception]


def checked_path(out: Any, error: ErrorType = OutputFileError) -> Path | None:
    """The file ``out`` names (through symlinks), None for ``-`` (stdout); checked before any work.

    Parameters
    ----------
    out : str or path-like
        The output as the user gave it.
    error : callable, optional
        ``error(given, detail)`` builds the exception raised.

    Returns
    -------
    Path or None
        The real path to write; None for stdout.
    """
    given = os.fspath(out)
    if given == STDOUT:
        return None
    if Path(given).is_dir():
        raise error(given, "is a directory; name a file to write")
    path = Path(os.path.realpath(given))  # through symlinks: the link stays, its target is written
    if not path.parent.exists():
        raise error(given, "the directory to write to does not exist")
    if not path.parent.is_dir():
        raise error(given, f"{Path(given).parent} is not a directory")
    return path


def same_file(first: Any, second: Any) -> bool:
    """os.path.samefile, False when either is missing (same device and inode otherwise)."""
    try:
        return os.path.samefile(first, second)
    except OSError:
        return False


def refuse_inputs(
    path: Path | None, given: str, inputs: Iterable[Any], error: ErrorType = OutputFileError
) -> None:
    """Fail if the output is one of the input files (by inode: symlinks, hard links count)."""
    if path is None:
        return
    for source in inputs:
        if same_file(path, source):
            raise error(
                given, f"is the input file {os.fspath(source)}; refusing to overwrite the input"
            )


def partial_path(path: Path, pid: int) -> Path:
    """The temporary file process ``pid`` writes ``path`` through."""
    return path.with_name(f".{path.name}{_PARTIAL_INFIX}{pid}{_PARTIAL_SUFFIX}")


def remove_stale_partials(path: Path) -> list[Path]:
    """Remove the partial files of ``path`` whose writer is no longer running; return them."""
    prefix = f".{path.name}{_PARTIAL_INFIX}"
    removed: list[Path] = []
    try:
        entries = list(os.scandir(path.parent))
    except OSError:
        return removed
    for entry in entries:
        name = entry.name
        if not (name.startswith(prefix) and name.endswith(_PARTIAL_SUFFIX)):
            continue
        pid_text = name[len(prefix) : -len(_PARTIAL_SUFFIX)]
        if not pid_text.isdigit():
            continue
        pid = int(pid_text)
        if pid != os.getpid() and _is_running(pid):
            continue
        try:
            os.unlink(entry.path)
        except OSError:  # removed meanwhile, or not ours to remove
            continue
        removed.append(Path(entry.path))
    return removed


def _is_running(pid: int) -> bool:
    """Whether process ``pid`` exists (signal 0 only checks; on Windows it would kill)."""
    if os.name == "nt":
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # EPERM: running, as another user
        return True
    return True


def keep_mode(old: Path, new: Path) -> None:
    """Give ``new`` the permissions of the file it replaces, as writing into it would keep."""
    try:
        os.chmod(new, stat.S_IMODE(os.stat(old).st_mode))
    except FileNotFoundError:
        pass


class AtomicFile:
    """One output file, replaced only when complete; a context manager.

    Entering removes stale partial files and creates this run's partial file
    (so an unwritable directory fails before any input is read);
    :meth:`replace_with` writes and renames it over the target; leaving
    without a complete write removes it.

    Parameters
    ----------
    given : str
        The output as the user named it (used in messages).
    path : Path or None
        The real file to write; None for stdout.
    error : callable, optional
        ``error(given, detail)`` builds the exception raised for an OSError.
    """

    def __init__(self, given: str, path: Path | None, error: ErrorType = OutputFileError) -> None:
        self.given = given
        self.path = path
        self.error_type = error
        self.partial: Path | None = None
        self.written = False

    @property
    def in_place(self) -> bool:
        """Written directly, not through a partial file: stdout, devices, FIFOs."""
        return self.path is None or (self.path.exists() and not self.path.is_file())

    def __enter__(self) -> AtomicFile:
        """Clean up stale partials and create ours."""
        if self.in_place:
            return self
        assert self.path is not None
        remove_stale_partials(self.path)
        partial = partial_path(self.path, os.getpid())
        try:
            # 0o666 less the umask, as a plain open() makes it; O_EXCL: never through a link.
            descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        except OSError as error:
            raise self._error(error) from None
        self.partial = partial
        os.close(descriptor)
        return self

    def replace_with(self, write: Callable[[Path], None]) -> None:
        """``write(file)`` on the partial file (or the target in place), then move it into place."""
        assert self.path is not None, "stdout is written by the caller"
        try:
            if self.partial is None:
                write(self.path)
            else:
                write(self.partial)
                keep_mode(self.path, self.partial)
                os.replace(self.partial, self.path)
        except OSError as error:
            raise self._error(error) from None
        self.written = True

    def write_text(self, produce: Callable[[TextIO], None]) -> None:
        """Call ``produce(stream)`` on a UTF-8 text stream of the file (or stdout)."""
        if self.path is None:
            produce(sys.stdout)
            sys.stdout.flush()
            self.written = True
            return

        def write(path: Path) -> None:
            with open(path, "w", encoding="utf-8", newline="\n") as stream:
                produce(stream)

        self.replace_with(write)

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        """Remove the partial file unless it was moved into place (any exit, any exception)."""
        if self.partial is not None and not self.written:
            try:
                os.unlink(self.partial)
            except OSError:
                pass

    def _error(self, error: OSError) -> Exception:
        """The OSError as the user's output path shows it (not the partial file's)."""
        if isinstance(error, OutputFileError):
            return error
        detail = error.strerror or str(error)
        if self.partial is not None:
            detail = detail.replace(os.fspath(self.partial), self.given)
        return self.error_type(self.given, detail)


def write_text_file(
    out: Any,
    produce: Callable[[TextIO], None],
    *,
    inputs: Iterable[Any] = (),
    error: ErrorType = OutputFileError,
) -> None:
    """Write a text file atomically (see :class:`AtomicFile`), never over one of ``inputs``.

    Parameters
    ----------
    out : str or path-like
        The file to write; ``-`` writes to stdout.
    produce : callable
        ``produce(stream)`` writes the content to a text stream.
    inputs : iterable of path-like, optional
        Files that must not be overwritten.
    error : callable, optional
        ``error(given, detail)`` builds the exception raised.

    Returns
    -------
    None
    """
    given = os.fspath(out)
    path = checked_path(given, error)
    refuse_inputs(path, given, inputs, error)
    with AtomicFile(given, path, error) as destination:
        destination.write_text(produce)
