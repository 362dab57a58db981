"""Runs on Dask partitions give exactly the in-memory result."""

from __future__ import annotations

import contextlib
import logging
import os
import pickle
import socket
import time
import warnings
from collections.abc import Iterator

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

dask = pytest.importorskip("dask")
dd = pytest.importorskip("dask.dataframe")
distributed = pytest.importorskip("distributed")
pa = pytest.importorskip("pyarrow")
pd = pytest.importorskip("pandas")
pq = pytest.importorskip("pyarrow.parquet")

from _pty import run_on_a_terminal  # noqa: E402
from strategies import (  # noqa: E402
    PARQUET_MISTAKES,
    noisy_flat_dataset,
    noisy_flat_parameters,
    run_spanfast,
    write_parquet_with_a_mistake,
)

from spanfast import Ragged, options  # noqa: E402
from spanfast._counts import thresholds_from_means  # noqa: E402
from spanfast._dask_job import Job  # noqa: E402
from spanfast._dask_keep import _KEPT, DEFAULT_KEEP_BYTES  # noqa: E402
from spanfast._dask_parts import partitions_of  # noqa: E402
from spanfast.dask import _Runner, find_issues, find_issues_parquet  # noqa: E402
from spanfast.errors import InvalidInputError  # noqa: E402
from spanfast.options import FLOATING_POINT_COMPARISON  # noqa: E402
from spanfast.results import find_issues as find_issues_in_memory  # noqa: E402
from spanfast.streaming import find_label_issues_parquet  # noqa: E402


def _table(labels, probs, offsets, a: int, b: int, first_sentence: int = 0) -> pa.Table:
    """Sentences a..b-1 as an Arrow table with list columns (tokens: "s<sentence>t<token>")."""
    local = pa.array(offsets[a : b + 1] - offsets[a], pa.int32())
    start, stop = int(offsets[a]), int(offsets[b])
    values = probs[start:stop]
    if values.ndim == 2:
        values = pa.FixedSizeListArray.from_arrays(values.reshape(-1), values.shape[1])
    lengths = np.diff(offsets[a : b + 1])
    words = [f"s{a + first_sentence + i}t{j}" for i, n in enumerate(lengths) for j in range(n)]
    return pa.table(
        {
            "labels": pa.ListArray.from_arrays(local, pa.array(labels[start:stop])),
            "probs": pa.ListArray.from_arrays(local, values),
            "tokens": pa.ListArray.from_arrays(local, pa.array(words, pa.string())),
        }
    )


def _partitioned(labels, probs, offsets, cuts, kind: str):
    """The dataset cut at sentences ``cuts`` (empty partitions where cuts repeat)."""
    n = offsets.shape[0] - 1
    bounds = [0, *sorted(cuts), n]
    tables = [_table(labels, probs, offsets, a, b) for a, b in zip(bounds[:-1], bounds[1:])]
    delayed = [dask.delayed(t) for t in tables]
    if kind == "delayed":
        return delayed
    frames = [dask.delayed(t.to_pandas)(types_mapper=pd.ArrowDtype) for t in tables]
    meta = tables[0].slice(0, 0).to_pandas(types_mapper=pd.ArrowDtype)
    return dd.from_delayed(frames, meta=meta, verify_meta=False)


def _assert_identical(got, expected, with_text: bool = True):
    for name, values in expected.to_dict().items():
        np.testing.assert_array_equal(got.to_dict()[name], values, err_msg=name)
        assert got.to_dict()[name].dtype == values.dtype, name
    if with_text and got.token_text is None:  # as streaming: no text without issues
        assert len(got) == 0
    elif with_text:
        words = [f"s{s}t{t}" for s, t in zip(got.sentence.tolist(), got.token.tolist())]
        assert got.token_text.tolist() == words


def _expected(labels, probs, offsets, **opts):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return find_issues_in_memory(Ragged(labels, offsets), Ragged(probs, offsets), **opts)


def _found(data, **opts):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return find_issues(data, tokens="tokens", **opts)


# ---------------------------------------------------------------------------------------
# Many random cases, synchronous scheduler


