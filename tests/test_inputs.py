"""Input layouts: Parquet directories of any layout, JSON Lines variants, polars and
``datasets`` tables; each compared with :func:`spanfast.results.find_issues` in memory on
the same rows, in the documented order (files by sorted relative path, then rows)."""

from __future__ import annotations

import bz2
import gzip
import json
import pickle
import subprocess
import warnings
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import (
    PARQUET_MISTAKES,
    noisy_flat_dataset,
    run_spanfast,
    write_parquet_with_a_mistake,
)

from spanfast.cli import main
from spanfast.errors import InvalidInputError, InvalidOptionError
from spanfast.options import FILTER_BY
from spanfast.ragged import Ragged
from spanfast.results import find_issues, find_issues_in_table
from spanfast.streaming import find_label_issues_parquet


def _rows(n_sentences: int, seed: int) -> dict[str, list]:
    """Span data, one sentence per row, with a unique ``doc`` id per row."""
    rng = np.random.default_rng(seed)
    labels, probs, words, docs = [], [], [], []
    for i, length in enumerate(rng.integers(0, 7, n_sentences).tolist()):
        true = rng.random(length) < 0.3
        p = np.where(true, 0.6 + 0.4 * rng.random(length), 0.4 * rng.random(length))
        given = np.where(rng.random(length) < 0.15, ~true, true)
        labels.append(given.astype(int).tolist())
        probs.append(p.round(4).tolist())
        words.append([f"w{seed}.{i}.{j}" for j in range(length)])
        docs.append(f"doc-{seed}-{i}")
    return {"tags": labels, "p": probs, "words": words, "doc": docs}


# The layout: relative path -> rows. Listed here out of order; the row order is the
# sorted relative paths (directory by directory), which EXPECTED_ORDER spells out.
LAYOUT = {
    "split=train/lang=en/part-1.parquet": _rows(12, 1),
    "split=train/lang=en/part-0.pq": _rows(9, 2),
    "split=test/lang=de/b.parquet": _rows(15, 3),
    "split=test/lang=en/a.parquet": _rows(7, 4),
}
EXPECTED_ORDER = [
    "split=test/lang=de/b.parquet",
    "split=test/lang=en/a.parquet",
    "split=train/lang=en/part-0.pq",
    "split=train/lang=en/part-1.parquet",
]


def _write_layout(root: Path, layout: dict = LAYOUT) -> Path:
    for relative, rows in layout.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(pa.table(rows), path, row_group_size=5)
    # never data: hidden and underscore names, other extensions
    (root / "_SUCCESS").write_text("")
    first = (root / next(iter(layout))).parent
    (first / ".part-9.parquet").write_bytes(b"not parquet")
    (root / "_tmp").mkdir()
    (root / "_tmp" / "x.parquet").write_bytes(b"not parquet")
    (root / "notes.txt").write_text("not data")
    return root


def _in_order(order=EXPECTED_ORDER, layout=LAYOUT) -> dict[str, list]:
    """The rows of every file joined in ``order``, with their file and row_in_file."""
    joined: dict[str, list] = {"file": [], "row_in_file": []}
    for relative in order:
        rows = layout[relative]
        for name, values in rows.items():
            joined.setdefault(name, []).extend(values)
        joined["file"] += [relative] * len(rows["doc"])
        joined["row_in_file"] += list(range(len(rows["doc"])))
    return joined


def _expected(joined: dict[str, list]):
    return find_issues(joined["tags"], [np.array(p) for p in joined["p"]])


def test_a_hive_directory_streams_in_sorted_relative_path_order(tmp_path):
    root = _write_layout(tmp_path / "data")
    joined = _in_order()
    expected = _expected(joined)
    issues = find_label_issues_parquet(
        root, labels="tags", probs="p", tokens="words", id=["doc", "split"], batch_size=4
    )
    assert issues.to_tuples() == expected.to_tuples()
    np.testing.assert_array_equal(issues.score, expected.score)
    np.testing.assert_array_equal(issues.sentence_scores, expected.sentence_scores)
    # every issue's ids and file/row_in_file are those of its source row
    ids = issues.ids
    for n, sentence in enumerate(issues.sentence.tolist()):
        assert ids["doc"][n] == joined["doc"][sentence]
        assert ids["file"][n] == joined["file"][sentence]
        assert ids["row_in_file"][n] == joined["row_in_file"][sentence]
        assert ids["split"][n] == joined["file"][sentence].split("/")[0].split("=")[1]
        source = LAYOUT[ids["file"][n]]
        row = ids["row_in_file"][n]
        assert source["doc"][row] == ids["doc"][n]
        assert issues.token_text[n] == source["words"][row][issues.token[n]]


