"""Read a probability matrix the same way whether it is ``(T, K)`` or span ``(T,)``.

A span dataset stores one probability ``p`` per token; cleanlab stacks
``[1 - p, p]`` into a ``(T, 2)`` copy. These helpers give kernels
``probability(P, i, k)`` and ``n_classes(P)`` for both layouts, so one kernel
serves both and no copy is made. ``1 - p`` is computed in ``p``'s own dtype,
exactly as NumPy's ``1 - probs`` would be.

Under ``NUMBA_DISABLE_JIT=1`` the plain Python bodies below run instead of the
overloads, so they must be (and are) correct on their own.
"""

from __future__ import annotations

import numpy as np
from numba import types
from numba.extending import overload


def probability(P, i, k):
    """Probability that token ``i`` belongs to class ``k``."""
    if P.ndim == 1:
        return P[i] if k == 1 else P.dtype.type(1) - P[i]
    return P[i, k]


def n_classes(P):
    """Number of classes: 2 for span probabilities, ``P.shape[1]`` otherwise."""
    return 2 if P.ndim == 1 else P.shape[1]


def like(P, value):
    """``value`` as a scalar of ``P``'s dtype (NumPy's rule for Python scalars)."""
    return P.dtype.type(value)


@overload(probability)
def _probability_overload(P, i, k):
    if not isinstance(P, types.Array):
        return None
    if P.ndim == 1:
        one = np.dtype(str(P.dtype)).type(1)

        def span_probability(P, i, k):
            if k == 1:
                return P[i]
            return one - P[i]

        return span_probability

    def matrix_probability(P, i, k):
        return P[i, k]

    return matrix_probability


@overload(n_classes)
def _n_classes_overload(P):
    if not isinstance(P, types.Array):
        return None
    if P.ndim == 1:
        return lambda P: 2
    return lambda P: P.shape[1]


@overload(like)
def _like_overload(P, value):
    if not isinstance(P, types.Array):
        return None
    scalar = np.dtype(str(P.dtype)).type
    if scalar is np.float32:
        return lambda P, value: np.float32(value)
    return lambda P, value: np.float64(value)
