"""Several span classes at once (issue 12, part 1): for every span class c the result
is cleanlab 2.9.0's single-class span result on that class's binary column."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from cleanlab.experimental import span_classification as cleanlab_span
from strategies import cleanlab_with_stable_sorts

from spanfast import span_classification as spans
from spanfast.errors import InvalidInputError
from spanfast.ragged import Ragged


def make_data(seed: int, C: int, dtype, n_sentences: int = 40, *, empty: bool = True):
    """Random sentences of (T, C) probabilities and 0/1 labels: a noisy model, some
    flipped labels, and the last class labelled by nobody (unless C == 1); the first
    sentence is empty when ``empty``."""
    rng = np.random.default_rng(seed)
    lengths = rng.integers(1 - empty, 14, n_sentences)
    if empty:
        lengths[0] = 0
    T = int(lengths.sum())
    truth = rng.random((T, C)) < rng.uniform(0.1, 0.5, C)
    p = np.clip(np.where(truth, 0.75, 0.2) + rng.normal(0, 0.2, (T, C)), 0, 1)
    labels = truth ^ (rng.random((T, C)) < 0.08)
    if C > 1:
        labels[:, -1] = False
    labels[0, :] = False  # no class covers every token
    offsets = np.concatenate([[0], np.cumsum(lengths)])
    probs = [p[a:b].astype(dtype) for a, b in zip(offsets[:-1], offsets[1:])]
    matrices = [labels[a:b].astype(np.uint8) for a, b in zip(offsets[:-1], offsets[1:])]
    id_lists = [
        [[c + 1 for c in np.flatnonzero(row)] or [0] for row in matrix.tolist()]
        for matrix in matrices
    ]
    return id_lists, matrices, probs


def column(matrices, probs, c):
    """Class c's single-class span data, as cleanlab takes it."""
    return [m[:, c - 1].astype(int).tolist() for m in matrices], [p[:, c - 1] for p in probs]


