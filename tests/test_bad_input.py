"""Adversarial input at the boundary: a clear error naming field, sentence and token,
never a crash, a bare NumPy/Numba error, or a silently wrong answer."""

from __future__ import annotations

import datetime
import decimal
import inspect

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from cleanlab.token_classification.filter import find_label_issues as cleanlab_token_find

import spanfast
from spanfast import Ragged, core
from spanfast.errors import InvalidInputError, InvalidInputTypeError
from spanfast.token_classification.filter import find_label_issues as token_find

LABELS = [[0, 1, 1], [1, 0]]
PROBS = [np.array([0.1, 0.8, 0.7]), np.array([0.9, 0.2])]
TOKEN_LABELS = [[0, 1, 1, 0], [1, 0, 0]]
TOKEN_PROBS = [
    np.array([[0.9, 0.1], [0.2, 0.8], [0.7, 0.3], [0.6, 0.4]]),
    np.array([[0.1, 0.9], [0.8, 0.2], [0.3, 0.7]]),
]


def _located(error, **where):
    assert isinstance(error, ValueError)
    for name, value in where.items():
        assert getattr(error, name) == value, (name, error.location)
        if name in ("sentence", "token"):
            assert f"{name} {value}" in str(error)


# -- not probabilities --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("probs", "shown"),
    [
        ([p.astype(complex) for p in PROBS], "complex"),
        ([p > 0.5 for p in PROBS], "booleans"),
        (
            pa.array([[datetime.datetime(2020, 1, 1)] * 3, [datetime.datetime(2021, 1, 1)] * 2]),
            "dates",
        ),
        ([np.array([1, 2, 3], "m8[s]"), np.array([1, 2], "m8[s]")], "time spans"),
    ],
)
def test_non_real_probabilities_are_rejected(probs, shown):
    with pytest.raises(InvalidInputTypeError, match=shown) as caught:
        spanfast.find_label_issues(LABELS, probs)
    assert caught.value.field == "pred_probs"


def test_decimal_probabilities_are_rejected_at_their_token():
    probs = pa.array([[decimal.Decimal("0.1")] * 3, [decimal.Decimal("0.5")] * 2])
    with pytest.raises(InvalidInputTypeError, match="must be numbers") as caught:
        spanfast.find_label_issues(LABELS, probs)
    _located(caught.value, field="pred_probs", sentence=0, token=0)


@pytest.mark.parametrize("where", ["sentence", "regular"])
def test_masked_values_are_missing_values(where):
    if where == "sentence":
        probs = [PROBS[0], np.ma.masked_array(PROBS[1], mask=[False, True])]
        expected = (1, 1)
    else:  # one regular (n_sentences, n_tokens) array
        probs = np.ma.masked_array(np.full((2, 2), 0.5), mask=[[False, False], [True, False]])
        expected = (1, 0)
        labels = [[0, 1], [1, 0]]
    with pytest.raises(InvalidInputError, match="is masked") as caught:
        spanfast.find_label_issues(LABELS if where == "sentence" else labels, probs)
    _located(caught.value, field="pred_probs", sentence=expected[0], token=expected[1])
    masked_labels = [np.ma.masked_array([0, 1, 1], mask=[0, 0, 1]), [1, 0]]
    with pytest.raises(InvalidInputError, match="is masked") as caught:
        spanfast.find_label_issues(masked_labels, PROBS)
    _located(caught.value, field="labels", sentence=0, token=2)


def test_masked_arrays_without_masked_values_are_their_data():
    probs = [np.ma.masked_array(p) for p in PROBS]
    assert spanfast.find_label_issues(LABELS, probs) == spanfast.find_label_issues(LABELS, PROBS)


# -- errors point at the global row -------------------------------------------------------