def test_integer_partition_values_are_typed_over_the_whole_listing(tmp_path):
    layout = {"year=2023/a.parquet": _rows(6, 5), "year=2024/b.parquet": _rows(6, 6)}
    _write_layout(tmp_path / "data", layout)
    issues = find_label_issues_parquet(tmp_path / "data", labels="tags", probs="p", id="year")
    joined = _in_order(sorted(layout), layout)
    assert issues.to_tuples() == _expected(joined).to_tuples()
    assert issues.sentence_ids["year"].dtype == np.int32
    assert issues.sentence_ids["year"].tolist() == [2023] * 6 + [2024] * 6


def test_dask_reads_the_same_listing(tmp_path):
    pytest.importorskip("dask")
    from spanfast.dask import find_issues_parquet

    root = _write_layout(tmp_path / "data")
    streamed = find_label_issues_parquet(root, labels="tags", probs="p", id="doc")
    on_dask = find_issues_parquet(root, "tags", "p", id="doc", scheduler="synchronous")
    assert on_dask == streamed
    assert on_dask.ids["file"].tolist() == streamed.ids["file"].tolist()
    with pytest.raises(InvalidInputError, match="not Hive partition keys") as error:
        find_issues_parquet(root, "tags", "p", id="split", scheduler="synchronous")
    assert error.value.field == "split"


def test_each_pass_reads_only_the_columns_it_needs(tmp_path, monkeypatch):
    root = _write_layout(tmp_path / "data")
    read: list[tuple] = []
    iter_batches = pq.ParquetFile.iter_batches

    def recording(self, *args, columns=None, **kwargs):
        read.append(tuple(columns))
        return iter_batches(self, *args, columns=columns, **kwargs)

    monkeypatch.setattr(pq.ParquetFile, "iter_batches", recording)
    for filter_by in (
        "prune_by_noise_rate",
        "confident_learning",
        "predicted_neq_given",
        "low_self_confidence",
        "both",
    ):
        read.clear()
        issues = find_label_issues_parquet(
            root, labels="tags", probs="p", tokens="words", id="doc", filter_by=filter_by
        )
        expected = find_issues_in_table(
            pa.table(_in_order()), "tags", "p", "words", id="doc", filter_by=filter_by
        )
        assert issues.to_tuples() == expected.to_tuples()
        assert issues.token_text.tolist() == expected.token_text.tolist()
        per_file = len(EXPECTED_ORDER)
        passes = [set(read[i : i + per_file]) for i in range(0, len(read), per_file)]
        assert passes[0] == {("tags",)}  # the first pass counts classes
        assert all(columns == {("tags", "p")} for columns in passes[1:-1])
        assert passes[-1] == {("tags", "p", "words", "doc")}  # the partition keys: no file has them


def test_a_list_of_files_is_read_in_the_order_given(tmp_path):
    root = _write_layout(tmp_path / "data")
    order = list(reversed(EXPECTED_ORDER))
    issues = find_label_issues_parquet([root / name for name in order], labels="tags", probs="p")
    assert issues.to_tuples() == _expected(_in_order(order)).to_tuples()


# -- bad directories: one error naming the file --------------------------------------------


def test_partitions_that_disagree_on_the_schema_are_an_error(tmp_path):
    layout = dict(LAYOUT)
    rows = dict(layout["split=train/lang=en/part-0.pq"])
    rows["p"] = [[[q, 1 - q] for q in sentence] for sentence in rows["p"]]  # K=2 lists
    layout["split=train/lang=en/part-0.pq"] = rows
    root = _write_layout(tmp_path / "data", layout)
    with pytest.raises(InvalidInputError, match="disagree on the schema: column 'p'") as error:
        find_label_issues_parquet(root, labels="tags", probs="p")
    assert error.value.file.endswith("part-0.pq") and error.value.field == "p"


