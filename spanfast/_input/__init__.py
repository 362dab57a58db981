"""The input boundary: every user format turned into flat data, and checked, once.

- :mod:`.where` numbers sentences globally and builds located errors;
- :mod:`.nested`, :mod:`.arrow`, :mod:`.frames` read nested lists and arrays,
  Arrow list arrays, and pandas / polars / ``datasets`` columns and tables into
  ``(values, offsets)`` pairs (they know nothing of :class:`~spanfast.Ragged`,
  which is built from them);
- :mod:`.convert` dispatches one column to the right reader;
- :mod:`.checked` proves what the kernels rely on and returns :class:`~.checked.Checked`
  data, the only type the algorithms take.

This ``__init__`` imports nothing, so that ``spanfast.ragged`` may use the readers
while :mod:`.checked` uses ``Ragged`` without an import circle.
"""
