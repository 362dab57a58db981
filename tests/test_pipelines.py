"""Pipelines: record identity, sentence scores out of core, tables, dataset inputs (issue 16)."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from spanfast.errors import InvalidInputError, InvalidOptionError
from spanfast.results import find_issues_in_table
from spanfast.streaming import find_label_issues_in_batches, find_label_issues_parquet

ROOT = Path(__file__).resolve().parents[1]
SCORING = [
    {},
    {"token_score_method": "normalized_margin", "sentence_score_method": "softmin"},
    {"sentence_score_method": "softmin", "temperature": 0.7},
    {"token_score_method": "confidence_weighted_entropy", "sentence_score_method": "softmin"},
]


def _table(n_sentences: int = 240, n_classes: int = 3, seed: int = 0, dtype=np.float64):
    rng = np.random.default_rng(seed)
    lengths = rng.integers(0, 18, n_sentences)
    lengths[5:9] = 0  # empty sentences score 1 wherever they fall
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int32)
    n_tokens = int(offsets[-1])
    if n_classes == 2:
        probs = pa.array(rng.random(n_tokens).astype(dtype))
    else:
        flat = rng.dirichlet(np.ones(n_classes), n_tokens).astype(dtype).ravel()
        probs = pa.FixedSizeListArray.from_arrays(pa.array(flat), n_classes)
    words = pa.array([f"w{i}" for i in range(n_tokens)])
    return pa.table(
        {
            "doc": [f"doc-{i:04d}" for i in range(n_sentences)],
            "part": (np.arange(n_sentences) * 7 + 3).astype(np.int64),
            "labels": pa.ListArray.from_arrays(
                offsets, pa.array(rng.integers(0, n_classes, n_tokens))
            ),
            "probs": pa.ListArray.from_arrays(offsets, probs),
            "words": pa.ListArray.from_arrays(offsets, words),
        }
    )


def _assert_same(got, expected, *, extra=()):
    """Every column of ``expected`` (issues and sentences) equal in ``got``, dtype too."""
    got_columns = got.to_dict()
    for name, values in expected.to_dict().items():
        np.testing.assert_array_equal(got_columns[name], values, err_msg=name)
        assert got_columns[name].dtype == values.dtype, name
    assert set(got_columns) - set(expected.to_dict()) == set(extra)
    assert got.sentence_scores.dtype == expected.sentence_scores.dtype
    np.testing.assert_array_equal(got.sentence_scores, expected.sentence_scores)  # bit for bit


def _write_parts(table, directory: Path, cuts=(0, 70, 71, 180), name="part-{}.parquet"):
    directory.mkdir(parents=True, exist_ok=True)
    ends = list(cuts[1:]) + [table.num_rows]
    paths = []
    for number, (start, end) in enumerate(zip(cuts, ends)):
        path = directory / name.format(number)
        path.parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(table.slice(start, end - start), path, row_group_size=23)
        paths.append(path)
    return paths


# -- 1. record identity, 2. sentence scores: in memory = streamed = Dask ---------------------


@pytest.mark.parametrize("options", SCORING)
def test_parquet_ids_and_sentence_scores_equal_in_memory(tmp_path, options):
    table = _table()
    expected = find_issues_in_table(table, tokens="words", id=["doc", "part"], **options)
    _write_parts(table, tmp_path)
    streamed = find_label_issues_parquet(
        tmp_path,
        labels="labels",
        probs="probs",
        tokens="words",
        id=["doc", "part"],
        batch_size=17,
        **options,
    )
    _assert_same(streamed, expected, extra={"file", "row_in_file"})
    # The ids are those of the source rows each issue is in.
    rows = table.take(pa.array(streamed.sentence)).to_pydict()
    assert streamed.ids["doc"].tolist() == rows["doc"]
    assert streamed.ids["part"].tolist() == rows["part"]
    # file / row_in_file name the row the sentence was read from.
    starts = {
        "part-0.parquet": 0,
        "part-1.parquet": 70,
        "part-2.parquet": 71,
        "part-3.parquet": 180,
    }
    columns = streamed.to_dict()
    located = [starts[f] + r for f, r in zip(columns["file"], columns["row_in_file"])]
    assert located == streamed.sentence.tolist()


def test_parquet_file_and_row_of_every_sentence_one_string_per_file(tmp_path):
    table = _table()
    _write_parts(table, tmp_path)  # 70, 1, 109 and the rest of the rows
    for id_column, names in (
        (None, ["file", "row_in_file"]),
        ("doc", ["doc", "file", "row_in_file"]),
    ):
        streamed = find_label_issues_parquet(
            tmp_path, labels="labels", probs="probs", id=id_column, batch_size=17
        )
        assert list(streamed.sentence_ids) == names
        counts = [70, 1, 109, table.num_rows - 180]
        file = streamed.sentence_ids["file"]
        assert file.dtype == object
        assert file.tolist() == [
            f"part-{n}.parquet" for n, c in enumerate(counts) for _ in range(c)
        ]
        row_in_file = streamed.sentence_ids["row_in_file"]
        assert row_in_file.dtype == np.int64
        assert row_in_file.tolist() == [r for c in counts for r in range(c)]
        # 8 bytes a row: the rows of a file share its name (a string each was 400 MiB
        # at 3.5 M rows)
        assert len({id(name) for name in file}) == len(counts)


def test_float32_batches_promoted_like_concatenation():
    first, second = _table(seed=1, dtype=np.float32), _table(seed=2)
    whole = pa.concat_tables([first.cast(second.schema), second])
    expected = find_issues_in_table(whole, id="doc")

    def batches():
        for table in (first, second):
            yield table["labels"], table["probs"], None, {"doc": table["doc"]}

    _assert_same(find_label_issues_in_batches(batches), expected)


def test_dask_ids_and_sentence_scores_equal_in_memory():
    pd = pytest.importorskip("pandas")
    dd = pytest.importorskip("dask.dataframe")
    from spanfast.dask import find_issues

    table = _table(n_classes=2)
    options = {"sentence_score_method": "softmin", "temperature": 0.3}
    expected = find_issues_in_table(table, id=["doc", "part"], **options)
    frame = dd.from_pandas(table.to_pandas(types_mapper=pd.ArrowDtype), npartitions=7)
    got = find_issues(frame, id=["doc", "part"], scheduler="synchronous", **options)
    _assert_same(got, expected)
    for name, values in expected.sentence_ids.items():
        np.testing.assert_array_equal(got.sentence_ids[name], values)


def test_null_id_names_the_row_and_duplicates_are_carried(tmp_path):
    table = _table(n_sentences=60)
    doc = table["doc"].to_pylist()
    doc[41] = None
    nulls = table.set_column(0, "doc", pa.array(doc))
    _write_parts(nulls, tmp_path, cuts=(0, 30))
    with pytest.raises(InvalidInputError) as raised:
        find_label_issues_parquet(tmp_path, labels="labels", probs="probs", id="doc")
    assert (raised.value.field, raised.value.sentence) == ("doc", 41)

    same = table.set_column(0, "doc", pa.array(["one"] * 60))
    issues = find_issues_in_table(same, id="doc")
    assert set(issues.ids["doc"].tolist()) == {"one"}


def test_id_options_are_checked():
    table = _table(n_sentences=20)
    with pytest.raises(InvalidOptionError, match="result column"):
        find_issues_in_table(table, id="sentence")
    with pytest.raises(InvalidOptionError, match="twice"):
        find_issues_in_table(table, id=["doc", "doc"])
    with pytest.raises(InvalidInputError, match="no column 'nope'"):
        find_issues_in_table(table, id="nope")
    with pytest.raises(InvalidInputError, match="scalar"):
        find_issues_in_table(table, id="words")


def test_sentence_rows_ranked_and_in_order():
    issues = find_issues_in_table(_table(), id="doc")
    in_order = issues.sentences("position")
    assert in_order["sentence"].tolist() == list(range(240))
    assert in_order["doc"][17] == "doc-0017"
    assert in_order["n_issues"].sum() == len(issues)
    np.testing.assert_array_equal(in_order["n_issues"], np.bincount(issues.sentence, minlength=240))
    ranked = issues.sentences("rank")
    assert np.all(np.diff(ranked["score"]) >= 0)
    for name in ranked:  # the same rows, reordered together
        np.testing.assert_array_equal(ranked[name], in_order[name][ranked["sentence"]])


# -- the command line: --id, --sentences, --order, --summary ----------------------------


def _scan(*args, cwd=None, stdin=None):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "spanfast", "scan", *map(str, args)],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        input=stdin,
    )


def _jsonl(path: Path) -> list[dict]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as lines:
        return [json.loads(line) for line in lines]


def test_scan_directory_ids_file_and_row_in_file(tmp_path):
    table = _table()
    _write_parts(table, tmp_path / "data")
    out = tmp_path / "issues.jsonl"
    done = _scan(
        tmp_path / "data",
        "--labels",
        "labels",
        "--probs",
        "probs",
        "--id",
        "doc",
        "--id",
        "part",
        "--out",
        out,
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    rows = _jsonl(out)
    expected = find_issues_in_table(table, id=["doc", "part"])
    assert [r["sentence"] for r in rows] == expected.sentence.tolist()
    source = table.to_pydict()
    starts = {
        "part-0.parquet": 0,
        "part-1.parquet": 70,
        "part-2.parquet": 71,
        "part-3.parquet": 180,
    }
    for row in rows:
        assert row["doc"] == source["doc"][row["sentence"]]
        assert row["part"] == source["part"][row["sentence"]]
        assert starts[row["file"]] + row["row_in_file"] == row["sentence"]


@pytest.mark.parametrize("order", ["rank", "position"])
def test_scan_sentences_equal_in_memory(tmp_path, order):
    table = _table()
    _write_parts(table, tmp_path / "data")
    out = tmp_path / "sentences.jsonl"
    done = _scan(
        tmp_path / "data",
        "--labels",
        "labels",
        "--probs",
        "probs",
        "--id",
        "doc",
        "--sentences",
        "--order",
        order,
        "--sentence-score-method",
        "softmin",
        "--temperature",
        "0.5",
        "--out",
        out,
    )
    assert done.returncode == 0, done.stderr
    assert "Wrote 240 of 240 sentences" in done.stdout
    expected = find_issues_in_table(
        table, id="doc", sentence_score_method="softmin", temperature=0.5
    ).sentences(order)
    rows = _jsonl(out)
    assert list(rows[0]) == ["sentence", "score", "n_issues", "doc", "file", "row_in_file"]
    for name in ("sentence", "score", "n_issues", "doc"):
        assert [r[name] for r in rows] == expected[name].tolist(), name


def test_scan_summary_counts_are_common_label_issues(tmp_path):
    from spanfast.token_classification.summary import common_label_issues

    table = _table(n_sentences=80)
    pq.write_table(table, tmp_path / "data.parquet")
    done = _scan(
        tmp_path / "data.parquet",
        "--labels",
        "labels",
        "--probs",
        "probs",
        "--summary",
        "--out",
        "-",
    )
    assert done.returncode == 0, done.stderr
    issues = find_issues_in_table(table)
    frame = common_label_issues(
        issues.to_tuples(),
        table["words"].to_pylist(),
        labels=table["labels"].to_pylist(),
        pred_probs=[np.array(p) for p in table["probs"].to_pylist()],
        verbose=False,
        top=0,
    )
    totals = frame.groupby(["given_label", "predicted_label"])["num_label_issues"].sum()
    lines = done.stderr.splitlines()  # stdout holds the issues
    assert lines[0] == f"{len(issues)} label issues by (given label, predicted label):"
    printed = {}
    for line in lines[1:]:
        pair, n = line.split(":")
        given, predicted = pair.split("->")
        printed[(int(given.split()[-1]), int(predicted.split()[-1]))] = int(n)
    assert printed == {key: int(n) for key, n in totals.items()}
    assert len(done.stdout.splitlines()) == len(issues)


def test_scan_missing_and_null_id_one_line_exit_2(tmp_path):
    table = _table(n_sentences=50)
    doc = table["doc"].to_pylist()
    doc[37] = None
    pq.write_table(table.set_column(0, "doc", pa.array(doc)), tmp_path / "data.parquet")
    missing = _scan(
        tmp_path / "data.parquet", "--labels", "labels", "--probs", "probs", "--id", "key"
    )
    assert missing.returncode == 2 and missing.stdout == ""
    assert len(missing.stderr.splitlines()) == 1
    assert "column 'key'" in missing.stderr and "no such column" in missing.stderr
    null = _scan(tmp_path / "data.parquet", "--labels", "labels", "--probs", "probs", "--id", "doc")
    assert null.returncode == 2 and len(null.stderr.splitlines()) == 1
    assert "column 'doc', row 37" in null.stderr and "null" in null.stderr


# -- 4. outputs: pyarrow's CSV writer, compressed by extension, stdout --------------------


@pytest.mark.parametrize(
    "name", ["issues.csv.gz", "issues.jsonl.gz", "issues.csv", "issues.jsonl.zst"]
)
def test_scan_compressed_outputs_round_trip(tmp_path, name):
    import pyarrow.csv

    table = _table(n_sentences=90)
    pq.write_table(table, tmp_path / "data.parquet")
    out = tmp_path / name
    done = _scan(
        tmp_path / "data.parquet",
        "--labels",
        "labels",
        "--probs",
        "probs",
        "--tokens",
        "words",
        "--id",
        "doc",
        "--out",
        out,
    )
    assert done.returncode == 0, done.stderr
    expected = find_issues_in_table(table, tokens="words", id="doc").to_dict()
    if ".csv" in name:
        if name.endswith(".gz"):
            assert out.read_bytes()[:2] == b"\x1f\x8b"  # gzip, by the extension
        read = pyarrow.csv.read_csv(out).to_pydict()  # pyarrow decompresses by extension
    else:
        with pa.CompressedInputStream(
            pa.OSFile(str(out)), name.rsplit(".", 1)[1].replace("gz", "gzip").replace("zst", "zstd")
        ) as stream:
            rows = [json.loads(line) for line in stream.read().decode().splitlines()]
        read = {key: [row[key] for row in rows] for key in rows[0]}
    assert list(read) == list(expected)
    for key, values in expected.items():
        assert read[key] == values.tolist(), key


def test_scan_csv_to_stdout_and_parquet_not_compressed(tmp_path):
    table = _table(n_sentences=40)
    pq.write_table(table, tmp_path / "data.parquet")
    done = _scan(
        tmp_path / "data.parquet",
        "--labels",
        "labels",
        "--probs",
        "probs",
        "--out",
        "-",
        "--out-format",
        "csv",
        "--top",
        "5",
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "sentence,token,score,given_label,predicted_label"
    assert len(lines) == 6
    refused = _scan(
        tmp_path / "data.parquet",
        "--labels",
        "labels",
        "--probs",
        "probs",
        "--out",
        tmp_path / "x.parquet.gz",
    )
    assert refused.returncode == 2 and len(refused.stderr.splitlines()) == 1
    assert "x.parquet.gz" in refused.stderr


# -- 4. LabelIssues as a table ----------------------------------------------------------


def test_label_issues_rows_slices_equality_and_repr():
    table = _table(n_sentences=120)
    issues = find_issues_in_table(table, tokens="words", id="doc")
    rows = list(issues)
    assert len(rows) == len(issues)
    first = rows[0]
    assert first == issues[0]
    assert (first.sentence, first.token) == issues.to_tuples()[0]
    assert first.doc == table["doc"][first.sentence].as_py()
    assert first.token_text == table["words"][first.sentence][first.token].as_py()
    assert issues[-1] == rows[-1]
    with pytest.raises(IndexError):
        issues[len(issues)]

    top = issues.head(7)
    assert len(top) == 7 and top.to_tuples() == issues.to_tuples()[:7]
    assert top == issues[:7] and top != issues
    assert top.ids["doc"].tolist() == issues.ids["doc"][:7].tolist()
    mask = issues.given_label == 1
    assert issues[mask].given_label.tolist() == [1] * int(mask.sum())
    assert top.sentence_scores is issues.sentence_scores

    again = find_issues_in_table(table, tokens="words", id="doc")
    assert again == issues and again is not issues
    other = find_issues_in_table(table, tokens="words", id="doc", sentence_score_method="softmin")
    assert other != issues  # same issues, other sentence scores

    text = repr(issues)
    assert f"{len(issues)} issues in {len(np.unique(issues.sentence))} of 120 sentences" in text
    counts = issues.class_counts()
    assert f"{counts['given_label'][0]}->{counts['predicted_label'][0]}: " in text
    assert counts["num_label_issues"].sum() == len(issues)


def test_label_issues_to_polars():
    pl = pytest.importorskip("polars")
    issues = find_issues_in_table(_table(n_sentences=50), id=["doc", "part"])
    frame = issues.to_polars()
    assert isinstance(frame, pl.DataFrame)
    assert frame.columns == list(issues.to_dict())
    assert frame["doc"].to_list() == issues.ids["doc"].tolist()
    assert frame["score"].to_list() == issues.score.tolist()