def test_files_under_different_partition_keys_are_an_error(tmp_path):
    layout = {"split=train/a.parquet": _rows(4, 1), "b.parquet": _rows(4, 2)}
    root = _write_layout(tmp_path / "data", layout)
    with pytest.raises(InvalidInputError, match="disagree on the partitions"):
        find_label_issues_parquet(root, labels="tags", probs="p")


def _scan(*argv: str, stdin: bytes | None = None) -> subprocess.CompletedProcess:
    return run_spanfast("scan", *argv, cwd=None, input=stdin, text=False)


def _one_line(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 2, result.stderr
    assert result.stdout == b""
    lines = result.stderr.decode().splitlines()
    assert len(lines) == 1, lines
    return lines[0]


def test_cli_bad_inputs_give_one_line_and_exit_2(tmp_path):
    layout = dict(LAYOUT)
    rows = dict(layout["split=test/lang=en/a.parquet"])
    rows["tags"] = [[str(t) for t in sentence] for sentence in rows["tags"]]
    layout["split=test/lang=en/a.parquet"] = rows
    root = _write_layout(tmp_path / "schema", layout)
    line = _one_line(_scan(str(root), "--labels", "tags", "--probs", "p", "--class-names", "O,S"))
    assert line.startswith(f"spanfast scan: {root / 'split=test/lang=en/a.parquet'}: ")
    assert "column 'tags'" in line and "disagree on the schema" in line

    mixed = _write_layout(tmp_path / "mixed", {"k=1/a.parquet": _rows(3, 1), "b.pq": _rows(3, 2)})
    line = _one_line(_scan(str(mixed), "--labels", "tags", "--probs", "p"))
    assert (
        "disagree on the partitions" in line
        and "k=1/a.parquet is under partition keys k but b.pq under no partition keys" in line
    )

    not_gzip = tmp_path / "data.jsonl.gz"
    not_gzip.write_bytes(b'{"tags": [0], "p": [0.5]}\n')
    line = _one_line(_scan(str(not_gzip), "--labels", "tags", "--probs", "p"))
    assert line.startswith(f"spanfast scan: {not_gzip}: cannot read as gzip-compressed JSON Lines")

    bad_line = tmp_path / "data.ndjson.bz2"
    bad_line.write_bytes(bz2.compress(b'{"tags": [0], "p": [0.5]}\n{"tags": [0], "p": [0.5\n'))
    line = _one_line(_scan(str(bad_line), "--labels", "tags", "--probs", "p"))
    assert line.startswith(f"spanfast scan: {bad_line}: row 1: invalid JSON")

    jsonl = tmp_path / "data.jsonl"
    jsonl.write_text('{"tags": [0, 1], "p": [0.5, 0.9]}\n')
    line = _one_line(_scan(str(jsonl), "--labels", "tags", "--probs", "p", "--dask", "local"))
    assert line.startswith("spanfast scan: error: --dask reads Parquet input")

    hive = _write_layout(tmp_path / "hive")
    line = _one_line(
        _scan(str(hive), "--labels", "tags", "--probs", "p", "--id", "split", "--dask", "local")
    )
    assert "--id split is a Hive partition key" in line

    line = _one_line(_scan("-", "--labels", "tags", "--probs", "p", "--format", "npz"))
    assert line == "spanfast scan: -: stdin ('-') is read as JSON Lines, not npz"

    out = hive / "split=train" / "issues.parquet"
    line = _one_line(_scan(str(hive), "--labels", "tags", "--probs", "p", "--out", str(out)))
    assert "is inside the input directory" in line and not out.exists()


# -- JSON Lines: .ndjson, compressed, stdin, --format ---------------------------------------


def _jsonl_bytes(rows: dict[str, list]) -> bytes:
    names = list(rows)
    lines = (json.dumps(dict(zip(names, values))) for values in zip(*rows.values()))
    return ("\n".join(lines) + "\n").encode()


def _written(capsys) -> list[dict]:
    return [json.loads(line) for line in capsys.readouterr().out.splitlines()]


def _issue_rows(issues) -> list[dict]:
    columns = issues.to_dict()
    return [dict(zip(columns, values)) for values in zip(*(v.tolist() for v in columns.values()))]


JSONL_ROWS = _rows(30, 7)


@pytest.mark.parametrize(
    "name, encode",
    [
        ("data.ndjson", lambda b: b),
        ("data.jsonl.gz", gzip.compress),
        ("data.ndjson.gz", gzip.compress),
        ("data.jsonl.bz2", bz2.compress),
        ("data.jsonl.zst", lambda b: pa.compress(b, "zstd", asbytes=True)),
        ("data.txt", lambda b: b),  # with --format jsonl
    ],
)
def test_json_lines_files_match_in_memory(tmp_path, capsys, name, encode):
    if name.endswith(".zst"):  # pa.compress writes a raw frame: write a zstd stream instead
        path = tmp_path / name
        with pa.output_stream(path, compression="zstd") as stream:
            stream.write(_jsonl_bytes(JSONL_ROWS))
    else:
        path = tmp_path / name
        path.write_bytes(encode(_jsonl_bytes(JSONL_ROWS)))
    extra = ["--format", "jsonl"] if name.endswith(".txt") else []
    argv = ["scan", str(path), "--labels", "tags", "--probs", "p", "--tokens", "words"]
    assert main([*argv, "--id", "doc", "--out", "-", *extra]) == 0
    expected = find_issues_in_table(pa.table(JSONL_ROWS), "tags", "p", "words", id="doc")
    assert _written(capsys) == _issue_rows(expected)


def test_json_lines_from_stdin():
    argv = ["-", "--labels", "tags", "--probs", "p", "--id", "doc", "--out", "-"]
    result = _scan(*argv, stdin=_jsonl_bytes(JSONL_ROWS))
    assert result.returncode == 0, result.stderr
    written = [json.loads(line) for line in result.stdout.decode().splitlines()]
    assert written == _issue_rows(find_issues_in_table(pa.table(JSONL_ROWS), "tags", "p", id="doc"))


def test_format_overrides_the_extension(tmp_path, capsys):
    path = tmp_path / "predictions.dat"
    pq.write_table(pa.table(JSONL_ROWS), path)
    argv = ["scan", str(path), "--labels", "tags", "--probs", "p", "--out", "-"]
    assert main([*argv, "--format", "parquet"]) == 0
    assert _written(capsys) == _issue_rows(find_issues_in_table(pa.table(JSONL_ROWS), "tags", "p"))
    assert main(argv) == 2
    assert "unknown input format '.dat'" in capsys.readouterr().err


def test_a_hive_directory_on_the_command_line(tmp_path, capsys):
    root = _write_layout(tmp_path / "data")
    argv = ["scan", str(root), "--labels", "tags", "--probs", "p", "--id", "doc", "--id", "lang"]
    assert main([*argv, "--out", "-"]) == 0
    joined = _in_order()
    written = _written(capsys)
    assert [(r["sentence"], r["token"]) for r in written] == _expected(joined).to_tuples()
    for row in written:
        source = LAYOUT[row["file"]]
        assert source["doc"][row["row_in_file"]] == row["doc"] == joined["doc"][row["sentence"]]
        assert row["lang"] == row["file"].split("/")[1].removeprefix("lang=")

    # the printed table has the ids too, so that a person can find each row
    assert main([*argv, "--top", "3"]) == 0
    lines = capsys.readouterr().out.splitlines()
    header = lines[2].split()
    assert header[-4:] == ["doc", "lang", "file", "row_in_file"]
    first = dict(zip(header, lines[3].split()))
    assert LAYOUT[first["file"]]["doc"][int(first["row_in_file"])] == first["doc"]


def test_printed_issues_with_tokens_say_where_each_sentence_is(tmp_path, capsys):
    root = _write_layout(tmp_path / "data")
    argv = ["scan", str(root), "--labels", "tags", "--probs", "p", "--tokens", "words"]
    assert main([*argv, "--id", "doc", "--top", "4", "--no-color"]) == 0
    out = capsys.readouterr().out
    table = out.split("Where the sentences are:\n")[1].splitlines()
    assert table[0].split() == ["sentence", "doc", "file", "row_in_file"]
    joined = _in_order()
    for line in table[1:]:
        sentence, doc, file, row = line.split()
        assert joined["doc"][int(sentence)] == doc == LAYOUT[file]["doc"][int(row)]


# -- Python tables: polars LazyFrame / DataFrame, datasets.DatasetDict ----------------------


def test_polars_frames_match_the_arrow_table():
    pl = pytest.importorskip("polars")
    table = pa.table(JSONL_ROWS)
    expected = find_issues_in_table(table, "tags", "p", "words", id="doc")
    frame = pl.from_arrow(table)
    assert find_issues_in_table(frame, "tags", "p", "words", id="doc") == expected
    # collected with only the columns read: this one fails if it is computed
    lazy = frame.lazy().with_columns(
        broken=pl.col("doc").map_elements(lambda _: 1 // 0, return_dtype=pl.Int64)
    )
    assert find_issues_in_table(lazy, "tags", "p", "words", id="doc") == expected
    with pytest.raises(InvalidInputError, match="no column 'nope'"):
        find_issues_in_table(lazy, "tags", "nope")


def test_a_dataset_dict_needs_a_split():
    datasets = pytest.importorskip("datasets")
    table = pa.table(JSONL_ROWS)
    other = pa.table(_rows(10, 8))
    splits = datasets.DatasetDict(train=datasets.Dataset(table), validation=datasets.Dataset(other))
    expected = find_issues_in_table(other, "tags", "p", id="doc")
    assert find_issues_in_table(splits, "tags", "p", id="doc", split="validation") == expected
    with pytest.raises(InvalidOptionError, match="several splits .'train', 'validation'."):
        find_issues_in_table(splits, "tags", "p")
    with pytest.raises(InvalidOptionError, match="the splits are 'train', 'validation'"):
        find_issues_in_table(splits, "tags", "p", split="test")
    with pytest.raises(InvalidOptionError, match="split= chooses a split"):
        find_issues_in_table(table, "tags", "p", split="train")


# -- the Parquet runner's first pass reads labels only: still the in-memory answer ---------


def _arrow_list(ragged, width=None):
    """A Ragged as an Arrow list column (rows of K as fixed-size lists when ``width``)."""
    values = ragged.values
    if values.ndim == 2:
        flat = pa.array(values.reshape(-1))
        inner = (
            pa.FixedSizeListArray.from_arrays(flat, values.shape[1])
            if width
            else pa.ListArray.from_arrays(
                np.arange(0, values.size + 1, values.shape[1], dtype=np.int32), flat
            )
        )
    else:
        inner = pa.array(values)
    return pa.ListArray.from_arrays(np.asarray(ragged.offsets, np.int32), inner)


@settings(deadline=None, max_examples=25)
@given(
    seed=st.integers(0, 2**32 - 1),
    n_sentences=st.integers(2, 60),
    n_classes=st.integers(2, 5),
    span=st.booleans(),
    fixed_width=st.booleans(),
    filter_by=st.sampled_from(FILTER_BY),
    data=st.data(),
)
def test_parquet_files_of_mixed_widths_give_the_in_memory_answer(
    tmp_path_factory, seed, n_sentences, n_classes, span, fixed_width, filter_by, data
):
    labels, probs, offsets = noisy_flat_dataset(seed, n_sentences, n_classes, np.float64, span)
    labels, probs = Ragged(labels, offsets), Ragged(probs, offsets)
    if np.unique(labels.values).size < 2:
        return
    cuts = sorted(data.draw(st.lists(st.integers(0, n_sentences), min_size=1, max_size=4)))
    bounds = [0, *cuts, n_sentences]  # a cut twice: a file without rows
    widths = [data.draw(st.sampled_from([np.float32, np.float64])) for _ in bounds[1:]]
    root = tmp_path_factory.mktemp("widths")
    parts = []
    for number, ((a, b), width) in enumerate(zip(zip(bounds[:-1], bounds[1:]), widths)):
        part = Ragged(probs[a:b].values.astype(width), probs[a:b].offsets)
        if part.n_tokens:  # a file without tokens has no say in the data's dtype
            parts.append(part.values)
        table = pa.table({"tags": _arrow_list(labels[a:b]), "p": _arrow_list(part, fixed_width)})
        pq.write_table(table, root / f"part-{number:02d}.parquet", row_group_size=7)
    whole = Ragged(np.concatenate(parts), probs.offsets)  # float64 if any part with tokens is
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = find_issues(labels, whole, filter_by=filter_by)
        streamed = find_label_issues_parquet(
            root, labels="tags", probs="p", filter_by=filter_by, batch_size=5
        )
    for name, values in expected.to_dict().items():
        np.testing.assert_array_equal(streamed.to_dict()[name], values, err_msg=name)
        assert streamed.to_dict()[name].dtype == values.dtype, name
    np.testing.assert_array_equal(streamed.sentence_scores, expected.sentence_scores)


def test_a_parquet_file_without_tokens_has_no_say_in_the_dtype(tmp_path):
    # rows of empty sentences stored as float64 among float32 files: float32, as the
    # batches in memory, the streaming runner and Dask take it
    pytest.importorskip("dask")
    from spanfast.dask import find_issues_parquet

    labels, probs, offsets = noisy_flat_dataset(8, 40, 3, np.float32, False)
    labels, probs = Ragged(labels, offsets), Ragged(probs, offsets)
    for number, (a, b) in enumerate([(0, 20), (20, 40)]):
        table = pa.table({"tags": _arrow_list(labels[a:b]), "p": _arrow_list(probs[a:b])})
        pq.write_table(table, tmp_path / f"part-{2 * number}.parquet", row_group_size=7)
    empty = pa.table(
        {"tags": pa.array([[], []], pa.list_(pa.int64())),
         "p": pa.array([[], []], pa.list_(pa.list_(pa.float64())))}
    )  # fmt: skip
    pq.write_table(empty, tmp_path / "part-1.parquet")
    sentences = [*labels[:20].to_list(), [], [], *labels[20:].to_list()]
    rows = [*np.split(probs.values, offsets[1:-1])]
    expected = find_issues(sentences, [*rows[:20], np.empty((0, 3)), [], *rows[20:]])
    assert expected.score.dtype == np.float32 and len(expected)
    streamed = find_label_issues_parquet(tmp_path, labels="tags", probs="p", batch_size=5)
    on_dask = find_issues_parquet(tmp_path, "tags", "p", scheduler="synchronous")
    for found in (streamed, on_dask):
        for name, values in expected.to_dict().items():
            np.testing.assert_array_equal(found.to_dict()[name], values, err_msg=name)
            assert found.to_dict()[name].dtype == values.dtype, name
        np.testing.assert_array_equal(found.sentence_scores, expected.sentence_scores)
        assert found.sentence_scores.dtype == expected.sentence_scores.dtype


def test_a_bad_label_is_found_in_the_first_pass_and_named_by_file_and_row(tmp_path):
    root = _write_layout(tmp_path / "data")
    relative = "split=train/lang=en/part-0.pq"
    rows = dict(LAYOUT[relative])
    rows["tags"] = [list(sentence) for sentence in rows["tags"]]
    row = next(i for i, sentence in enumerate(rows["tags"]) if sentence)
    rows["tags"][row][0] = 2  # span labels are 0 or 1
    pq.write_table(pa.table(rows), root / relative)
    joined = _in_order()
    sentence = joined["file"].index(relative) + row
    with pytest.raises(InvalidInputError, match="Span labels must be 0 or 1") as error:
        find_label_issues_parquet(root, labels="tags", probs="p")
    assert error.value.sentence == sentence
    line = _one_line(_scan(str(root), "--labels", "tags", "--probs", "p"))
    assert line.startswith(f"spanfast scan: {root / relative}: column 'tags', row {row}: ")


@pytest.mark.parametrize(
    ("span", "bad_label"), [(True, 2), (True, -1), (False, 3), (False, -1), (False, 200)]
)
def test_the_labels_only_pass_raises_the_in_memory_error(tmp_path, span, bad_label):
    # the Parquet runner's first pass checks labels alone: the same error as check_batch
    rows = _rows(9, 5)
    if not span:  # three classes, and one class index stored wider than int8 needs
        rows["p"] = [[[1 - q, q / 2, q / 2] for q in sentence] for sentence in rows["p"]]
    row = next(i for i, sentence in enumerate(rows["tags"]) if len(sentence) > 1)
    rows["tags"][row][1] = bad_label
    pq.write_table(pa.table(rows), tmp_path / "part.parquet", row_group_size=4)
    with pytest.raises(InvalidInputError) as in_memory:
        find_issues(rows["tags"], rows["p"])
    with pytest.raises(InvalidInputError) as streamed:
        find_label_issues_parquet(tmp_path, labels="tags", probs="p", batch_size=3)
    assert streamed.value.args == in_memory.value.args
    for name in ("field", "sentence", "token"):
        assert getattr(streamed.value, name) == getattr(in_memory.value, name), name
    assert (streamed.value.sentence, streamed.value.token) == (row, 1)


# A first file, one without rows, a later one in a subdirectory (rows in this order).
MISTAKE_FILES = {"a.parquet": 7, "b.parquet": 0, "c/d.parquet": 9}


@pytest.mark.parametrize("mistake", PARQUET_MISTAKES)
@pytest.mark.parametrize(
    ("files", "bad_file", "given"),
    [
        ({"only.parquet": 9}, "only.parquet", "file"),
        (MISTAKE_FILES, "a.parquet", "directory"),
        (MISTAKE_FILES, "c/d.parquet", "directory"),
        (MISTAKE_FILES, "c/d.parquet", "list"),
    ],
    ids=["single file", "first file", "later file", "later file of a list"],
)
def test_an_input_error_names_the_file_and_the_row_in_it(tmp_path, files, bad_file, given, mistake):
    # file and row are attributes, as sentence is: the message and the other attributes
    # are the in-memory run's (sentence global), whichever pass meets the mistake.
    row, joined = write_parquet_with_a_mistake(tmp_path, files, bad_file, mistake)
    with pytest.raises(InvalidInputError) as in_memory:
        find_issues(joined.column("tags"), joined.column("p"))
    paths = {
        "file": tmp_path / bad_file,
        "directory": tmp_path,
        "list": [tmp_path / relative for relative in files],
    }
    with pytest.raises(InvalidInputError) as streamed:
        find_label_issues_parquet(paths[given], labels="tags", probs="p", batch_size=2)
    error = streamed.value
    assert type(error) is type(in_memory.value)
    assert error.args == in_memory.value.args
    assert (error.field, error.sentence, error.token) == (
        in_memory.value.field,
        in_memory.value.sentence,
        in_memory.value.token,
    )
    names = list(files)  # in row order
    rows_before = sum(files[name] for name in names[: names.index(bad_file)])
    assert error.sentence == rows_before + row
    assert (error.file, error.row) == (str(tmp_path / bad_file), row)
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is type(error)
    assert (copy.args, copy.location) == (error.args, error.location)


def test_the_command_line_counts_the_sentence_over_all_files(tmp_path):
    # The line names the file and the row in it, and the message's global sentence says so.
    root = tmp_path / "data"
    row, _ = write_parquet_with_a_mistake(root, MISTAKE_FILES, "c/d.parquet", "nan")
    line = _one_line(_scan(str(root), "--labels", "tags", "--probs", "p"))
    assert line == (
        f"spanfast scan: {root / 'c' / 'd.parquet'}: column 'p', row {row}: Values in "
        f"pred_probs must be between 0 and 1: sentence {7 + row} of all 3 files, token 0, "
        "class 1 has NaN."
    )


def test_a_linked_directory_is_read_once_even_in_a_loop(tmp_path):
    root = _write_layout(tmp_path / "data", {"a/x.parquet": _rows(5, 1)})
    (root / "a" / "up").symlink_to("..")  # a loop
    (root / "b").symlink_to("a")  # the same directory again
    issues = find_label_issues_parquet(root, labels="tags", probs="p")
    assert issues.sentence_scores.shape == (5,)  # the file once
    assert set(issues.ids["file"].tolist()) <= {"a/x.parquet"}
    assert (
        issues.to_tuples()
        == _expected(_in_order(["a/x.parquet"], {"a/x.parquet": _rows(5, 1)})).to_tuples()
    )


def test_a_directory_read_whole_has_file_and_row_in_file_too(tmp_path, capsys):
    # tag-string labels are read whole, not streamed: the same id columns
    layout = {}
    for relative, rows in LAYOUT.items():
        tagged = dict(rows)
        tagged["tags"] = [[["O", "SPAN"][t] for t in sentence] for sentence in rows["tags"]]
        layout[relative] = tagged
    root = _write_layout(tmp_path / "data", layout)
    argv = ["scan", str(root), "--labels", "tags", "--probs", "p", "--class-names", "O,SPAN"]
    assert main([*argv, "--id", "doc", "--id", "split", "--out", "-"]) == 0
    joined = _in_order()
    written = _written(capsys)
    assert [(r["sentence"], r["token"]) for r in written] == _expected(joined).to_tuples()
    for row in written:
        assert row["file"] == joined["file"][row["sentence"]]
        assert row["row_in_file"] == joined["row_in_file"][row["sentence"]]
        assert row["doc"] == LAYOUT[row["file"]]["doc"][row["row_in_file"]]
        assert row["split"] == row["file"].split("/")[0].removeprefix("split=")
