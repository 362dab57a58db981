"""Out-of-core runs give exactly the in-memory result."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import noisy_flat_dataset

from spanfast import Ragged, options
from spanfast.errors import InvalidInputError
from spanfast.results import find_issues
from spanfast.streaming import find_label_issues_in_batches, find_label_issues_parquet


def _dataset(seed: int, n_sentences: int, n_classes: int, dtype, span: bool):
    labels, probs, offsets = noisy_flat_dataset(seed, n_sentences, n_classes, dtype, span)
    return Ragged(labels, offsets), Ragged(probs, offsets)


def _batches(labels: Ragged, probs: Ragged, cuts: list[int]):
    bounds = [0, *sorted(cuts), labels.n_sentences]

    def read():
        for a, b in zip(bounds[:-1], bounds[1:]):
            yield labels[a:b], probs[a:b]

    return read


@settings(deadline=None, max_examples=60)
@given(
    seed=st.integers(0, 2**32 - 1),
    n_sentences=st.integers(1, 120),
    n_classes=st.integers(2, 6),
    dtype=st.sampled_from([np.float32, np.float64]),
    span=st.booleans(),
    filter_by=st.sampled_from(options.FILTER_BY),
    rank_by=st.sampled_from(options.RANK_BY),
    frac_noise=st.sampled_from([1.0, 0.6]),
    min_examples=st.integers(0, 3),
    data=st.data(),
)
def test_batches_give_the_in_memory_result(
    seed, n_sentences, n_classes, dtype, span, filter_by, rank_by, frac_noise, min_examples, data
):
    labels, probs = _dataset(seed, n_sentences, n_classes, dtype, span)
    if np.unique(labels.values).size < 2:
        return
    cuts = data.draw(st.lists(st.integers(0, n_sentences), max_size=6))
    options = dict(
        filter_by=filter_by,
        return_indices_ranked_by=rank_by,
        frac_noise=frac_noise,
        min_examples_per_class=min_examples,
    )
    with warnings.catch_warnings(record=True) as in_memory_warnings:
        warnings.simplefilter("always")
        expected = find_issues(labels, probs, **options)
    with warnings.catch_warnings(record=True) as streamed_warnings:
        warnings.simplefilter("always")
        streamed = find_label_issues_in_batches(_batches(labels, probs, cuts), **options)
    for name, values in expected.to_dict().items():
        np.testing.assert_array_equal(streamed.to_dict()[name], values, err_msg=name)
        assert streamed.to_dict()[name].dtype == values.dtype, name
    assert [str(w.message) for w in streamed_warnings] == [
        str(w.message) for w in in_memory_warnings
    ]


def test_parquet_round_trip_and_token_text(tmp_path):
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    labels, probs = _dataset(7, 300, 2, np.float32, span=True)
    tokens = [[f"w{i}_{j}" for j in range(n)] for i, n in enumerate(labels.lengths)]
    table = pa.table(
        {
            "labels": pa.array(labels.to_list()),
            "probs": pa.array(probs.to_list(), pa.list_(pa.float32())),
            "tokens": pa.array(tokens),
        }
    )
    pq.write_table(table.slice(0, 120), tmp_path / "part-0.parquet", row_group_size=50)
    pq.write_table(table.slice(120), tmp_path / "part-1.parquet", row_group_size=50)
    expected = find_issues(labels, probs)
    passes = []
    streamed = find_label_issues_parquet(
        tmp_path,
        labels="labels",
        probs="probs",
        tokens="tokens",
        batch_size=37,
        progress=lambda done_pass, n_passes, rows: passes.append(done_pass),
    )
    assert streamed.to_tuples() == expected.to_tuples()
    np.testing.assert_array_equal(streamed.score, expected.score)
    assert list(streamed.token_text) == [tokens[i][j] for i, j in expected.to_tuples()]
    assert sorted(set(passes)) == [1, 2, 3, 4, 5]


def test_batch_errors_name_the_row_in_the_whole_dataset():
    labels, probs = _dataset(3, 50, 2, np.float64, span=True)
    bad_probs = probs.values.copy()
    bad_probs[probs.offsets[33] + 0] = np.nan
    bad = Ragged(bad_probs, probs.offsets)
    with pytest.raises(ValueError, match="sentence 33, token 0 has NaN"):
        find_label_issues_in_batches(_batches(labels, bad, [10, 20, 30, 40]))


def test_a_source_that_changes_between_passes_is_an_error_not_a_crash():
    labels, probs = _dataset(11, 40, 3, np.float64, span=False)
    calls = []

    def read():
        calls.append(1)
        repeat = 30 if len(calls) >= 4 else 1  # later passes see more data
        return [(labels, probs)] * repeat

    for filter_by in ("prune_by_class", "prune_by_noise_rate", "low_self_confidence"):
        calls.clear()
        with pytest.raises(ValueError, match="changed between passes"):
            find_label_issues_in_batches(read, filter_by=filter_by)


def test_labels_that_change_between_passes_are_an_error():
    labels, probs = _dataset(14, 40, 3, np.float64, span=False)
    relabelled = [[(label + 1) % 3 for label in sentence] for sentence in labels]
    calls = []

    def read():
        calls.append(1)  # pass 1 counts the classes; pass 2 sees other labels
        return [(labels if len(calls) == 1 else relabelled, probs)]

    with pytest.raises(ValueError, match=r"batch 0 \(from sentence 0\) has other labels in pass 2"):
        find_label_issues_in_batches(read)


def test_empty_batches_are_skipped():
    labels, probs = _dataset(12, 30, 3, np.float64, span=False)
    expected = find_issues(labels, probs)

    def read():
        yield [[]], [np.empty((0, 3))]
        yield labels[:10], probs[:10]
        yield [], []
        yield labels[10:], probs[10:]

    streamed = find_label_issues_in_batches(read)
    assert streamed.to_tuples() == [(i + 1, j) for i, j in expected.to_tuples()]


# Batches without tokens, given the shape of an empty sentence's probabilities.
EMPTY_BATCHES = {
    "no sentences": lambda shape: ([], []),
    "an empty list": lambda shape: ([[]], [[]]),
    "a float64 array": lambda shape: ([[], []], [np.empty(shape), []]),
}


@pytest.mark.parametrize("span", [True, False])
@pytest.mark.parametrize("kind", EMPTY_BATCHES)
def test_a_batch_without_tokens_keeps_float32(span, kind):
    # An empty Python list has no dtype (NumPy reads it as float64): the dataset's dtype
    # is the one of the batches with tokens, as for empty sentences in memory.
    labels, probs = _dataset(14, 40, 3, np.float32, span)
    empty = EMPTY_BATCHES[kind]((0,) if span else (0, 3))
    pieces = [(labels[:15], probs[:15]), empty, (labels[15:], probs[15:])]
    with_empty = find_label_issues_in_batches(lambda: iter(pieces))
    without = find_label_issues_in_batches(lambda: iter([pieces[0], pieces[2]]))
    n_empty = len(empty[0])
    sentences = np.split(probs.values, probs.offsets[1:-1])  # float32 arrays
    expected = find_issues(
        labels.to_list()[:15] + empty[0] + labels.to_list()[15:],
        [*sentences[:15], *empty[1], *sentences[15:]],
    )
    assert expected.score.dtype == np.float32 and len(expected) > 0
    for name, values in expected.to_dict().items():
        np.testing.assert_array_equal(with_empty.to_dict()[name], values, err_msg=name)
        assert with_empty.to_dict()[name].dtype == values.dtype, name
        renumbered = without.to_dict()[name]
        if name == "sentence":  # without the empty batch's sentences
            renumbered = np.where(renumbered >= 15, renumbered + n_empty, renumbered)
        np.testing.assert_array_equal(renumbered, values, err_msg=name)
        assert renumbered.dtype == values.dtype, name
    np.testing.assert_array_equal(with_empty.sentence_scores, expected.sentence_scores)
    assert with_empty.sentence_scores.dtype == without.sentence_scores.dtype
    np.testing.assert_array_equal(
        np.delete(with_empty.sentence_scores, np.arange(15, 15 + n_empty)),
        without.sentence_scores,
    )


def test_batches_must_agree_on_tokens():
    labels, probs = _dataset(13, 20, 2, np.float64, span=True)
    tokens = [["w"] * n for n in labels.lengths]

    def read():
        yield labels[:10], probs[:10], tokens[:10]
        yield labels[10:], probs[10:]

    with pytest.raises(ValueError, match="batches disagree on tokens"):
        find_label_issues_in_batches(read)


def _changing_source(labels: Ragged, probs: Ragged, cuts: list[int], change, from_pass: int):
    """Batches at ``cuts``; from pass ``from_pass`` on, batch 1 is ``change(labels, probs)``."""
    bounds = [0, *cuts, labels.n_sentences]
    calls = []

    def read():
        calls.append(1)
        for index, (a, b) in enumerate(zip(bounds[:-1], bounds[1:])):
            batch = (labels[a:b], probs[a:b])
            yield change(*batch) if index == 1 and len(calls) >= from_pass else batch

    return read


def _new_probs(labels, probs):
    values = probs.values.copy()
    values[3] = np.float64(0.5) if values[3] != 0.5 else 0.25
    return labels, Ragged(values, probs.offsets)


def _permuted_labels(labels, probs):
    """Swap a 0 and a 1 within a sentence: the class counts stay those of pass 1."""
    values = labels.values.copy()
    sentence = next(
        i
        for i in range(labels.n_sentences)
        if {0, 1} <= set(values[labels.offsets[i] : labels.offsets[i + 1]].tolist())
    )
    tokens = values[labels.offsets[sentence] : labels.offsets[sentence + 1]]
    zero, one = np.flatnonzero(tokens == 0)[0], np.flatnonzero(tokens == 1)[0]
    tokens[zero], tokens[one] = 1, 0
    return Ragged(values, labels.offsets), probs


def _moved_boundary(labels, probs):
    offsets = labels.offsets.copy()
    offsets[1] += 1 if offsets[1] < offsets[2] else -1
    return Ragged(labels.values, offsets), Ragged(probs.values, offsets)


@pytest.mark.parametrize(
    "change, what",
    [
        (_new_probs, "probabilities"),
        (_permuted_labels, "labels"),
        (_moved_boundary, "sentence offsets"),
    ],
)
@pytest.mark.parametrize("from_pass", [2, 3, 5])
def test_a_batch_that_changes_between_passes_is_named(change, what, from_pass):
    labels, probs = _dataset(21, 60, 2, np.float64, span=True)
    # Batch 1 (sentences 20..39) starts with a sentence that has both labels.
    values = labels.values.copy()
    values[labels.offsets[20] : labels.offsets[20] + 2] = [0, 1]
    labels = Ragged(values, labels.offsets)
    assert labels.lengths[20] >= 2
    read = _changing_source(labels, probs, [20, 40], change, from_pass)
    with pytest.raises(
        ValueError, match=rf"batch 1 \(from sentence 20\) has other {what}"
    ) as error:
        find_label_issues_in_batches(read, filter_by="prune_by_noise_rate")
    assert error.value.sentence == 20


@settings(deadline=None, max_examples=30)
@given(
    seed=st.integers(0, 2**32 - 1),
    n_sentences=st.integers(2, 80),
    span=st.booleans(),
    filter_by=st.sampled_from(options.FILTER_BY),
    data=st.data(),
)
def test_float32_and_float64_batches_give_the_concatenations_answer(
    seed, n_sentences, span, filter_by, data
):
    labels, probs = _dataset(seed, n_sentences, 3, np.float64, span)
    if np.unique(labels.values).size < 2:
        return
    cuts = sorted(data.draw(st.lists(st.integers(0, n_sentences), min_size=1, max_size=4)))
    bounds = [0, *cuts, n_sentences]
    widths = data.draw(
        st.lists(
            st.sampled_from([np.float32, np.float64]),
            min_size=len(bounds) - 1,
            max_size=len(bounds) - 1,
        )
    )
    parts = [
        (labels[a:b], Ragged(probs[a:b].values.astype(width), probs[a:b].offsets))
        for (a, b), width in zip(zip(bounds[:-1], bounds[1:]), widths)
    ]
    whole = Ragged(
        np.concatenate([part[1].values for part in parts if part[1].n_tokens]), probs.offsets
    )  # NumPy's promotion: float64 if any part with tokens is
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = find_issues(labels, whole, filter_by=filter_by)
        streamed = find_label_issues_in_batches(lambda: iter(parts), filter_by=filter_by)
    for name, values in expected.to_dict().items():
        np.testing.assert_array_equal(streamed.to_dict()[name], values, err_msg=name)
        assert streamed.to_dict()[name].dtype == values.dtype, name


def test_batches_of_other_layouts_are_an_error_naming_the_sentence():
    labels, probs = _dataset(5, 30, 3, np.float64, span=False)
    span_labels, span_probs = _dataset(5, 30, 2, np.float64, span=True)

    def read():
        yield labels[:10], probs[:10]
        yield span_labels[10:], span_probs[10:]

    with pytest.raises(ValueError, match="changes layout at sentence 10") as error:
        find_label_issues_in_batches(read)
    assert error.value.sentence == 10


@pytest.mark.parametrize("second", ["fixed", "variable"])
def test_parquet_files_whose_schemas_disagree_on_k_are_named_where_k_changes(tmp_path, second):
    # The first file's rows have 3 class probabilities (a variable-size list), the second
    # file's 2 (a fixed-size list) or 3 and 2 the other way round: K taken from one file's
    # schema made the other file's labels look out of range ("pred_probs must have at
    # least 3 columns"); the error is where the layout changes.
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    rng = np.random.default_rng(7)

    def write(name, n_classes, fixed):
        lengths = [3, 2, 4]
        labels = [[n_classes - 1] * n for n in lengths]
        flat = rng.dirichlet(np.ones(n_classes), sum(lengths))
        if fixed:
            rows = pa.FixedSizeListArray.from_arrays(pa.array(flat.reshape(-1)), n_classes)
        else:
            rows = pa.array(flat.tolist())
        offsets = pa.array(np.r_[0, np.cumsum(lengths)].astype(np.int32))
        probs = pa.ListArray.from_arrays(offsets, rows)
        pq.write_table(pa.table({"tags": labels, "p": probs}), tmp_path / name)

    write("a.parquet", 3, fixed=second == "variable")
    write("b.parquet", 2, fixed=second == "fixed")
    with pytest.raises(InvalidInputError, match="changes layout at sentence 3") as raised:
        find_label_issues_parquet(tmp_path, labels="tags", probs="p")
    assert "2 class probabilities there, 3 class probabilities before" in str(raised.value)
    assert raised.value.sentence == 3