@settings(deadline=None, max_examples=40)
@given(
    **noisy_flat_parameters(max_sentences=80),
    filter_by=st.sampled_from(options.FILTER_BY),
    rank_by=st.sampled_from(options.RANK_BY),
    frac_noise=st.sampled_from([1.0, 0.6]),
    min_examples=st.integers(0, 3),
    ties=st.sampled_from(["position", "position", "numpy"]),
    kind=st.sampled_from(["delayed", "dataframe"]),
    keep_bytes=st.sampled_from([0, 3_000, DEFAULT_KEEP_BYTES]),  # none, some, all kept
    given=st.sampled_from([None, "num_to_remove_per_class", "confident_joint"]),
    adjust=st.booleans(),
    low_memory=st.sampled_from([False, False, False, True]),
    data=st.data(),
)
def test_partitions_give_the_in_memory_result(
    seed, n_sentences, n_classes, dtype, span, filter_by, rank_by, frac_noise, min_examples, ties,
    kind, keep_bytes, given, adjust, low_memory, data,
):  # fmt: skip
    labels, probs, offsets = noisy_flat_dataset(seed, n_sentences, n_classes, dtype, span)
    if np.unique(labels).size < 2:
        return
    n_partitions = data.draw(st.integers(1, 7))
    cuts = data.draw(st.lists(st.integers(0, n_sentences), min_size=n_partitions - 1,
                              max_size=n_partitions - 1))  # fmt: skip
    opts = dict(
        filter_by=filter_by,
        return_indices_ranked_by=rank_by,
        frac_noise=frac_noise,
        min_examples_per_class=min_examples,
        ties=ties,
        low_memory=low_memory,  # the other options are then unused
    )
    K = 2 if span else n_classes
    if adjust and rank_by != "confidence_weighted_entropy":  # which has no adjustment
        opts["rank_by_kwargs"] = {"adjust_pred_probs": True}
    if given == "num_to_remove_per_class" and filter_by in options.PRUNE_FILTERS:
        opts[given] = data.draw(st.lists(st.integers(0, 6), min_size=K, max_size=K))
    if given == "confident_joint":
        joint = data.draw(st.lists(st.integers(0, 30), min_size=K * K, max_size=K * K))
        opts[given] = np.array(joint, dtype=data.draw(st.sampled_from([np.int64, np.float64])))
        opts[given] = opts[given].reshape(K, K)
    expected = _expected(labels, probs, offsets, **opts)
    partitions = _partitioned(labels, probs, offsets, cuts, kind)
    found = _found(partitions, scheduler="synchronous", keep_bytes=keep_bytes, **opts)
    _assert_identical(found, expected)


def test_a_float64_partition_makes_the_dataset_float64():
    labels, probs, offsets = noisy_flat_dataset(3, 60, 3, np.float32, False)
    parts = _partitioned(labels, probs, offsets, [20, 40], "delayed")
    parts[1] = dask.delayed(_table(labels, probs.astype(np.float64), offsets, 20, 40))
    expected = _expected(labels, probs.astype(np.float64), offsets)
    _assert_identical(_found(parts, scheduler="synchronous"), expected)


def test_a_partition_without_tokens_has_no_say_in_the_dtype():
    # as the streaming runner's batches and empty sentences in memory
    labels, probs, offsets = noisy_flat_dataset(3, 60, 3, np.float32, False)
    parts = _partitioned(labels, probs, offsets, [20, 20, 40], "delayed")
    parts[1] = dask.delayed(_table(labels, probs.astype(np.float64), offsets, 20, 20))
    expected = _expected(labels, probs, offsets)
    assert expected.score.dtype == np.float32
    _assert_identical(_found(parts, scheduler="synchronous"), expected)


