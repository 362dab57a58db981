"""Exceptions raised for bad input.

Each derives from the class cleanlab raises for the same mistake, so code
written against cleanlab keeps catching it, and from ``ValueError`` so that
one ``except ValueError`` catches every input mistake spanfast reports.

Where the mistake is, is an attribute, set where the error is raised:
``field`` (the input: ``"labels"``, ``"pred_probs"``, ``"tokens"`` or a
column name), ``sentence`` (global: the row in the whole dataset, whatever
the batching), ``token`` (within the sentence), and for files ``file`` and
``row`` (the row within that file). Callers read these, never the message.
"""

from __future__ import annotations

from typing import Any


class InvalidInputError(ValueError):
    """The data (labels, probabilities, offsets) is malformed.

    Attributes
    ----------
    field : str or None
        The input at fault (``"labels"``, ``"pred_probs"``, ``"tokens"``, a column name).
    sentence, token : int or None
        Where: global sentence number, token within the sentence.
    file : str or None
        The file the sentence was read from, when read from files.
    row : int or None
        The sentence's row within ``file``.
    """

    def __init__(
        self,
        message: str,
        *,
        field: str | None = None,
        sentence: int | None = None,
        token: int | None = None,
        file: str | None = None,
        row: int | None = None,
    ) -> None:
        super().__init__(message)
        self.field = field
        self.sentence = sentence
        self.token = token
        self.file = file
        self.row = row

    @property
    def location(self) -> dict[str, Any]:
        """The attributes that are set, as a dict (for reporting)."""
        names = ("field", "sentence", "token", "file", "row")
        return {name: getattr(self, name) for name in names if getattr(self, name) is not None}

    def __reduce__(self):  # pickles across processes (Dask workers) with its attributes
        return (_rebuild, (type(self), str(self), self.location))


def _rebuild(cls: type, message: str, location: dict[str, Any]) -> InvalidInputError:
    return cls(message, **location)


class InvalidInputTypeError(InvalidInputError, TypeError):
    """The data has the wrong type (cleanlab raises TypeError here)."""


class InvalidOptionError(AssertionError, ValueError):
    """An option is not one of the allowed values (cleanlab asserts here)."""


class KernelCacheWarning(RuntimeWarning):
    """Compiled kernels cannot be kept on disk, or a cache entry was unreadable.

    Only performance is affected (kernels are compiled again); results are not.
    Silence it with ``warnings.filterwarnings("ignore", category=KernelCacheWarning)``.
    Defined here, not in ``spanfast._numba``, so that it can be filtered without
    importing Numba (the command line does so).
    """
