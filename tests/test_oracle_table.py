"""Every entry of the table of cleanlab twins, against cleanlab 2.9.0 on random data.

One generic property test reads :data:`spanfast.testing.registry.ENTRIES`: for each
entry it draws a dataset (span or token, from the shared generator), one of the
entry's keyword-argument cases and one of its input forms, calls both libraries
through the entry's input adapter and compares the answers in the entry's mode
(see :data:`~spanfast.testing.registry.COMPARE_MODES`). The specialised oracle
tests (test_oracle_*.py) go deeper on single functions; this one makes sure no
table entry goes unchecked.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Sequence
from unittest import mock

import numpy as np
import pandas as pd
import pytest
from hypothesis import assume, given, note
from hypothesis import strategies as st
from strategies import (
    call_capturing,
    cleanlab_with_stable_sorts,
    rtol_for,
    scaled_settings,
    span_datasets,
    token_datasets,
)

from spanfast.testing.registry import COMPARE_MODES, ENTRIES, Entry


@contextlib.contextmanager
def cleanlab_in_one_process():
    """cleanlab's default ``n_jobs`` forks a pool; its answer does not depend on it, and the
    stable-sort patches are only sure to apply in this process."""
    import cleanlab.filter

    with mock.patch.object(cleanlab.filter, "psutil_exists", False):
        with mock.patch.object(cleanlab.filter.multiprocessing, "cpu_count", return_value=1):
            yield


def call(entry: Entry, implementation: str, dataset, form: str, case: dict):
    """(result, error, warnings, printed text) of one library's function on ``dataset``."""
    args, kwargs = entry.arguments(dataset, implementation, form, case)
    function = entry.function(implementation)
    with contextlib.ExitStack() as stack:
        if implementation == "cleanlab":
            stack.enter_context(cleanlab_in_one_process())
            if entry.compare == "ties":
                stack.enter_context(cleanlab_with_stable_sorts())
        return call_capturing(function, *args, **kwargs)


def assert_agree(got, expected, *, rtol: float, where: str = "result") -> None:
    """``got`` equals ``expected`` in structure, types and values (floats within ``rtol``;
    ``rtol=0``: exactly)."""
    if isinstance(expected, pd.DataFrame):
        assert isinstance(got, pd.DataFrame), f"{where}: {type(got).__name__}, not a DataFrame"
        pd.testing.assert_frame_equal(got, expected, check_exact=rtol == 0, rtol=rtol or 1e-5)
    elif isinstance(expected, pd.Series):
        assert isinstance(got, pd.Series), f"{where}: {type(got).__name__}, not a Series"
        pd.testing.assert_series_equal(got, expected, check_exact=rtol == 0, rtol=rtol or 1e-5)
    elif isinstance(expected, np.ndarray):
        assert isinstance(got, np.ndarray), f"{where}: {type(got).__name__}, not an ndarray"
        assert got.dtype == expected.dtype, f"{where}: dtype {got.dtype} != {expected.dtype}"
        assert got.shape == expected.shape, f"{where}: shape {got.shape} != {expected.shape}"
        if rtol == 0 or not np.issubdtype(expected.dtype, np.floating):
            np.testing.assert_array_equal(got, expected, err_msg=where)
        else:
            # atol: subnormal results (softmin at tiny temperatures) differ in their last bits
            tiny = np.finfo(expected.dtype).tiny
            np.testing.assert_allclose(got, expected, rtol=rtol, atol=tiny, err_msg=where)
    elif isinstance(expected, (list, tuple)):
        if rtol and isinstance(expected, list):
            # spanfast's token scores are a lazy Sequence of Series, not a list
            assert isinstance(got, Sequence), f"{where}: {type(got).__name__}, not a Sequence"
        else:
            assert type(got) is type(expected), (
                f"{where}: {type(got).__name__}, not {type(expected).__name__}"
            )
        assert len(got) == len(expected), f"{where}: length {len(got)} != {len(expected)}"
        for i, (g, e) in enumerate(zip(got, expected)):
            assert_agree(g, e, rtol=rtol, where=f"{where}[{i}]")
    else:
        assert type(got) is type(expected), (
            f"{where}: {type(got).__name__} != {type(expected).__name__}"
        )
        if isinstance(expected, float) and rtol:
            assert math.isclose(got, expected, rel_tol=rtol), f"{where}: {got!r} != {expected!r}"
        else:
            assert got == expected, f"{where}: {got!r} != {expected!r}"


def check_entry(entry: Entry, dataset, form: str, case: dict) -> None:
    """Both libraries on ``dataset``; their answers agree in ``entry.compare``'s mode."""
    expected, cl_error, _, cl_printed = call(entry, "cleanlab", dataset, form, case)
    got, sf_error, _, sf_printed = call(entry, "spanfast", dataset, form, case)
    if cl_error is not None:
        assert isinstance(sf_error, type(cl_error)), (
            f"cleanlab raised {cl_error!r}, spanfast {sf_error!r}"
        )
        assert str(sf_error) == str(cl_error)
        return
    assert sf_error is None, f"spanfast raised {sf_error!r}; cleanlab returned normally"
    rtol = rtol_for(dataset.dtype) if entry.compare == "roundoff" else 0.0
    assert_agree(got, expected, rtol=rtol)
    if entry.compare == "printed":
        assert sf_printed == cl_printed


def test_every_compare_mode_is_used():
    assert {entry.compare for entry in ENTRIES.values()} == set(COMPARE_MODES)


@pytest.mark.parametrize("name", list(ENTRIES))
@scaled_settings(0.5)
@given(data=st.data())
def test_entry_agrees_with_cleanlab(name, data):
    entry = ENTRIES[name]
    dataset = data.draw(span_datasets() if entry.data == "span" else token_datasets(), "dataset")
    assume(dataset.cleanlab_accepts_labels())
    case = data.draw(st.sampled_from(entry.cases), "case")
    form = data.draw(st.sampled_from(entry.forms), "form")
    note(f"{entry.spanfast} vs {entry.cleanlab} ({entry.compare})")
    check_entry(entry, dataset, form, case)