def test_a_bag_of_records_and_an_empty_dataset():
    labels, probs, offsets = noisy_flat_dataset(5, 40, 2, np.float64, True)
    records = [
        {"labels": labels[a:b].tolist(), "probs": probs[a:b].tolist(), "tokens": [
            f"s{i}t{j}" for j in range(b - a)]}
        for i, (a, b) in enumerate(zip(offsets[:-1], offsets[1:]))
    ]  # fmt: skip
    bag = dask.bag.from_sequence(records, npartitions=3)
    _assert_identical(_found(bag, scheduler="synchronous"), _expected(labels, probs, offsets))
    assert len(_found([], scheduler="synchronous")) == 0


def test_a_column_of_lists_made_strings_by_dask_is_named():
    frame = pd.DataFrame({"labels": [[0, 1], [1]], "probs": [[0.1, 0.9], [0.8]]})
    with pytest.raises(InvalidInputError, match="'labels' holds strings") as error:
        find_issues(dd.from_pandas(frame, npartitions=1), scheduler="synchronous")
    assert error.value.field == "labels"


def test_a_confident_joint_of_the_wrong_shape_is_named_as_in_memory():
    labels, probs, offsets = noisy_flat_dataset(4, 30, 3, np.float64, False)
    parts = _partitioned(labels, probs, offsets, [10], "delayed")
    with pytest.raises(InvalidInputError, match=r"shape \(3, 3\)") as error:
        _found(parts, scheduler="synchronous", confident_joint=np.ones((2, 2)))
    assert error.value.field == "confident_joint"


def test_task_says_span_or_token():
    labels, probs, offsets = noisy_flat_dataset(6, 30, 2, np.float64, True)
    parts = _partitioned(labels, probs, offsets, [10], "delayed")
    expected = _expected(labels, probs, offsets, span=True)
    _assert_identical(_found(parts, task="span", scheduler="synchronous"), expected)
    _assert_identical(_found(parts, span=True, scheduler="synchronous"), expected)  # its alias
    with pytest.raises(InvalidInputError):
        _found(parts, task="token", scheduler="synchronous")


# ---------------------------------------------------------------------------------------
# Exactness of the class sums through Dask partitions


@settings(deadline=None, max_examples=25)
@given(seed=st.integers(0, 2**32 - 1), dtype=st.sampled_from([np.float32, np.float64]),
       data=st.data())  # fmt: skip
def test_class_thresholds_through_partitions_are_np_mean(seed, dtype, data):
    rng = np.random.default_rng(seed)
    n_sentences = int(rng.integers(1, 400))
    labels, probs, offsets = noisy_flat_dataset(
        seed, n_sentences, int(rng.integers(2, 5)), dtype, False
    )
    if np.unique(labels).size < 2:
        return
    cuts = data.draw(st.lists(st.integers(0, n_sentences), max_size=6))
    partitions = partitions_of(_partitioned(labels, probs, offsets, cuts, "delayed"), [])
    job = Job("confident_learning", 1.0, None, 1, "position",
               ("labels", "probs", None), None, "self_confidence")  # fmt: skip
    states = _Runner(job, partitions, "synchronous").passes()
    next(states)
    state = next(states)  # after the class means
    counts = np.bincount(labels, minlength=probs.shape[1])
    means = np.array(
        [probs[labels == k, k].mean() if counts[k] else 0 for k in range(len(counts))], dtype
    )
    expected = thresholds_from_means(means, counts) - FLOATING_POINT_COMPARISON
    np.testing.assert_array_equal(state.margin_thresholds, expected)


# ---------------------------------------------------------------------------------------
# Errors


def _nonempty_from(offsets, sentence: int) -> int:
    while offsets[sentence + 1] == offsets[sentence]:
        sentence += 1
    return sentence


def test_a_bad_value_in_a_late_partition_names_the_global_sentence():
    labels, probs, offsets = noisy_flat_dataset(7, 90, 3, np.float64, False)
    probs = probs.copy()
    sentence = _nonempty_from(offsets, 75)
    probs[int(offsets[sentence]), 0] = 1.7
    with pytest.raises(InvalidInputError) as in_memory:
        _expected(labels, probs, offsets)
    parts = _partitioned(labels, probs, offsets, [30, 30, 60], "delayed")
    with pytest.raises(InvalidInputError) as on_dask:
        _found(parts, scheduler="synchronous")
    assert on_dask.value.location == in_memory.value.location
    assert on_dask.value.sentence >= 60


