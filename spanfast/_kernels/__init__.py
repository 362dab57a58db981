"""Numba kernels: loops over flat, validated arrays.

Every kernel here may assume its input was validated by ``spanfast._input.checked``:
labels in ``0..K-1``, finite probabilities, offsets monotone and in bounds.
Probabilities arrive either as a ``(T, K)`` matrix (token classification) or
as a ``(T,)`` vector ``p`` of span probabilities, read as the two classes
``[1 - p, p]`` through :mod:`spanfast._kernels.access` without a ``(T, 2)`` copy.
"""
