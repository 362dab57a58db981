"""Per-sentence columns from pipeline tables: pyarrow, pandas, polars, Hugging Face datasets."""

from __future__ import annotations

import subprocess
import sys

import datasets
import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pytest

import spanfast
from spanfast import Ragged
from spanfast.errors import InvalidInputError
from spanfast.io import as_ragged, columns_from_table
from spanfast.results import find_issues

# Span data: one probability per token; sentence 0 token 1 and sentence 2 token 0 look wrong.
SPAN_LABELS = [[0, 1, 1, 0], [1, 1, 0], [], [0, 0, 1], [1]]
SPAN_PROBS = [[0.1, 0.2, 0.9, 0.1], [0.9, 0.8, 0.1], [], [0.95, 0.2, 0.7], [0.6]]


def _token_classification_data(n_sentences: int = 30, n_classes: int = 3, seed: int = 0):
    """Labels and K probabilities per token, one in eight labels flipped."""
    rng = np.random.default_rng(seed)
    labels, probs = [], []
    for length in rng.integers(0, 6, n_sentences).tolist():
        true = rng.integers(0, n_classes, length)
        rows = rng.dirichlet(np.ones(n_classes), length) * 0.4
        rows[np.arange(length), true] += 0.6
        flipped = np.where(rng.random(length) < 0.125, (true + 1) % n_classes, true)
        labels.append(flipped.tolist())
        probs.append(rows.round(6).tolist())
    return labels, probs


# Token classification: K = 3 probabilities per token.
TOKEN_LABELS, TOKEN_PROBS = _token_classification_data()
TOKENS = [["a", "b", "c", "d"], ["e", "f", "g"], [], ["h", "i", "j"], ["k"]]


def _pandas(data, arrow_type=None):
    if arrow_type is None:
        return pd.Series(data, dtype=object)
    return pd.Series(data, dtype=pd.ArrowDtype(arrow_type))


def _dataset(**columns):
    return datasets.Dataset.from_dict(columns)


CONVERTERS = {
    "pyarrow": lambda data, arrow_type: pa.array(data, type=arrow_type),
    "pyarrow-chunked": lambda data, arrow_type: pa.chunked_array(
        [pa.array(data[:2], type=arrow_type), pa.array(data[2:], type=arrow_type)]
    ),
    "pandas-object": lambda data, arrow_type: _pandas(data),
    "pandas-object-arrays": lambda data, arrow_type: _pandas([np.asarray(s) for s in data]),
    "pandas-arrow": lambda data, arrow_type: _pandas(data, arrow_type),
    "polars": lambda data, arrow_type: pl.Series(data),
    "datasets": lambda data, arrow_type: _dataset(column=data)["column"],
    "datasets-arrow-format": lambda data, arrow_type: _dataset(column=data).with_format("arrow")[
        "column"
    ],
    "list": lambda data, arrow_type: data,
}


@pytest.mark.parametrize("kind", CONVERTERS)
@pytest.mark.parametrize("task", ["span", "token"])
def test_every_input_kind_gives_the_list_input_result(kind, task):
    if task == "span":
        labels, probs, probs_type = SPAN_LABELS, SPAN_PROBS, pa.list_(pa.float64())
        if kind == "polars" or kind.startswith("datasets"):
            probs = [[float(p) for p in s] for s in probs]  # an empty list needs a known type
    else:
        labels, probs, probs_type = TOKEN_LABELS, TOKEN_PROBS, pa.list_(pa.list_(pa.float64()))
        if kind == "pandas-object-arrays":
            probs = [np.asarray(s) for s in probs]
    convert = CONVERTERS[kind]
    label_column = convert(labels, pa.list_(pa.int64()))
    prob_column = convert(probs, probs_type)

    expected_labels = as_ragged(labels, name="labels")
    assert as_ragged(label_column, name="labels").to_list() == expected_labels.to_list()
    ragged_probs = as_ragged(prob_column, name="probs")
    np.testing.assert_array_equal(ragged_probs.offsets, as_ragged(labels).offsets)

    if task == "span":
        expected = spanfast.find_label_issues(labels, [np.asarray(p) for p in probs])
        got = spanfast.find_label_issues(label_column, prob_column)
    else:
        from spanfast.token_classification.filter import find_label_issues

        expected = find_label_issues(labels, [np.asarray(p) for p in probs])
        got = find_label_issues(label_column, prob_column)
    assert got == expected
    assert expected  # the data has issues to find


def _buffer_address(array: pa.Array) -> int:
    return array.buffers()[1].address


def test_arrow_backed_pandas_column_is_zero_copy():
    values = np.arange(6, dtype=np.float64) / 10
    array = pa.ListArray.from_arrays(pa.array([0, 2, 6], pa.int32()), pa.array(values))
    series = pd.Series(pd.arrays.ArrowExtensionArray(array))
    ragged = as_ragged(series, name="probs")
    assert ragged.values.__array_interface__["data"][0] == _buffer_address(array.values)


def test_polars_column_is_zero_copy():
    series = pl.Series([[0.1, 0.2], [0.3, 0.4, 0.5]])
    arrow = series.to_arrow()
    ragged = as_ragged(series, name="probs")
    # polars hands out the same buffer on every to_arrow call.
    assert ragged.values.__array_interface__["data"][0] == _buffer_address(arrow.values)


def test_datasets_column_is_zero_copy_without_an_index_mapping():
    dataset = _dataset(probs=[[0.1, 0.2], [0.3, 0.4, 0.5]])
    stored = dataset.data.column("probs").chunk(0)
    ragged = as_ragged(dataset["probs"], name="probs")
    assert ragged.values.__array_interface__["data"][0] == _buffer_address(stored.values)


