"""Exceptions raised for bad input.

Each derives from the class cleanlab raises for the same mistake, so code
written against cleanlab keeps catching it, and from ``ValueError`` so that
one ``except ValueError`` catches every input mistake spanfast reports.
"""

from __future__ import annotations


class InvalidInputError(ValueError):
    """The data (labels, probabilities, offsets) is malformed.

    Where known, ``field`` names the input (``"labels"``, ``"pred_probs"``,
    ``"tokens"``) and ``sentence`` / ``token`` say where, so that callers
    reading files can point at a column and row without parsing the message.
    """

    def __init__(
        self,
        message: str,
        *,
        field: str | None = None,
        sentence: int | None = None,
        token: int | None = None,
    ) -> None:
        super().__init__(message)
        self.field = field
        self.sentence = sentence
        self.token = token


class InvalidInputTypeError(InvalidInputError, TypeError):
    """The data has the wrong type (cleanlab raises TypeError here)."""


class InvalidOptionError(AssertionError, ValueError):
    """An option is not one of the allowed values (cleanlab asserts here)."""
