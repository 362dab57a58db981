"""The bandwidth floor: one compiled pass reading every probability and label once.

Each pass of a plan reads at least the probabilities and the labels, so no pass
can be faster than a loop that does nothing else: :func:`read_once` is that loop.
The asv benchmark ``conversion.ReadOnce`` and ``tools/warm_profile.py`` time it
beside spanfast's passes, so that each pass can be read against what the memory
bandwidth allows.

It is compiled with plain ``numba.njit`` (``nogil``, no disk cache), not with
spanfast's kernel decorator: the floor is Numba's loop alone, never run
interpreted on small inputs (a first call on ten elements compiles it, outside
the timing) and not listed among the kernels ``spanfast precompile`` compiles.
"""

from __future__ import annotations

import numba

__all__ = ["read_once"]


@numba.njit(nogil=True, cache=False)
def read_once(values, labels):
    """Read every element of ``values`` (any shape) and ``labels`` (1-D) once.

    Parameters
    ----------
    values : numpy.ndarray
        The probabilities, ``(T,)`` or ``(T, K)``, C-contiguous.
    labels : numpy.ndarray
        The labels, ``(T,)``, any integer type.

    Returns
    -------
    float
        The sum of both (returned so that the reads cannot be optimized away).

    Examples
    --------
    >>> import numpy as np
    >>> float(read_once(np.array([[0.25, 0.75], [0.5, 0.5]]), np.array([1, 0], np.int8)))
    3.0
    """
    flat = values.reshape(-1)
    total = 0.0
    for i in range(flat.shape[0]):
        total += flat[i]
    n = 0
    for i in range(labels.shape[0]):
        n += labels[i]
    return total + n