def test_a_partition_with_other_classes_is_named():
    labels, probs, offsets = noisy_flat_dataset(8, 40, 3, np.float64, False)
    other_labels, other_probs, other_offsets = noisy_flat_dataset(8, 10, 4, np.float64, False)
    parts = [
        dask.delayed(_table(labels, probs, offsets, 0, 40)),
        dask.delayed(_table(other_labels, other_probs, other_offsets, 0, 10)),
    ]
    with pytest.raises(InvalidInputError, match="sentence 40") as error:
        _found(parts, scheduler="synchronous")
    assert error.value.sentence == 40


# A first file, one without rows, a later one in a subdirectory (rows in this order).
MISTAKE_FILES = {"a.parquet": 7, "b.parquet": 0, "c/d.parquet": 9}


@pytest.mark.parametrize("mistake", PARQUET_MISTAKES)
@pytest.mark.parametrize("bad_file", ["a.parquet", "c/d.parquet"])
def test_an_error_in_a_parquet_file_names_the_file_and_the_row_in_it(tmp_path, bad_file, mistake):
    row, _ = write_parquet_with_a_mistake(tmp_path, MISTAKE_FILES, bad_file, mistake)
    with pytest.raises(InvalidInputError) as streamed:
        find_label_issues_parquet(tmp_path, labels="tags", probs="p")
    with pytest.raises(InvalidInputError) as on_dask:
        find_issues_parquet(tmp_path, "tags", "p", scheduler="synchronous")
    error = on_dask.value
    assert (type(error), error.args) == (type(streamed.value), streamed.value.args)
    assert error.location == streamed.value.location
    assert (error.file, error.row) == (str(tmp_path / bad_file), row)
    assert error.sentence == (7 if bad_file == "c/d.parquet" else 0) + row


_READS: dict = {}


def _changing(table: pa.Table, key: str) -> pa.Table:
    """The table the first time, another one (a label changed) every later time."""
    _READS[key] = _READS.get(key, 0) + 1
    if _READS[key] == 1:
        return table
    labels = table.column("labels").combine_chunks()
    flat = labels.values.to_numpy().copy()
    flat[0] = 1 - flat[0]
    changed = pa.ListArray.from_arrays(labels.offsets, pa.array(flat))
    return table.set_column(0, "labels", changed)


def test_a_partition_that_changes_between_passes_is_named():
    labels, probs, offsets = noisy_flat_dataset(9, 60, 2, np.float64, True)
    parts = _partitioned(labels, probs, offsets, [25, 45], "delayed")
    parts[2] = dask.delayed(_changing, pure=False)(_table(labels, probs, offsets, 45, 60), "c")
    with pytest.raises(InvalidInputError, match="partition 2 .from sentence 45.") as error:
        _found(parts, scheduler="synchronous", keep_bytes=0)  # read again in every pass
    assert error.value.sentence == 45
    # Kept after pass 1, the partition is not read again: the answer of the data read.
    _READS.clear()
    _assert_identical(_found(parts, scheduler="synchronous"), _expected(labels, probs, offsets))
    assert _READS == {"c": 1}
    assert not _KEPT  # forgotten at the end of the run


def test_importing_spanfast_and_spanfast_dask_does_not_import_dask():
    # dask is imported inside the functions that use it: pipelines without a cluster
    # do not pay for it, and `pip install spanfast` without the [dask] extra imports.
    import subprocess
    import sys

    code = (
        "import sys; import spanfast, spanfast.dask; spanfast.find_issues; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('dask', 'distributed')))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert result.stdout.strip() == "[]"


# ---------------------------------------------------------------------------------------
# On a cluster of two worker processes


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        dashboard_address=None,
        silence_logs=logging.ERROR,
        timeout="60s",
    )
    try:
        with distributed.Client(cluster, timeout="60s") as client:
            yield client
    finally:
        cluster.close(timeout=30)


def _slowly(table: pa.Table, seconds: float) -> pa.Table:
    time.sleep(seconds)
    return table