def test_datasets_shuffle_select_and_filter_keep_the_dataset_row_order():
    dataset = _dataset(labels=SPAN_LABELS, probs=SPAN_PROBS, tokens=TOKENS)
    for reordered in (
        dataset.shuffle(seed=0),
        dataset.select([4, 0, 3]),
        dataset.filter(lambda row: len(row["labels"]) > 1),
    ):
        assert reordered._indices is not None  # an index mapping, not a rewritten table
        expected_labels = [row["labels"] for row in reordered]
        assert as_ragged(reordered["labels"], name="labels").to_list() == expected_labels
        labels, probs, tokens = columns_from_table(
            reordered, labels="labels", probs="probs", tokens="tokens"
        )
        assert labels.to_list() == expected_labels
        assert probs.to_list() == [row["probs"] for row in reordered]
        assert tokens.to_list() == [row["tokens"] for row in reordered]
    shuffled = dataset.shuffle(seed=0)
    order = shuffled._indices.column(0).to_pylist()
    assert order != sorted(order)
    assert as_ragged(shuffled["labels"]).to_list() == [SPAN_LABELS[i] for i in order]


@pytest.mark.parametrize(
    "make_table",
    [
        pa.table,
        lambda columns: pa.table(columns).to_batches()[0],
        pd.DataFrame,
        pl.DataFrame,
        datasets.Dataset.from_dict,
        dict,
    ],
    ids=["pyarrow", "record-batch", "pandas", "polars", "datasets", "mapping"],
)
def test_columns_from_table(make_table):
    table = make_table({"tags": SPAN_LABELS, "p": SPAN_PROBS, "words": TOKENS})
    labels, probs, tokens = columns_from_table(table, labels="tags", probs="p", tokens="words")
    assert labels.to_list() == SPAN_LABELS
    assert probs.to_list() == SPAN_PROBS
    assert tokens.to_list() == TOKENS
    expected = find_issues(SPAN_LABELS, [np.asarray(p) for p in SPAN_PROBS])
    got = find_issues(labels, probs)
    assert got.to_tuples() == expected.to_tuples()
    np.testing.assert_array_equal(got.score, expected.score)
    assert columns_from_table(table, labels="tags", probs="p")[2] is None


def test_columns_from_table_names_the_missing_column():
    table = pa.table({"tags": SPAN_LABELS, "p": SPAN_PROBS})
    with pytest.raises(InvalidInputError, match="no column 'words'; its columns are 'tags', 'p'"):
        columns_from_table(table, labels="tags", probs="p", tokens="words")
    with pytest.raises(InvalidInputError, match="expected a table with named columns"):
        columns_from_table([[0]], labels="tags", probs="p")


NULL_ROW = [[0.1, 0.2], None, [0.3]]
NULL_TOKEN = [[0.1, 0.2], [0.3, None]]


@pytest.mark.parametrize(
    ("column", "message"),
    [
        (pd.Series(NULL_ROW), "probs: sentence 1 is null"),
        (pd.Series([[0.1], np.nan]), "probs: sentence 1 is null"),
        (pd.Series(NULL_TOKEN), r"probs\[1\]\[1\] is null \(sentence 1, token 1\)"),
        (_pandas(NULL_ROW, pa.list_(pa.float64())), "probs: sentence 1 is null"),
        (_pandas(NULL_TOKEN, pa.list_(pa.float64())), r"probs\[1\]\[1\] is null"),
        (pl.Series(NULL_ROW), "probs: sentence 1 is null"),
        (pl.Series(NULL_TOKEN), r"probs\[1\]\[1\] is null"),
        (_dataset(probs=NULL_ROW)["probs"], "probs: sentence 1 is null"),
        (_dataset(probs=NULL_TOKEN)["probs"], r"probs\[1\]\[1\] is null"),
    ],
)
def test_nulls_name_the_row(column, message):
    with pytest.raises(InvalidInputError, match=message):
        as_ragged(column, name="probs")


def test_null_rows_in_the_public_functions_name_the_sentence():
    with pytest.raises(InvalidInputError, match="sentence 1 is null"):
        spanfast.find_label_issues(pd.Series([[0, 1], None]), [[0.1, 0.9], [0.2]])


@pytest.mark.parametrize(
    ("column", "message"),
    [
        (pd.DataFrame({"a": [[0]]}), "got a DataFrame; select a column"),
        (pl.DataFrame({"a": [[0]]}), "got a DataFrame; select a column"),
        (_dataset(a=[[0]]), "got a Dataset; select a column"),
        (pd.Series([0, 1, 2]), "flat 1-D array"),
        (pl.Series([0, 1, 2]), "expected an Arrow list array"),
    ],
)
def test_wrong_objects_are_rejected(column, message):
    with pytest.raises(InvalidInputError, match=message):
        as_ragged(column, name="labels")


def test_ragged_and_lists_pass_through():
    ragged = Ragged(np.array([1, 2, 3]), [0, 1, 3])
    assert as_ragged(ragged) is ragged
    assert as_ragged([[1], [2, 3]]).to_list() == [[1], [2, 3]]
    assert Ragged.from_list(pd.Series([[1], [2, 3]])).to_list() == [[1], [2, 3]]


def test_import_spanfast_loads_no_table_library():
    code = (
        "import sys, spanfast, spanfast.io, spanfast.cli; "
        "print(sorted({'pandas', 'pyarrow', 'polars', 'datasets'} & set(sys.modules)))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
