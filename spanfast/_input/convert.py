"""One column of per-sentence values, in any supported form, as ``(values, offsets)``."""

from __future__ import annotations

from typing import Any

import numpy as np

from . import frames
from .arrow import from_arrow, is_arrow
from .nested import flatten_nested


def flatten(
    column: Any, *, name: str, token_ndim: int | None = None, small_integers: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """Values and offsets of ``column`` (not a Ragged: the caller wraps them).

    ``name`` is the field errors name; ``token_ndim`` and ``small_integers`` as in
    :func:`.nested.flatten_nested`.
    """
    kind = frames.library(column)
    if kind == "pandas":
        return frames.from_pandas(column, name=name, token_ndim=token_ndim)
    if kind == "polars":
        return frames.from_polars(column, name=name)
    if kind == "datasets":
        return frames.from_dataset_column(column, name=name)
    if is_arrow(column):
        return from_arrow(column, name=name)
    return flatten_nested(column, name=name, token_ndim=token_ndim, small_integers=small_integers)