@pytest.mark.parametrize("filter_by", options.FILTER_BY)
def test_a_cluster_gives_the_in_memory_result(client, filter_by):
    labels, probs, offsets = noisy_flat_dataset(11, 400, 4, np.float32, False)
    parts = _partitioned(labels, probs, offsets, [50, 50, 200, 333], "delayed")
    # The first partitions finish last.
    parts[0] = dask.delayed(_slowly)(parts[0], 0.3)
    parts[1] = dask.delayed(_slowly)(parts[1], 0.1)
    expected = _expected(labels, probs, offsets, filter_by=filter_by)
    _assert_identical(_found(parts, filter_by=filter_by, scheduler=client), expected)


def test_low_memory_on_a_cluster_gives_the_in_memory_result(client):
    from spanfast import _low_memory

    labels, probs, offsets = noisy_flat_dataset(13, 400, 4, np.float32, False)
    parts = _partitioned(labels, probs, offsets, [3, 50, 50, 51, 200, 333], "delayed")
    parts[0] = dask.delayed(_slowly)(parts[0], 0.3)  # the first partition finishes last
    grid, _low_memory.BATCH_TOKENS = _low_memory.BATCH_TOKENS, 37  # fragments across partitions
    try:
        expected = _expected(labels, probs, offsets, low_memory=True)
        found = _found(parts, low_memory=True, scheduler=client)
    finally:
        _low_memory.BATCH_TOKENS = grid
    assert len(expected) > 0
    _assert_identical(found, expected)


def test_a_cluster_reads_a_parquet_directory(client, tmp_path):
    labels, probs, offsets = noisy_flat_dataset(12, 300, 2, np.float64, True)
    for n, (a, b) in enumerate([(0, 120), (120, 121), (121, 300)]):
        pq.write_table(_table(labels, probs, offsets, a, b), tmp_path / f"part{n}.parquet")
    data = dd.read_parquet(str(tmp_path), dtype_backend="pyarrow")
    expected = _expected(labels, probs, offsets, filter_by="both")
    _assert_identical(_found(data, filter_by="both", scheduler=client), expected)


def test_an_error_on_a_worker_arrives_with_its_attributes(client):
    labels, probs, offsets = noisy_flat_dataset(13, 50, 2, np.float64, True)
    labels = labels.copy()
    sentence = _nonempty_from(offsets, 41)
    labels[int(offsets[sentence])] = 5
    parts = _partitioned(labels, probs, offsets, [20, 40], "delayed")
    with pytest.raises(InvalidInputError) as error:
        _found(parts, scheduler=client)
    assert (error.value.field, error.value.sentence, error.value.token) == ("labels", sentence, 0)


def test_an_error_in_a_parquet_file_on_a_worker_names_the_file_and_the_row(client, tmp_path):
    row, _ = write_parquet_with_a_mistake(tmp_path, MISTAKE_FILES, "c/d.parquet", "null token")
    files = [str(tmp_path / relative) for relative in MISTAKE_FILES]
    with pytest.raises(InvalidInputError) as error:
        find_issues_parquet(files, "tags", "p", scheduler=client)
    where = {"field": "pred_probs", "sentence": 7 + row, "token": 1, "file": files[2], "row": row}
    assert error.value.location == where
    assert pickle.loads(pickle.dumps(error.value)).location == where


def _dies_once(table: pa.Table, marker: str) -> pa.Table:
    """The table, after killing the worker process the first time it runs anywhere."""

    if not os.path.exists(marker):
        open(marker, "w").close()
        os._exit(1)  # the cluster retries the task on a (restarted) worker
    return table


def test_a_worker_killed_during_a_run_gives_the_identical_answer(client, tmp_path):
    labels, probs, offsets = noisy_flat_dataset(14, 200, 3, np.float64, False)
    parts = _partitioned(labels, probs, offsets, [70, 140], "delayed")
    parts[1] = dask.delayed(_dies_once)(parts[1], str(tmp_path / "died"))
    expected = _expected(labels, probs, offsets, filter_by="both")
    _assert_identical(_found(parts, filter_by="both", scheduler=client), expected)
    assert (tmp_path / "died").exists()


