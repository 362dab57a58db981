"""low_memory=True as a plan: any batching, partitioning and grid gives the in-memory
answer, and cleanlab 2.9.0's ``find_label_issues_batched`` at the same batch size."""

from __future__ import annotations

import contextlib
import importlib.util
import io
import json
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import noisy_flat_dataset, noisy_flat_parameters, run_spanfast

from spanfast import Ragged, _low_memory, core, plans
from spanfast._input.checked import checked_flat
from spanfast.errors import InvalidInputError
from spanfast.options import RANK_BY
from spanfast.results import find_issues
from spanfast.streaming import find_label_issues_in_batches
from spanfast.testing.data import ner_arrays


@contextlib.contextmanager
def grid(batch_size: int):
    """Every runner's low_memory grid is ``batch_size`` tokens (cleanlab's is 10,000)."""
    before = _low_memory.BATCH_TOKENS
    _low_memory.BATCH_TOKENS = batch_size
    try:
        yield
    finally:
        _low_memory.BATCH_TOKENS = before


def _matrix(probs: np.ndarray) -> np.ndarray:
    """(T, K) probabilities as cleanlab takes them (span data: ``[1 - p, p]``)."""
    if probs.ndim == 2:
        return probs
    return np.stack([probs.dtype.type(1) - probs, probs], axis=1)


def _cleanlab_batched(labels, probs, batch_size: int, method: str) -> np.ndarray:
    from cleanlab.experimental.label_issues_batched import find_label_issues_batched

    return find_label_issues_batched(
        np.asarray(labels, np.int64),
        _matrix(probs),
        batch_size=batch_size,
        n_jobs=1,
        verbose=False,
        quality_score_kwargs={"method": method},
    )


def _cleanlab_thresholds(labels, probs, batch_size: int) -> np.ndarray:
    from cleanlab.experimental.label_issues_batched import LabelInspector

    matrix = _matrix(probs)
    inspector = LabelInspector(num_class=matrix.shape[1], verbose=False, n_jobs=1)
    for start in range(0, len(labels), batch_size):
        stop = start + batch_size
        inspector.update_confident_thresholds(labels[start:stop], matrix[start:stop])
    return inspector.get_confident_thresholds(silent=True)


def _merged_in_drawn_order(one_pass, partials: list, draw) -> object:
    """The partials merged pairwise, adjacent pairs taken in an order hypothesis draws."""
    partials = list(partials)
    while len(partials) > 1:
        i = draw(st.integers(0, len(partials) - 2))
        partials[i : i + 2] = [one_pass.merge(partials[i], partials[i + 1])]
    return partials[0]


def _ragged_batches(labels, probs, offsets, sentence_cuts) -> list:
    """Whole-sentence batches (empty ones where cuts repeat) as Ragged pairs."""
    bounds = [0, *sorted(sentence_cuts), offsets.shape[0] - 1]
    batches = []
    for a, b in zip(bounds[:-1], bounds[1:]):
        lo, hi = int(offsets[a]), int(offsets[b])
        local = offsets[a : b + 1] - offsets[a]
        batches.append((Ragged(labels[lo:hi], local), Ragged(probs[lo:hi], local)))
    return batches


def _assert_identical(got, expected):
    assert len(got) == len(expected)
    for name, values in expected.to_dict().items():
        np.testing.assert_array_equal(got.to_dict()[name], values, err_msg=name)
        assert got.to_dict()[name].dtype == values.dtype, name
    np.testing.assert_array_equal(got.sentence_scores, expected.sentence_scores)
    assert got.sentence_scores.dtype == expected.sentence_scores.dtype


