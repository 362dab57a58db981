"""Where a mistake in the input is: global sentence numbers and located errors.

Errors name sentences by their row in the whole dataset. A caller that reads a
batch, an Arrow chunk or a file at a time says where it starts with
:func:`numbered_from`; the readers below it then report global rows.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

import numpy as np

from ..errors import InvalidInputError

_FIRST_SENTENCE: ContextVar[int] = ContextVar("first_sentence", default=0)


@contextmanager
def numbered_from(first: int) -> Iterator[None]:
    """Number sentences in errors from ``first`` (relative to any enclosing numbering)."""
    token = _FIRST_SENTENCE.set(_FIRST_SENTENCE.get() + int(first))
    try:
        yield
    finally:
        _FIRST_SENTENCE.reset(token)


def row(sentence: int) -> int:
    """A local sentence index as errors show it: its global row."""
    return int(sentence) + _FIRST_SENTENCE.get()


def sentence_of(offsets: np.ndarray, flat_index: int) -> tuple[int, int]:
    """(global sentence, token) of a flat token index."""
    sentence = int(np.searchsorted(offsets, flat_index, side="right") - 1)
    return row(sentence), int(flat_index - offsets[sentence])


def error_at(
    message: str,
    *,
    field: str,
    offsets: np.ndarray | None = None,
    flat_index: int | None = None,
    sentence: int | None = None,
    error: type[InvalidInputError] = InvalidInputError,
    **details: Any,
) -> InvalidInputError:
    """An error located at a token (``offsets`` + ``flat_index``) or a local ``sentence``.

    ``message`` may use ``{where}`` ("sentence i, token j" or "sentence i"),
    ``{i}`` and ``{j}``; the attributes are set to the same numbers.
    """
    i = j = None
    if flat_index is not None:
        i, j = sentence_of(offsets, flat_index)
        where = f"sentence {i}, token {j}"
    elif sentence is not None:
        i = row(sentence)
        where = f"sentence {i}"
    else:
        where = ""
    return error(message.format(where=where, i=i, j=j, **details), field=field, sentence=i, token=j)