def _loaded_kernels() -> tuple:
    """(warmed-up layouts, signatures held by spanfast's kernels) of this worker process."""
    from spanfast._dask_parts import WARMED
    from spanfast._numba import compiled_kernels

    return sorted(WARMED), sum(len(kernel.signatures) for kernel in compiled_kernels())


def test_each_worker_is_warmed_up_once_and_a_second_run_compiles_nothing(client):
    labels, probs, offsets = noisy_flat_dataset(15, 200, 3, np.float64, False)
    parts = _partitioned(labels, probs, offsets, list(range(25, 200, 25)), "delayed")
    expected = _expected(labels, probs, offsets, filter_by="both")
    _assert_identical(_found(parts, filter_by="both", scheduler=client), expected)
    first = client.run(_loaded_kernels)
    assert len(first) == 2
    for layouts, signatures in first.values():
        assert (False, "float64", False) in layouts
        assert signatures > 0
    # Every kernel the passes need was loaded by the warm-up: the same run again adds none.
    _assert_identical(_found(parts, filter_by="both", scheduler=client), expected)
    assert client.run(_loaded_kernels) == first


def test_scan_dask_local_writes_the_plain_scan_output(tmp_path):
    import subprocess
    import sys

    labels, probs, offsets = noisy_flat_dataset(16, 300, 2, np.float32, True)
    data = tmp_path / "data"
    data.mkdir()
    for n, (a, b) in enumerate([(0, 100), (100, 101), (101, 300)]):
        pq.write_table(_table(labels, probs, offsets, a, b), data / f"part{n}.parquet")
    outputs = []
    for extra in ([], ["--dask", "local:2"]):
        out = tmp_path / f"issues{len(outputs)}.csv"
        command = [sys.executable, "-m", "spanfast", "scan", str(data), "--labels", "labels"]
        command += ["--probs", "probs", "--tokens", "tokens", "--out", str(out), *extra]
        if not extra:
            subprocess.run(command, check=True, timeout=300, capture_output=True, env=os.environ)
        else:  # stderr on a terminal: the progress line
            progress = _stderr_on_a_terminal(command)
        outputs.append(out.read_text())
    assert outputs[0] == outputs[1]
    assert outputs[0].count("\n") > 1  # some issues, with their file and row_in_file
    assert "part2.parquet" in outputs[0]
    # Redrawn in place for each pass, ending at every sentence of the last pass.
    assert "\rspanfast scan: pass 1/5" in progress
    assert "pass 5/5 100% (300 of 300 sentences)" in progress


def _rare_class_parquet(root) -> None:
    """Two files of K=3 token data in which class 2 is one token: scan warns about it."""
    rng = np.random.default_rng(18)
    root.mkdir()
    for n in range(2):
        lengths = rng.integers(2, 6, 20)
        tags = [rng.integers(0, 2, length).tolist() for length in lengths]
        tags[3][0] = 2 if n == 1 else tags[3][0]
        p = [rng.dirichlet(np.ones(3), length).tolist() for length in lengths]
        pq.write_table(pa.table({"tags": tags, "p": p}), root / f"part{n}.parquet")


@contextlib.contextmanager
def _port_in_use(port: int) -> Iterator[None]:
    """Port ``port`` of 127.0.0.1 in use during the block (held here, or by another)."""
    with socket.socket() as holder:
        with contextlib.suppress(OSError):  # in use already
            holder.bind(("127.0.0.1", port))
            holder.listen()
        yield


