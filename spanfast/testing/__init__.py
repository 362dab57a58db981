"""Test and benchmark support: the table of cleanlab twins and the data generators.

Like ``numpy.testing``, this package is for spanfast's own test suite and asv
benchmarks (and anyone checking spanfast against cleanlab): nothing else in
spanfast imports it. It needs only NumPy at import time (and Numba, already a
dependency of spanfast, for :mod:`~spanfast.testing.floors`); cleanlab, pandas and
hypothesis are never imported here (the table holds dotted paths, resolved
when a function is looked up).

* :mod:`spanfast.testing.registry` -- one table pairing every public spanfast
  function with its cleanlab 2.9.0 twin, how to call each on a generated
  dataset, and how their answers compare;
* :mod:`spanfast.testing.data` -- deterministic NumPy generators of span and
  token classification data, flat ``(values, offsets)`` and in cleanlab's
  list-of-arrays form;
* :mod:`spanfast.testing.floors` -- the bandwidth floor of a pass (one compiled
  loop reading every probability and label once), timed by the asv benchmarks and
  ``tools/warm_profile.py``.
"""