def _quietly(function, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return function(*args, **kwargs)


# ---------------------------------------------------------------------------------------
# The plan's steps on random batches, merged in random groupings


@settings(deadline=None, max_examples=60)
@given(
    **noisy_flat_parameters(max_sentences=60),
    batch_size=st.integers(1, 64),
    method=st.sampled_from(RANK_BY),
    ties=st.sampled_from(["position", "numpy"]),
    data=st.data(),
)
def test_any_batching_and_grouping_gives_cleanlabs_thresholds_and_issues(
    seed, n_sentences, n_classes, dtype, span, batch_size, method, ties, data
):
    labels, probs, _ = noisy_flat_dataset(seed, n_sentences, n_classes, dtype, span)
    checked = checked_flat(labels, probs)
    T = checked.n_tokens
    cuts = sorted(data.draw(st.lists(st.integers(0, T), max_size=8)))  # repeats: empty batches
    bounds = [0, *cuts, T]
    batches = [
        plans.Batch(checked, index, first_token=lo, start=lo, stop=hi)
        for index, (lo, hi) in enumerate(zip(bounds[:-1], bounds[1:]))
    ]
    plan = plans.low_memory_plan(method, ties=ties, batch_size=batch_size)
    state = plan.start()
    for one_pass in plan.passes:
        partials = [one_pass.step(batch, state) for batch in batches]
        one_pass.finish(_merged_in_drawn_order(one_pass, partials, data.draw), state)
        if one_pass is plan.passes[1] and T:  # the thresholds, as cleanlab folds them
            expected = _cleanlab_thresholds(labels, probs, batch_size) - 1e-6
            np.testing.assert_array_equal(state.margin_thresholds, expected)
    for n_jobs in (1, 2):  # the in-memory kernels, on one thread and on two
        in_memory = core._find_low_memory(checked, method, ties, n_jobs, batch_size)
        np.testing.assert_array_equal(state.positions, in_memory)
    np.testing.assert_array_equal(plans.run_in_memory(plan, checked), in_memory)
    if ties == "numpy" and T:  # cleanlab's own orders: its answer exactly
        expected = _cleanlab_batched(labels, probs, batch_size, method)
        np.testing.assert_array_equal(state.positions, expected)


def test_a_class_absent_from_a_grid_batch_counts_there_as_cleanlab_counts_it():
    # Class 2 appears in the second batch of 4 only; float32, so that the batch means of
    # the batches with every class present are float32 and the others float64.
    labels = np.array([0, 1, 0, 1, 0, 2, 1, 2, 0, 1, 1, 0])
    rng = np.random.default_rng(5)
    probs = rng.dirichlet(np.ones(3), labels.shape[0]).astype(np.float32)
    checked = checked_flat(labels, probs)
    plan = plans.low_memory_plan("self_confidence", batch_size=4)
    state = plan.start()
    halves = [plans.Batch(checked, 0, 0, 0, 0, 3), plans.Batch(checked, 1, 0, 3, 3, 12)]
    for one_pass in plan.passes[:2]:
        one_pass.finish(one_pass.merge(*(one_pass.step(b, state) for b in halves)), state)
    expected = _cleanlab_thresholds(labels, probs, 4) - 1e-6
    np.testing.assert_array_equal(state.margin_thresholds, expected)


def test_the_grid_batch_size_is_checked():
    with pytest.raises(ValueError, match="batch size"):
        plans.low_memory_plan("self_confidence", batch_size=0)


# ---------------------------------------------------------------------------------------
# Runners: streaming and Dask give the in-memory result, bit for bit


@settings(deadline=None, max_examples=30)
@given(
    **noisy_flat_parameters(max_sentences=80),
    batch_size=st.sampled_from([1, 3, 17, 50, 10_000]),
    method=st.sampled_from(RANK_BY),
    ties=st.sampled_from(["position", "position", "numpy"]),
    data=st.data(),
)
def test_streamed_batches_give_the_in_memory_result(
    seed, n_sentences, n_classes, dtype, span, batch_size, method, ties, data
):
    labels, probs, offsets = noisy_flat_dataset(seed, n_sentences, n_classes, dtype, span)
    cuts = data.draw(st.lists(st.integers(0, n_sentences), max_size=8))
    batches = _ragged_batches(labels, probs, offsets, cuts)
    options = dict(low_memory=True, return_indices_ranked_by=method, ties=ties)
    with grid(batch_size):
        expected = find_issues(Ragged(labels, offsets), Ragged(probs, offsets), **options)
        streamed = find_label_issues_in_batches(lambda: batches, **options)
    _assert_identical(streamed, expected)


def test_at_cleanlabs_grid_find_issues_and_streaming_give_the_token_filters_issues():
    """> 30K tokens: several 10K batches; ties="numpy": cleanlab 2.9.0's list exactly."""
    from cleanlab.token_classification.filter import find_label_issues as cleanlab_find

    arrays = ner_arrays(31_234, "sentences", dtype="float32")
    offsets = arrays["offsets"]
    for kind, method in (("token", "self_confidence"), ("span", "normalized_margin")):
        labels, probs = arrays[f"{kind}_labels"], arrays[f"{kind}_probs"]
        cut = offsets[1:-1]
        nested = [s.tolist() for s in np.split(labels, cut)]
        matrices = [_matrix(p) for p in np.split(probs, cut)]
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            expected = cleanlab_find(
                nested, matrices, return_indices_ranked_by=method, low_memory=True
            )
        options = dict(low_memory=True, return_indices_ranked_by=method, ties="numpy")
        in_memory = find_issues(Ragged(labels, offsets), Ragged(probs, offsets), **options)
        assert in_memory.to_tuples() == expected
        batches = _ragged_batches(labels, probs, offsets, [7, 700, 701, 1500])
        streamed = find_label_issues_in_batches(lambda batches=batches: batches, **options)
        _assert_identical(streamed, in_memory)


def test_streamed_float32_and_float64_batches_give_the_float64_result():
    labels, probs, offsets = noisy_flat_dataset(8, 90, 3, np.float32, False)
    batches = _ragged_batches(labels, probs, offsets, [30, 60])
    batches[1] = (
        batches[1][0],
        Ragged(batches[1][1].values.astype(np.float64), batches[1][1].offsets),
    )
    with grid(7):
        expected = find_issues(Ragged(labels, offsets), Ragged(probs.astype(np.float64), offsets),
                               low_memory=True)  # fmt: skip
        streamed = find_label_issues_in_batches(lambda: batches, low_memory=True)
    _assert_identical(streamed, expected)
    assert streamed.score.dtype == np.float64


def test_a_source_that_changes_between_passes_is_named():
    labels, probs, offsets = noisy_flat_dataset(9, 60, 3, np.float64, False)
    batches = _ragged_batches(labels, probs, offsets, [20, 40])
    reads = []

    def read():
        reads.append(1)
        if len(reads) == 2:  # the thresholds' pass reads other probabilities
            values = batches[1][1].values[::-1].copy()
            return [batches[0], (batches[1][0], Ragged(values, batches[1][1].offsets)), batches[2]]
        return batches

    with pytest.raises(InvalidInputError, match="changed between passes"):
        find_label_issues_in_batches(read, low_memory=True)


@settings(deadline=None, max_examples=25)
@given(
    seed=st.integers(0, 2**32 - 1),
    n_sentences=st.integers(1, 60),
    dtype=st.sampled_from([np.float32, np.float64]),
    span=st.booleans(),
    batch_size=st.sampled_from([2, 9, 40]),
    keep_bytes=st.sampled_from([0, 10**9]),
    data=st.data(),
)
def test_dask_partitions_give_the_in_memory_result(
    seed, n_sentences, dtype, span, batch_size, keep_bytes, data
):
    pa = pytest.importorskip("pyarrow")
    dask = pytest.importorskip("dask")
    from spanfast.dask import find_issues as dask_find

    labels, probs, offsets = noisy_flat_dataset(seed, n_sentences, 3, dtype, span)
    cuts = data.draw(st.lists(st.integers(0, n_sentences), max_size=7))  # repeats: empty ones
    parts = []
    for sentence_labels, sentence_probs in _ragged_batches(labels, probs, offsets, cuts):
        values = sentence_probs.values
        if values.ndim == 2:
            values = pa.FixedSizeListArray.from_arrays(values.reshape(-1), values.shape[1])
        local = pa.array(sentence_labels.offsets, pa.int32())
        table = pa.table(
            {
                "labels": pa.ListArray.from_arrays(local, pa.array(sentence_labels.values)),
                "probs": pa.ListArray.from_arrays(local, values),
            }
        )
        parts.append(dask.delayed(table))
    with grid(batch_size):
        expected = find_issues(Ragged(labels, offsets), Ragged(probs, offsets), low_memory=True)
        found = dask_find(parts, scheduler="synchronous", keep_bytes=keep_bytes, low_memory=True)
    _assert_identical(found, expected)


# ---------------------------------------------------------------------------------------
# Options: what low_memory does not use is warned about, as the token filter warns


def _warnings_of(function, *args, **kwargs) -> list[str]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        function(*args, **kwargs)
    return [str(w.message) for w in caught]


def test_unused_options_warn_as_the_token_filter_warns_and_defaults_do_not():
    from spanfast.token_classification.filter import find_label_issues as token_find

    labels, probs, offsets = noisy_flat_dataset(4, 40, 3, np.float64, False)
    data = Ragged(labels, offsets), Ragged(probs, offsets)
    unused = dict(filter_by="both", frac_noise=0.5, min_examples_per_class=2)
    expected = [f"`{name}` is not used when `low_memory=True`." for name in unused]
    assert _warnings_of(token_find, *data, low_memory=True, **unused) == expected
    assert _warnings_of(find_issues, *data, low_memory=True, **unused) == expected
    assert _warnings_of(find_issues, *data, low_memory=True) == []
    batches = _ragged_batches(labels, probs, offsets, [10])
    streamed = _warnings_of(
        find_label_issues_in_batches, lambda: batches, low_memory=True, **unused
    )
    assert streamed == expected
    # An unused option's value is not checked (as cleanlab, which does not read it).
    with pytest.warns(UserWarning, match="`filter_by` is not used"):
        unchecked = find_issues(*data, low_memory=True, filter_by="no such filter")
    assert unchecked.to_tuples() == find_issues(*data, low_memory=True).to_tuples()
    with pytest.raises(ValueError, match="not a valid scoring method"):
        find_issues(*data, low_memory=True, return_indices_ranked_by="no such score")


def test_dask_warns_the_same_unused_options():
    pytest.importorskip("dask")
    pa = pytest.importorskip("pyarrow")
    import dask

    from spanfast.dask import find_issues as dask_find

    labels, probs, offsets = noisy_flat_dataset(4, 40, 3, np.float64, False)
    local = pa.array(offsets, pa.int32())
    matrix = pa.FixedSizeListArray.from_arrays(probs.reshape(-1), 3)
    table = pa.table(
        {
            "labels": pa.ListArray.from_arrays(local, pa.array(labels)),
            "probs": pa.ListArray.from_arrays(local, matrix),
        }
    )
    unused = dict(filter_by="both", confident_joint=np.ones((3, 3)))
    expected = [f"`{name}` is not used when `low_memory=True`." for name in unused]
    parts = [dask.delayed(table)]
    got = _warnings_of(dask_find, parts, scheduler="synchronous", low_memory=True, **unused)
    assert got == expected


# ---------------------------------------------------------------------------------------
# Several span classes: each class's single-class low_memory answer


def test_several_span_classes_give_each_columns_low_memory_issues():
    rng = np.random.default_rng(3)
    lengths = rng.integers(0, 9, 120)
    offsets = np.concatenate([[0], np.cumsum(lengths)])
    T, C = int(offsets[-1]), 3
    probs = np.round(rng.random((T, C)), 2)
    rows = ((probs > 0.5) ^ (rng.random((T, C)) < 0.15)).astype(np.int8)
    labels = Ragged(rows, offsets)
    with grid(13):
        found = find_issues(labels, Ragged(probs, offsets), task="span", low_memory=True)
        for c in range(1, C + 1):
            column = (Ragged(rows[:, c - 1], offsets), Ragged(probs[:, c - 1], offsets))
            one = find_issues(*column, low_memory=True)
            mine = found.span_class == c
            np.testing.assert_array_equal(found.sentence[mine], one.sentence)
            np.testing.assert_array_equal(found.token[mine], one.token)
            np.testing.assert_array_equal(found.score[mine], one.score)
        batches = _ragged_batches(rows, probs, offsets, [40, 41, 90])
        streamed = find_label_issues_in_batches(lambda: batches, task="span", low_memory=True)
        on_dask = None
        if importlib.util.find_spec("dask") is not None:
            import dask

            from spanfast.dask import find_issues as dask_find

            parts = [
                dask.delayed({"labels": np.split(part_rows.values, part_rows.offsets[1:-1]),
                              "probs": np.split(part_probs.values, part_probs.offsets[1:-1])})
                for part_rows, part_probs in batches
            ]  # fmt: skip
            on_dask = dask_find(parts, task="span", scheduler="synchronous", low_memory=True)
    for name, values in found.to_dict().items():
        np.testing.assert_array_equal(streamed.to_dict()[name], values, err_msg=name)
        if on_dask is not None:
            np.testing.assert_array_equal(on_dask.to_dict()[name], values, err_msg=name)


# ---------------------------------------------------------------------------------------
# The command line


def test_scan_low_memory_writes_find_issues_low_memory_result(tmp_path):
    pq = pytest.importorskip("pyarrow.parquet")
    pa = pytest.importorskip("pyarrow")
    arrays = ner_arrays(21_000, "sentences", dtype="float64")
    offsets = arrays["offsets"]
    labels, probs = arrays["token_labels"], arrays["token_probs"]
    local = pa.array(offsets, pa.int64())
    table = pa.table(
        {
            "tags": pa.LargeListArray.from_arrays(local, pa.array(labels)),
            "p": pa.LargeListArray.from_arrays(
                local, pa.FixedSizeListArray.from_arrays(probs.reshape(-1), 9)
            ),
        }
    )
    pq.write_table(table, tmp_path / "data.parquet", row_group_size=100)
    expected = find_issues(Ragged(labels, offsets), Ragged(probs, offsets), low_memory=True)
    for extra in ([], ["--batch-size", "37"]):
        result = run_spanfast(
            "scan", "data.parquet", "--labels", "tags", "--probs", "p", "--low-memory",
            "--out", "issues.jsonl", *extra, cwd=tmp_path,
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
        assert (
            result.stdout
            == f"Wrote {len(expected)} of {len(expected)} label issues to issues.jsonl\n"
        )
        assert result.stderr == ""
        rows = [json.loads(line) for line in (tmp_path / "issues.jsonl").read_text().splitlines()]
        assert [(r["sentence"], r["token"]) for r in rows] == expected.to_tuples()
        assert [r["score"] for r in rows] == expected.score.tolist()
    ignored = run_spanfast(
        "scan", "data.parquet", "--labels", "tags", "--probs", "p", "--low-memory",
        "--filter-by", "both", "--out", "again.jsonl", cwd=tmp_path,
    )  # fmt: skip
    assert ignored.returncode == 0, ignored.stderr
    # the library's warning as one line of the command's, without a file and line
    assert (
        ignored.stderr
        == "spanfast scan: warning: `filter_by` is not used when `low_memory=True`.\n"
    )
    assert (tmp_path / "again.jsonl").read_text() == (tmp_path / "issues.jsonl").read_text()
    shown = run_spanfast(
        "scan",
        "data.parquet",
        "--labels",
        "tags",
        "--probs",
        "p",
        "--low-memory",
        "--top",
        "3",
        cwd=tmp_path,
    )
    assert shown.returncode == 0, shown.stderr
    lines = shown.stdout.splitlines()
    # issues in position order are numbered, not ranked
    assert lines[0] == f"{len(expected)} label issues found; first 3, in position order:"
    assert lines[2].split() == ["#", "sentence", "token", "score", "given_label", "predicted_label"]
    rows = [line.split() for line in lines[3:6]]
    assert [(int(r[1]), int(r[2])) for r in rows] == expected.to_tuples()[:3]


def test_a_dask_job_carries_the_clients_grid_to_its_workers():
    import pickle

    pytest.importorskip("dask")
    from spanfast._dask_job import Job

    job = Job(
        filter_by="low_memory", frac_noise=1.0, num_to_remove_per_class=None,
        min_examples_per_class=1, ties="position", columns=("labels", "probs", None),
        span=None, rank_by="normalized_margin", low_memory_batch_size=37,
    )  # fmt: skip
    on_a_worker = pickle.loads(pickle.dumps(job)).plan
    assert on_a_worker.filter_by == "low_memory"
    assert on_a_worker.passes[1].steps[0].batch_size == 37