def cleanlab_issues(labels, probs, *, stable: bool = False):
    """cleanlab's answer; ``stable``: with every sort of cleanlab made stable, which is
    the answer of spanfast's tie rule (ties by position), exactly."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if not stable:
            return cleanlab_span.find_label_issues(labels, probs)
        with cleanlab_with_stable_sorts():
            return cleanlab_span.find_label_issues(labels, probs)


def self_confidence(labels, probs, issue):
    i, j = issue
    return probs[i][j] if labels[i][j] else 1 - probs[i][j]


def assert_same_modulo_ties(ours, theirs, labels, probs):
    """Same issues; in the same order up to the order within groups of equal scores."""
    assert sorted(ours) == sorted(theirs)
    ours_scores = [self_confidence(labels, probs, issue) for issue in ours]
    theirs_scores = [self_confidence(labels, probs, issue) for issue in theirs]
    assert ours_scores == theirs_scores
    assert ours_scores == sorted(ours_scores)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("C", range(1, 13))
def test_every_class_is_cleanlabs_single_class_result(C, dtype):
    id_lists, matrices, probs = make_data(C * 7 + (dtype is np.float32), C, dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from_ids = spans.find_label_issues(id_lists, probs)
        from_matrices = spans.find_label_issues(matrices, probs)
        ragged = spans.find_label_issues(Ragged.from_list(matrices), Ragged.from_list(probs))
    assert from_ids == from_matrices == ragged
    assert list(from_ids) == list(range(1, C + 1))  # C from the width of pred_probs
    for c in range(1, C + 1):
        labels_c, probs_c = column(matrices, probs, c)
        assert from_ids[c] == cleanlab_issues(labels_c, probs_c, stable=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            assert from_ids[c] == spans.find_label_issues(labels_c, probs_c)  # 1-D spanfast


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_a_model_that_disagrees_everywhere_many_tiles_and_tied_scores(dtype):
    # Most entries are suspects (the kernel's list of them grows past its first size),
    # tokens span several tiles, and probabilities rounded to 0.05 tie a lot (the
    # ranking's radix sort must keep ties in position order, as a stable sort does).
    rng = np.random.default_rng(5)
    C, lengths = 3, rng.integers(1, 30, 1500)
    T = int(lengths.sum())
    probs_flat = (np.round(rng.random((T, C)) * 20) / 20).astype(dtype)
    labels_flat = (rng.random((T, C)) < 0.4).astype(np.uint8)
    offsets = np.concatenate([[0], np.cumsum(lengths)])
    labels, probs = Ragged(labels_flat, offsets), Ragged(probs_flat, offsets)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        found = spans.find_label_issues(labels, probs)
        for c in range(1, C + 1):
            column_c = (
                Ragged(np.ascontiguousarray(labels_flat[:, c - 1]), offsets),
                Ragged(np.ascontiguousarray(probs_flat[:, c - 1]), offsets),
            )
            assert found[c] == spans.find_label_issues(*column_c)
    assert sum(map(len, found.values())) > T  # most tokens are issues of some class


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("C", [1, 3, 8])
def test_ties_numpy_is_cleanlabs_answer_exactly(C, dtype):
    _, matrices, probs = make_data(100 + C, C, dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        found = spans.find_label_issues(matrices, probs, ties="numpy")
    for c in range(1, C + 1):
        assert found[c] == cleanlab_issues(*column(matrices, probs, c))


def test_ties_by_position_within_each_class():
    # Equal probabilities everywhere: every issue of a class ties with every other.
    probs = [np.full((6, 2), 0.9), np.full((4, 2), 0.9)]
    labels = [[[0]] * 6, [[0], [1, 2], [0], [0]]]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        found = spans.find_label_issues(labels, probs)
    for c in (1, 2):
        assert found[c] == sorted(found[c])
        labels_c, probs_c = column(
            [np.array([[1 in t, 2 in t] for t in s], np.uint8) for s in labels], probs, c
        )
        assert_same_modulo_ties(found[c], cleanlab_issues(labels_c, probs_c), labels_c, probs_c)


def test_a_class_nobody_labelled_is_reported_as_cleanlab_reports_it():
    # C is the width of pred_probs: the unlabelled last class has its entry. cleanlab's
    # answer for it flags nothing (its threshold is the missing-class placeholder, so no
    # token is confidently in it), and its token scores show where the model puts it.
    id_lists, matrices, probs = make_data(5, 4, np.float64, empty=False)
    assert not any(m[:, 3].any() for m in matrices)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        found = spans.find_label_issues(id_lists, probs)
    assert found[4] == cleanlab_issues(*column(matrices, probs, 4))
    _, token_scores = spans.get_label_quality_scores(id_lists, probs)
    flat = np.concatenate([p[:, 3] for p in probs])
    np.testing.assert_array_equal(token_scores[4].values, 1 - flat)


def test_the_example_of_cleanlab_pull_request_1034():
    labels = [[[0], [1, 2], [1, 3], [0]], [[1], [2, 3], [3]]]
    pred_probs = [
        np.array([[0.9, 0.2, 0.3], [0.9, 0.9, 0.2], [0.9, 0.1, 0.7], [0.1, 0.1, 0.1]]),
        np.array([[0.1, 0.9, 0.1], [0.1, 0.9, 0.9], [0.1, 0.9, 0.9]]),
    ]
    assert spans.find_label_issues(labels, pred_probs) == {
        1: [(0, 0), (1, 0)],
        2: [(1, 0), (1, 2)],
        3: [],
    }


def test_one_class_id_per_token_is_accepted():
    _, matrices, probs = make_data(9, 3, np.float64)
    single = [m.copy() for m in matrices]
    for m in single:  # at most one class per token
        m[:, 1:] &= ~m[:, :1].astype(bool)
        m[:, 2] &= ~m[:, 1].astype(bool)
    ids = [(m * np.arange(1, 4)).sum(axis=1).tolist() for m in single]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert spans.find_label_issues(ids, probs) == spans.find_label_issues(single, probs)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("C", [1, 2, 5, 12])
@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"token_score_method": "normalized_margin"},
        {"token_score_method": "confidence_weighted_entropy", "sentence_score_method": "softmin"},
    ],
)
def test_quality_scores_are_cleanlabs_per_class(C, dtype, kwargs):
    # (cleanlab's get_label_quality_scores fails on an empty sentence; spanfast scores it 1)
    id_lists, matrices, probs = make_data(200 + C, C, dtype, empty=False)
    sentence_scores, token_scores = spans.get_label_quality_scores(id_lists, probs, **kwargs)
    assert list(sentence_scores) == list(token_scores) == list(range(1, C + 1))
    for c in range(1, C + 1):
        labels_c, probs_c = column(matrices, probs, c)
        theirs_sentences, theirs_tokens = cleanlab_span.get_label_quality_scores(
            labels_c, probs_c, **kwargs
        )
        np.testing.assert_allclose(sentence_scores[c], theirs_sentences, rtol=1e-12, atol=0)
        assert len(token_scores[c]) == len(theirs_tokens)
        for ours, theirs in zip(token_scores[c], theirs_tokens):
            np.testing.assert_allclose(ours.to_numpy(), theirs.to_numpy(), rtol=1e-12, atol=0)


def test_one_dimensional_span_data_is_unchanged():
    labels = [[0, 0, 1, 1], [1, 1, 0]]
    pred_probs = [np.array([0.9, 0.9, 0.9, 0.1]), np.array([0.1, 0.1, 0.9])]
    assert spans.find_label_issues(labels, pred_probs) == [(0, 0), (0, 1), (0, 3), (1, 0), (1, 1)]
    sentence_scores, _ = spans.get_label_quality_scores(labels, pred_probs)
    assert isinstance(sentence_scores, np.ndarray)


GOOD_PROBS = [np.array([[0.1, 0.9], [0.8, 0.2], [0.3, 0.3]]), np.array([[0.5, 0.5], [0.9, 0.1]])]


@pytest.mark.parametrize("function", [spans.find_label_issues, spans.get_label_quality_scores])
@pytest.mark.parametrize(
    ("labels", "probs", "field", "where", "span_class", "message"),
    [
        ([[[2], [1], [3]], [[0], []]], GOOD_PROBS, "labels", (0, 2), 3, "in 1..2"),
        ([[[2], [1], [0]], [[-1], []]], GOOD_PROBS, "labels", (1, 0), -1, "in 1..2"),
        ([[[2], [1], ["x"]], [[0], []]], GOOD_PROBS, "labels", (0, 2), None, "integers"),
        ([[[2], 1, [0]], [[0], []]], GOOD_PROBS, "labels", (0, 1), None, "per token"),
        (
            [np.array([[0, 1], [1, 0], [0, 2]]), np.array([[0, 0], [1, 0]])],
            GOOD_PROBS,
            "labels",
            (0, 2),
            2,
            "0 or 1",
        ),
        (
            [np.array([[0, 1, 0]] * 3), np.array([[0, 0, 0]] * 2)],
            GOOD_PROBS,
            "labels",
            (None, None),
            None,
            "3 span classes per token but pred_probs has 2",
        ),
        (
            [[[1], [1], [0]], [[0], [2]]],
            [GOOD_PROBS[0], np.array([[0.5, np.nan], [0.9, 0.1]])],
            "pred_probs",
            (1, 0),
            2,
            "span class 2 has NaN",
        ),
        (
            [[[1], [1], [0]], [[0], [2]]],
            [np.array([[0.1, 0.9], [1.5, 0.2], [0.3, 0.3]]), GOOD_PROBS[1]],
            "pred_probs",
            (0, 1),
            1,
            "span class 1 has 1.5",
        ),
        (
            [[[1], [1]], [[0], [2]]],
            GOOD_PROBS,
            "pred_probs",
            (0, None),
            None,
            "same length",
        ),
    ],
)
def test_bad_input_names_field_sentence_token_and_class(
    function, labels, probs, field, where, span_class, message
):
    with pytest.raises(InvalidInputError, match=message) as caught:
        function(labels, probs)
    error = caught.value
    assert (error.field, error.sentence, error.token) == (field, *where)
    assert getattr(error, "class_", None) == span_class


def test_a_class_covering_every_token_is_cleanlabs_error():
    labels = [[[1], [1, 2]], [[1]]]
    probs = [np.array([[0.9, 0.2], [0.9, 0.8]]), np.array([[0.7, 0.1]])]
    with pytest.raises(InvalidInputError, match="at least 2 classes") as caught:
        spans.find_label_issues(labels, probs)
    assert caught.value.class_ == 1
    with pytest.raises(ValueError, match="at least 2 classes"):
        cleanlab_span.find_label_issues([[1, 1], [1]], [p[:, 0] for p in probs])


def test_display_issues_names_the_span_class(capsys):
    tokens = [["a", "b", "c", "d"], ["e", "f", "g"]]
    labels = [[[0], [1, 2], [1, 3], [0]], [[1], [2, 3], [3]]]
    pred_probs = [
        np.array([[0.9, 0.2, 0.3], [0.9, 0.9, 0.2], [0.9, 0.1, 0.7], [0.1, 0.1, 0.1]]),
        np.array([[0.1, 0.9, 0.1], [0.1, 0.9, 0.9], [0.1, 0.9, 0.9]]),
    ]
    issues = spans.find_label_issues(labels, pred_probs)
    spans.display_issues(
        issues, tokens, labels=labels, pred_probs=pred_probs, class_names=["PER", "ORG", "LOC"]
    )
    out = capsys.readouterr().out
    assert out.count("Span class: PER") == out.count("Span class: ORG") == 1
    assert "Span class: LOC" not in out  # no issues
    per, org = out.split("Span class: ORG")
    assert "Token: a\nGiven label: 0, predicted label according to provided pred_probs: 1" in per
    assert "Token: g\nGiven label: 0, predicted label according to provided pred_probs: 1" in org


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_find_issues_task_span_has_a_span_class_column(dtype):
    from spanfast.results import find_issues

    id_lists, matrices, probs = make_data(77, 5, dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        found = spans.find_label_issues(id_lists, probs)
        issues = find_issues(id_lists, probs, task="span")
        assert find_issues(matrices, probs, span=True).to_tuples() == issues.to_tuples()
        cl = find_issues(matrices, probs, task="span", filter_by="confident_learning")
    table = issues.to_pandas()
    assert list(table.columns[:3]) == ["span_class", "sentence", "token"]
    for c in range(1, 6):
        rows = table[table.span_class == c]
        assert list(zip(rows.sentence, rows.token)) == found[c]
        labels_c, probs_c = column(matrices, probs, c)
        assert rows.given_label.tolist() == [labels_c[i][j] for i, j in found[c]]
        assert rows.score.tolist() == [self_confidence(labels_c, probs_c, x) for x in found[c]]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            single = find_issues(labels_c, probs_c, filter_by="confident_learning")
        assert cl.to_pandas().query(f"span_class == {c}")[
            ["sentence", "token"]
        ].to_numpy().tolist() == [list(x) for x in single.to_tuples()]
    assert issues.sentence_scores.shape == (len(probs), 5)
    assert issues.token_scores.values.shape == (sum(map(len, probs)), 5)


def test_find_issues_never_guesses_span_from_a_2d_shape():
    from spanfast.errors import InvalidOptionError
    from spanfast.results import find_issues

    labels = [[0, 1, 1], [1, 0]]
    issues = find_issues(labels, GOOD_PROBS)  # (T, 2): token data, two classes
    assert issues.span_class is None
    with pytest.raises(InvalidOptionError):
        find_issues(labels, GOOD_PROBS, task="spans")
    with pytest.raises(InvalidOptionError):
        find_issues(labels, GOOD_PROBS, task="token", span=True)


# ---------------------------------------------------------------------------------------
# Several span classes read in batches: the in-memory result, whatever the batching


def _batches_of(labels, probs, cuts, extra=()):
    # a cut twice: a batch without sentences (an empty Python list, no dtype to keep)
    bounds = [0, *sorted(cuts), len(labels)]

    def read():
        for a, b in zip(bounds[:-1], bounds[1:]):
            yield (labels[a:b], probs[a:b], *(column[a:b] for column in extra))

    return read


def _assert_same_issues(streamed, expected):
    assert [n for n in streamed.to_dict() if n != "token_text"] == list(expected.to_dict())
    for name, values in expected.to_dict().items():
        np.testing.assert_array_equal(streamed.to_dict()[name], values, err_msg=name)
        assert streamed.to_dict()[name].dtype == values.dtype, name
    np.testing.assert_array_equal(streamed.sentence_scores, expected.sentence_scores)
    assert streamed.sentence_scores.dtype == expected.sentence_scores.dtype


@pytest.mark.parametrize("seed", range(6))
def test_batches_of_several_span_classes_give_the_in_memory_result(seed):
    from spanfast.results import find_issues
    from spanfast.streaming import find_label_issues_in_batches

    rng = np.random.default_rng(300 + seed)
    C = int(rng.integers(1, 6))
    dtype = (np.float32, np.float64)[seed % 2]
    id_lists, matrices, probs = make_data(
        400 + seed, C, dtype, n_sentences=int(rng.integers(5, 80))
    )
    options = [{}, {"filter_by": "both", "return_indices_ranked_by": "normalized_margin"},
               {"ties": "numpy"}, {"sentence_score_method": "softmin"}][seed % 4]  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = find_issues(matrices, probs, task="span", **options)
        for labels in (id_lists, matrices):
            for _ in range(3):
                cuts = rng.integers(0, len(probs) + 1, int(rng.integers(0, 7))).tolist()
                streamed = find_label_issues_in_batches(
                    _batches_of(labels, probs, cuts), task="span", **options
                )
                _assert_same_issues(streamed, expected)
    assert streamed.span_class is not None and len(streamed)


def test_batches_of_several_span_classes_errors_name_the_whole_datasets_sentence():
    from spanfast.streaming import find_label_issues_in_batches

    id_lists, _, probs = make_data(9, 3, np.float64, n_sentences=20, empty=False)
    id_lists[12] = [[4]] + id_lists[12][1:]  # class 4 of 3
    with pytest.raises(InvalidInputError) as caught:
        find_label_issues_in_batches(_batches_of(id_lists, probs, [5, 10]), task="span")
    assert (caught.value.field, caught.value.sentence, caught.value.token) == ("labels", 12, 0)
    assert caught.value.class_ == 4
    _, matrices, probs = make_data(9, 3, np.float64, n_sentences=20, empty=False)
    for i in range(14, 20):  # a batch of 2 span classes after batches of 3
        probs[i], matrices[i] = probs[i][:, :2], matrices[i][:, :2]
    with pytest.raises(InvalidInputError) as caught:
        find_label_issues_in_batches(_batches_of(matrices, probs, [5, 14]), task="span")
    assert caught.value.sentence == 14 and "span classes" in str(caught.value)


def test_parquet_of_several_span_classes_streamed(tmp_path):
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    from spanfast.results import find_issues
    from spanfast.streaming import find_label_issues_parquet

    _, matrices, probs = make_data(21, 4, np.float32, n_sentences=300)
    tokens = [[f"w{i}_{j}" for j in range(len(m))] for i, m in enumerate(matrices)]
    table = pa.table(
        {
            "labels": pa.array([m.tolist() for m in matrices], pa.list_(pa.list_(pa.uint8()))),
            "probs": pa.array([p.tolist() for p in probs], pa.list_(pa.list_(pa.float32()))),
            "tokens": pa.array(tokens),
        }
    )
    pq.write_table(table.slice(0, 130), tmp_path / "part-0.parquet", row_group_size=40)
    pq.write_table(table.slice(130), tmp_path / "part-1.parquet", row_group_size=40)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = find_issues(matrices, probs, task="span")
        streamed = find_label_issues_parquet(
            tmp_path, labels="labels", probs="probs", tokens="tokens", batch_size=29,
            task="span", file_and_row=False,
        )  # fmt: skip
    _assert_same_issues(streamed, expected)
    assert list(streamed.token_text) == [
        tokens[i][j] for i, j in zip(expected.sentence, expected.token)
    ]


def test_batches_of_one_dimensional_span_data_with_task_span_are_single_class():
    from spanfast.results import find_issues
    from spanfast.streaming import find_label_issues_in_batches

    _, matrices, probs = make_data(31, 1, np.float64, n_sentences=60)
    labels_1d = [m[:, 0].astype(int).tolist() for m in matrices]
    probs_1d = [p[:, 0].copy() for p in probs]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = find_issues(labels_1d, probs_1d, task="span")
        streamed = find_label_issues_in_batches(
            _batches_of(labels_1d, probs_1d, [7, 30]), task="span"
        )
    _assert_same_issues(streamed, expected)
    assert streamed.span_class is None


@pytest.mark.parametrize("seed", range(3))
def test_dask_partitions_of_several_span_classes_give_the_in_memory_result(seed):
    dask = pytest.importorskip("dask")
    pa = pytest.importorskip("pyarrow")
    import spanfast.dask
    from spanfast.results import find_issues

    rng = np.random.default_rng(500 + seed)
    C = int(rng.integers(1, 5))
    id_lists, matrices, probs = make_data(600 + seed, C, np.float64, n_sentences=70)
    tokens = [[f"w{i}_{j}" for j in range(len(m))] for i, m in enumerate(matrices)]
    bounds = sorted({0, *rng.integers(0, 70, 4).tolist(), 70})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = find_issues(matrices, probs, task="span")
        for form in ("dicts", "arrow"):
            parts = []
            for a, b in zip(bounds[:-1], bounds[1:]):
                if form == "dicts":  # per-token lists of class ids
                    part = {"labels": id_lists[a:b], "probs": probs[a:b], "tokens": tokens[a:b]}
                else:  # (T, C) 0/1 rows as Arrow list<list>
                    part = pa.table({
                        "labels": pa.array([m.tolist() for m in matrices[a:b]],
                                           pa.list_(pa.list_(pa.uint8()))),
                        "probs": pa.array([p.tolist() for p in probs[a:b]],
                                          pa.list_(pa.list_(pa.float64()))),
                        "tokens": pa.array(tokens[a:b], pa.list_(pa.string())),
                    })  # fmt: skip
                parts.append(dask.delayed(part))
            found = spanfast.dask.find_issues(
                parts, tokens="tokens", task="span", scheduler="synchronous"
            )
            _assert_same_issues(found, expected)
            assert list(found.token_text) == [
                tokens[i][j] for i, j in zip(expected.sentence, expected.token)
            ]


def test_dask_partitions_of_several_span_classes_errors_name_the_datasets_sentence():
    dask = pytest.importorskip("dask")
    import spanfast.dask

    id_lists, _, probs = make_data(9, 3, np.float64, n_sentences=20, empty=False)
    id_lists[12] = [[4]] + id_lists[12][1:]  # class 4 of 3
    parts = [dask.delayed({"labels": id_lists[a:b], "probs": probs[a:b]})
             for a, b in ((0, 5), (5, 10), (10, 20))]  # fmt: skip
    with pytest.raises(InvalidInputError) as caught:
        spanfast.dask.find_issues(parts, task="span", scheduler="synchronous")
    assert (caught.value.field, caught.value.sentence, caught.value.token) == ("labels", 12, 0)
