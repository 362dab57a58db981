"""The Ragged container and its conversions."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from spanfast import Ragged
from spanfast._input import nested as nested_module
from spanfast._input.nested import flatten_nested
from spanfast.errors import InvalidInputError


def test_round_trip_and_access():
    nested = [[1, 2, 3], [], [4], [5, 6]]
    ragged = Ragged.from_list(nested)
    assert ragged.to_list() == nested
    assert len(ragged) == 4 and ragged.n_tokens == 6
    assert ragged.lengths.tolist() == [3, 0, 1, 2]
    assert ragged[-1].tolist() == [5, 6]
    assert ragged[1:3].to_list() == [[], [4]]
    assert ragged[::2].to_list() == [[1, 2, 3], [4]]
    assert [x.tolist() for x in ragged] == nested
    with pytest.raises(IndexError):
        ragged[4]


def test_from_list_of_arrays_keeps_dtype_and_shape():
    arrays = [np.ones((2, 3), np.float32), np.zeros((1, 3), np.float32)]
    ragged = Ragged.from_list(arrays)
    assert ragged.values.dtype == np.float32 and ragged.values.shape == (3, 3)
    assert ragged.offsets.tolist() == [0, 2, 3]


@pytest.mark.parametrize(
    ("values", "offsets", "message"),
    [
        (np.arange(5), [0, 3, 2, 5], "offsets\\[1\\] = 3 > offsets\\[2\\] = 2"),
        (np.arange(5), [1, 5], "must start at 0"),
        (np.arange(5), [0, 4], "must end at n_tokens = 5"),
        (np.arange(5), [], "n_sentences \\+ 1 >= 1"),
        (np.arange(5), [0.0, 5.0], "must be integers"),
        (np.zeros((2, 2, 2)), [0, 2], "shape \\(n_tokens,\\)"),
    ],
)
def test_invalid_offsets_say_where(values, offsets, message):
    with pytest.raises(InvalidInputError, match=message):
        Ragged(values, offsets).check()  # O(1) checks on construction, the rest in check()


def test_from_arrow_list_large_list_sliced_and_chunked():
    data = [[0.1, 0.2], [], [0.3], [0.4, 0.5, 0.6]]
    for array in (pa.array(data), pa.array(data, type=pa.large_list(pa.float64()))):
        assert Ragged.from_arrow(array).to_list() == data
        assert Ragged.from_arrow(array.slice(1, 3)).to_list() == data[1:]
    chunked = pa.chunked_array([data[:2], data[2:]])
    assert Ragged.from_arrow(chunked).to_list() == data


def test_from_arrow_is_zero_copy_for_a_plain_list_array():
    values = np.arange(6, dtype=np.float64)
    array = pa.ListArray.from_arrays(pa.array([0, 2, 6], pa.int32()), pa.array(values))
    ragged = Ragged.from_arrow(array)
    buffer_address = array.values.buffers()[1].address
    assert ragged.values.__array_interface__["data"][0] == buffer_address


def test_from_arrow_nested_rows():
    data = [[[0.9, 0.1], [0.2, 0.8]], [[0.5, 0.5]]]
    ragged = Ragged.from_arrow(pa.array(data))
    assert ragged.values.shape == (3, 2)
    assert ragged.to_list() == data


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([[0.1], None, [0.2]], "sentence 1 is null"),
        ([[0.1], [0.2, None]], "values\\[1\\]\\[1\\] is null"),
        ([[[0.9, 0.1]], [[0.2, 0.8, 0.0]]], "values\\[1\\]\\[0\\] has 3 class probabilities"),
    ],
)
def test_from_arrow_rejects_nulls_and_ragged_rows(data, message):
    with pytest.raises(InvalidInputError, match=message):
        Ragged.from_arrow(pa.array(data))


def test_public_functions_accept_arrow_input():
    import spanfast

    labels = [[0, 1, 1], [1, 0]]
    probs = [[0.1, 0.8, 0.7], [0.9, 0.2]]
    expected = spanfast.find_label_issues(labels, [np.array(p) for p in probs])
    assert spanfast.find_label_issues(pa.array(labels), pa.array(probs)) == expected


@pytest.mark.parametrize(
    ("last", "dtype"), [(7, np.int8), (-128, np.int8), (128, np.int64), (-(2**63), np.int64)]
)
def test_nested_integers_are_gathered_chunk_by_chunk(monkeypatch, last, dtype):
    # Small chunks, so the value that decides the width comes in a later chunk.
    monkeypatch.setattr(nested_module, "_INTEGER_CHUNK_TOKENS", 3)
    nested = [[1, 2], [], [3, 4, 5, 6], [0], [last]]
    values = Ragged(*flatten_nested(nested, name="labels", token_ndim=0, small_integers=True))
    assert values.values.dtype == dtype
    assert values.to_list() == nested
    wide = Ragged(*flatten_nested(nested, name="labels", token_ndim=0))
    assert wide.values.dtype == np.int64 and wide.to_list() == nested


@pytest.mark.parametrize("odd_one", [1.5, "1", None, 2**64])
def test_nested_non_machine_integers_take_the_general_path(monkeypatch, odd_one):
    monkeypatch.setattr(nested_module, "_INTEGER_CHUNK_TOKENS", 2)
    nested = [[0, 1], [1, 0, 1], [odd_one]]
    values = Ragged(*flatten_nested(nested, name="labels", token_ndim=0, small_integers=True))
    assert values.values.tolist() == np.array([0, 1, 1, 0, 1, odd_one]).tolist()