def test_null_in_a_later_chunk_is_reported_at_its_global_row(tmp_path):
    rows = [[0.5, 0.5]] * 1500
    rows[1234] = [0.5, None]
    path = tmp_path / "probs.parquet"
    pq.write_table(pa.table({"p": rows}), path, row_group_size=500)
    column = pq.read_table(path).column("p")
    assert column.num_chunks > 1
    with pytest.raises(InvalidInputError, match="sentence 1234, token 1") as caught:
        spanfast.find_label_issues([[0, 1]] * 1500, column)
    _located(caught.value, field="pred_probs", sentence=1234, token=1)
    null_row = pa.chunked_array([pa.array([[0.1, 0.9]] * 3), pa.array([[0.2, 0.8], None])])
    with pytest.raises(InvalidInputError, match="sentence 4 is null") as caught:
        spanfast.find_label_issues([[0, 1]] * 5, null_row)
    _located(caught.value, sentence=4)


def test_chunks_with_different_numbers_of_classes_name_the_first_row_that_differs():
    probs = pa.chunked_array(
        [pa.array([[[0.1, 0.9]] * 3, [[0.2, 0.8]]]), pa.array([[[0.1, 0.8, 0.1]] * 2])]
    )
    with pytest.raises(InvalidInputError, match="sentence 2") as caught:
        token_find([[0, 1, 1], [0], [1, 0]], probs)
    _located(caught.value, field="pred_probs", sentence=2)


def test_zero_chunk_column_is_an_empty_dataset():
    labels = pa.chunked_array([], type=pa.list_(pa.int64()))
    assert (
        spanfast.find_label_issues(labels, pa.chunked_array([], type=pa.list_(pa.float64()))) == []
    )
    token_probs = pa.chunked_array([], type=pa.list_(pa.list_(pa.float32())))
    assert token_find(labels, token_probs) == []
    table = pa.table({"l": [[0, 1]], "p": [[0.2, 0.7]]}).filter(pa.array([False]))
    assert spanfast.find_label_issues(table.column("l"), table.column("p")) == []


@pytest.mark.parametrize("label", [2**64, -(2**64), 2**200])
def test_huge_python_integer_label_is_out_of_range_not_an_overflow(label):
    with pytest.raises(InvalidInputError, match=f"token 2 has label {label}") as caught:
        spanfast.find_label_issues([[0, 1, label], [1, 0]], PROBS)
    _located(caught.value, field="labels", sentence=0, token=2)


def test_zero_dimensional_array_as_a_sentence_names_it():
    with pytest.raises(InvalidInputTypeError, match="labels\\[1\\] should be a list") as caught:
        spanfast.find_label_issues([[0, 1, 1], np.array(1)], PROBS)
    _located(caught.value, field="labels", sentence=1)


# -- every nesting cleanlab accepts ------------------------------------------------------


def test_token_data_read_by_pandas_from_parquet_is_accepted_like_cleanlab(tmp_path):
    path = tmp_path / "tokens.parquet"
    pq.write_table(pa.table({"l": TOKEN_LABELS, "p": [p.tolist() for p in TOKEN_PROBS]}), path)
    frame = pd.read_parquet(path)  # numpy-backed: object arrays of row arrays
    assert frame["p"][0].dtype == object
    expected = cleanlab_token_find(list(frame["l"]), list(frame["p"]))
    assert token_find(frame["l"], frame["p"]) == expected
    assert token_find(list(frame["l"]), list(frame["p"])) == expected
    as_tuples = tuple(tuple(map(tuple, p)) for p in TOKEN_PROBS)
    assert token_find(tuple(map(tuple, TOKEN_LABELS)), as_tuples) == expected
    lists_of_arrays_of_arrays = [list(p) for p in TOKEN_PROBS]
    assert token_find(TOKEN_LABELS, lists_of_arrays_of_arrays) == expected


# -- the flat-array API checks what it is given -----------------------------------------

FLAT_LABELS = np.array([0, 1, 1, 0, 1, 0])
FLAT_PROBS = np.array([0.1, 0.9, 0.3, 0.8, 0.6, 0.45])


def test_core_takes_no_precomputed_counts():
    for function in (core.confident_thresholds, core.compute_confident_joint):
        assert "counts" not in inspect.signature(function).parameters


