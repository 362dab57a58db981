"""Exceptions raised for bad input.

Each derives from the class cleanlab raises for the same mistake, so code
written against cleanlab keeps catching it, and from ``ValueError`` so that
one ``except ValueError`` catches every input mistake spanfast reports.
"""

from __future__ import annotations


class InvalidInputError(ValueError):
    """The data (labels, probabilities, offsets) is malformed."""


class InvalidInputTypeError(InvalidInputError, TypeError):
    """The data has the wrong type (cleanlab raises TypeError here)."""


class InvalidOptionError(AssertionError, ValueError):
    """An option is not one of the allowed values (cleanlab asserts here)."""