@pytest.mark.parametrize(
    ("case", "cluster"),
    [("bad input", "local:1"), ("a warning", "local:1"), ("bad input", "the client fixture's")],
)
def test_scan_dask_says_on_stderr_what_the_plain_scan_says(tmp_path, request, case, cluster):
    # Nothing of the cluster's own reaches the terminal: not a worker's log of a failed
    # task ("Compute Failed" and its traceback), nor the scheduler's warning that the
    # default port of its HTTP server, 8787, is in use (another cluster's dashboard).
    # A failed command is one line, a warning one line, with or without --dask. On an
    # existing cluster (tcp://) the workers log in their own processes; the client adds
    # nothing.
    if cluster != "local:1":
        cluster = request.getfixturevalue("client").scheduler.address
    data = tmp_path / "data"
    if case == "bad input":
        write_parquet_with_a_mistake(data, {"a.parquet": 7, "b.parquet": 9}, "b.parquet", "nan")
    else:
        _rare_class_parquet(data)
    runs = []
    with _port_in_use(8787):
        for name, extra in [("plain", []), ("on_dask", ["--dask", cluster])]:
            (tmp_path / name).mkdir()
            command = ["scan", str(data), "--labels", "tags", "--probs", "p", "--out", "x.csv"]
            runs.append(run_spanfast(*command, *extra, cwd=tmp_path / name, timeout=300))
    plain, on_dask = runs
    assert plain.returncode == on_dask.returncode == (2 if case == "bad input" else 0)
    assert on_dask.stdout == plain.stdout
    assert on_dask.stderr == plain.stderr
    lines = plain.stderr.splitlines()
    if case == "bad input":
        assert plain.stdout == ""
        assert len(lines) == 1 and "b.parquet: column 'p', row 4: " in lines[0], lines
    else:
        warned = "spanfast scan: warning: May not flag all label issues in class: 2"
        assert lines and all(line.startswith(warned) for line in lines), lines


def _stderr_on_a_terminal(command: list) -> str:
    """What a command writes on stderr when stderr is a (pseudo-)terminal; it must exit 0."""
    done = run_on_a_terminal(command, terminal="stderr", env=os.environ, timeout=300)
    assert done.returncode == 0, done.stderr
    return done.stderr


def test_progress_is_told_as_partitions_finish(client):
    labels, probs, offsets = noisy_flat_dataset(17, 120, 3, np.float64, False)
    parts = _partitioned(labels, probs, offsets, [40, 80], "delayed")
    calls = []
    found = _found(parts, scheduler=client, progress=lambda *call: calls.append(call))
    _assert_identical(found, _expected(labels, probs, offsets))
    n_passes = 5  # prune_by_noise_rate
    assert [c[0] for c in calls] == [p for p in range(1, n_passes + 1) for _ in range(3)]
    assert {c[1] for c in calls} == {n_passes}
    for number in range(1, n_passes + 1):
        done = [c[2] for c in calls if c[0] == number]
        assert done == sorted(done) and done[-1] == 120  # each finished partition adds its own


def test_scan_dask_says_what_it_takes():
    from spanfast.cli._dask import cluster_spec
    from spanfast.cli.errors import UsageError

    assert cluster_spec("local") == ("local", 2)
    for spec in ("local:0", "local:x", "cluster"):
        with pytest.raises(UsageError, match="local:N"):
            cluster_spec(spec)


def test_a_warm_cache_needs_no_lock_and_a_changed_one_does():
    import threading

    from spanfast import _dask_parts as parts
    from spanfast._numba import compiled_kernels

    key = (True, "float64", False)
    parts.warm_up(*key)  # loads (or compiles) under no lock here, and leaves the marker
    assert parts._in_cache(key)
    saved = set(parts.WARMED)
    parts.WARMED.clear()
    try:
        finished = []
        with parts._cache_lock():  # another worker holds the lock (compiling)
            worker = threading.Thread(
                target=lambda: finished.append(parts.warmed(lambda: 42, lambda _: key, key))
            )
            worker.start()
            worker.join(timeout=60)
        assert finished == [42]  # it did not wait for the lock
        assert key in parts.WARMED
        # An index file written since (a kernel compiled for something else): the lock again.
        indexes = (k._cache._cache_file._index_path for k in compiled_kernels())
        index = next(path for path in indexes if os.path.exists(path))
        stat = os.stat(index)
        os.utime(index, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1))
        assert not parts._in_cache(key)
    finally:
        parts.WARMED.clear()
        parts.WARMED.update(saved)
        parts.warm_up(*key)  # the marker of the cache as it is now