@pytest.mark.parametrize("dtype", [">f8", ">f4", "float16", "int64"])
def test_core_converts_probabilities_as_the_facades_do(dtype):
    probs = FLAT_PROBS.round() if dtype == "int64" else FLAT_PROBS
    native = probs.astype(np.float32 if dtype == ">f4" else np.float64)
    if dtype == "float16":
        native = probs.astype(np.float16).astype(np.float64)
    converted = probs.astype(dtype)
    for function in (core.find_label_issues, core.label_quality_scores, core.confident_thresholds):
        np.testing.assert_array_equal(
            function(FLAT_LABELS, converted), function(FLAT_LABELS, native)
        )
    labels = FLAT_LABELS.astype(">i8")
    np.testing.assert_array_equal(
        core.find_label_issues(labels, FLAT_PROBS), core.find_label_issues(FLAT_LABELS, FLAT_PROBS)
    )


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda: core.find_label_issues(FLAT_LABELS[:2], np.zeros((2, 2, 2))), TypeError, "shape"),
        (lambda: core.find_label_issues(FLAT_LABELS, FLAT_PROBS[:3]), ValueError, "3 rows"),
        (
            lambda: core.find_label_issues(FLAT_LABELS, FLAT_PROBS * 2),
            ValueError,
            "between 0 and 1",
        ),
        (
            lambda: core.confident_thresholds(FLAT_LABELS.reshape(2, 3), FLAT_PROBS),
            TypeError,
            "1-D",
        ),
        (lambda: core.sentence_scores(np.zeros((2, 2)), [0, 2]), ValueError, "1-D"),
        (lambda: core.sentence_scores(np.zeros(3), [0, 2, 1, 3]), ValueError, "non-decreasing"),
        (lambda: core.sentence_scores(np.zeros(3), [0.0, 3.0]), TypeError, "integers"),
        (lambda: core.locate(np.array([0]), np.array([0, 3, 2, 3])), ValueError, "non-decreasing"),
        (lambda: core.issue_tuples(np.array([-1]), np.array([0, 3])), ValueError, "positions"),
        (
            lambda: core.label_quality_scores(FLAT_LABELS, FLAT_PROBS, positions=np.array([6])),
            ValueError,
            "positions",
        ),
        (
            lambda: core.find_label_issues(FLAT_LABELS, FLAT_PROBS, confident_joint=np.eye(3)),
            ValueError,
            "shape",
        ),
        (
            lambda: core.find_label_issues(
                FLAT_LABELS, FLAT_PROBS, confident_joint=np.array([[1, -2], [0, 3]])
            ),
            ValueError,
            "non-negative",
        ),
        (
            lambda: core.find_label_issues(
                FLAT_LABELS, FLAT_PROBS, confident_joint=np.array([[1, np.nan], [0, 3]])
            ),
            ValueError,
            "finite",
        ),
        (
            lambda: core.find_label_issues(FLAT_LABELS, FLAT_PROBS, num_to_remove_per_class=[1]),
            ValueError,
            "one non-negative integer per class",
        ),
    ],
)
def test_core_rejects_what_a_kernel_cannot_take(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_a_ragged_with_decreasing_offsets_never_reaches_a_kernel():
    offsets = [0, 3, 2, 5]
    labels = Ragged(np.array([0, 1, 1, 0, 1]), offsets)
    probs = Ragged(np.array([0.1, 0.9, 0.9, 0.1, 0.9]), offsets)
    for function in (spanfast.find_label_issues, spanfast.get_label_quality_scores):
        with pytest.raises(InvalidInputError, match="non-decreasing") as caught:
            function(labels, probs)
        assert caught.value.sentence == 1


def test_errors_keep_their_location_when_pickled():
    import pickle

    with pytest.raises(InvalidInputError) as caught:
        spanfast.find_label_issues([[0, 1, 7], [1, 0]], PROBS)
    copy = pickle.loads(pickle.dumps(caught.value))
    assert type(copy) is type(caught.value) and str(copy) == str(caught.value)
    assert copy.location == caught.value.location == {"field": "labels", "sentence": 0, "token": 2}
