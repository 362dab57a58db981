"""``spanfast scan --task`` and ``--spans`` through a real process: exit status, stdout, stderr."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from spanfast import Ragged

CLASS_NAMES = "O,B-PER,I-PER,B-LOC,I-LOC"


def _scan(*argv: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "spanfast", "scan", *map(str, argv)],
        capture_output=True,
        text=True,
        env=dict(os.environ),
        timeout=300,
    )


def _probs(tags: list[int], k: int = 5, flip: dict[int, int] | None = None) -> list[list[float]]:
    """Confident probabilities for ``tags``, except tokens in ``flip`` predicted otherwise."""
    rows = []
    for t, tag in enumerate(tags):
        predicted = (flip or {}).get(t, tag)
        row = [0.02] * k
        row[predicted] = 1 - 0.02 * (k - 1)
        rows.append(row)
    return rows


@pytest.fixture
def tagged(tmp_path):
    """JSON Lines with tag-string labels: 'New York' given as PER, predicted LOC."""
    sentences = [
        (["I", "love", "New", "York", "today"], ["O", "O", "B-PER", "I-PER", "O"], {2: 3, 3: 4}),
        (["Ann", "met", "Bob", "."], ["B-PER", "O", "B-PER", "O"], {}),
    ] + [
        (["Ann", "Lee", "in", "Los", "Angeles"], ["B-PER", "I-PER", "O", "B-LOC", "I-LOC"], {})
    ] * 12
    ids = {name: k for k, name in enumerate(CLASS_NAMES.split(","))}
    path = tmp_path / "tags.jsonl"
    with open(path, "w") as lines:
        for tokens, tags, flip in sentences:
            numbers = [ids[tag] for tag in tags]
            row = {"tokens": tokens, "tags": tags, "ids": numbers}
            row["probs"] = _probs(numbers, flip=flip)
            lines.write(json.dumps(row) + "\n")
    return path


def test_spans_printed_with_the_whole_span_marked(tagged):
    done = _scan(tagged, "--labels", "tags", "--probs", "probs", "--tokens", "tokens",
                 "--spans", "--class-names", CLASS_NAMES)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert "1 span issues found" in done.stdout
    assert "sentence 0, tokens 2:4: type (given PER, predicted LOC" in done.stdout
    assert "I love [[New York]] today" in done.stdout
    assert "\x1b[" not in done.stdout


def test_spans_written_to_every_output_format(tagged, tmp_path):
    pd = pytest.importorskip("pandas")
    for suffix in ("parquet", "csv", "jsonl"):
        out = tmp_path / f"issues.{suffix}"
        done = _scan(tagged, "--labels", "tags", "--probs", "probs", "--spans",
                     "--class-names", CLASS_NAMES, "--scheme", "bio", "--out", out)  # fmt: skip
        assert done.returncode == 0, done.stderr
        assert done.stdout == f"Wrote 1 of 1 span issues to {out}\n"
        table = {"parquet": pd.read_parquet, "csv": pd.read_csv}.get(
            suffix, lambda p: pd.read_json(p, lines=True)
        )(out)
        assert list(table.columns) == [
            "sentence", "start", "end", "kind", "given_label", "predicted_label", "score",
        ]  # fmt: skip
        assert table.iloc[0][["sentence", "start", "end", "kind"]].tolist() == [0, 2, 4, "type"]
        assert table.iloc[0][["given_label", "predicted_label"]].tolist() == ["PER", "LOC"]


def test_parquet_with_tag_strings(tagged, tmp_path):
    pytest.importorskip("pyarrow")
    import pyarrow.json
    import pyarrow.parquet as pq

    path = tmp_path / "tags.parquet"
    pq.write_table(pyarrow.json.read_json(tagged), path)
    for extra in (["--spans"], []):
        from_parquet, from_jsonl = (
            _scan(
                source,
                "--labels",
                "tags",
                "--probs",
                "probs",
                "--tokens",
                "tokens",
                "--class-names",
                CLASS_NAMES,
                *extra,
            )  # fmt: skip
            for source in (path, tagged)
        )
        assert from_parquet.returncode == 0, from_parquet.stderr
        assert from_parquet.stdout == from_jsonl.stdout


def test_class_names_from_parquet_metadata(tagged, tmp_path):
    pytest.importorskip("pyarrow")
    import pyarrow.json
    import pyarrow.parquet as pq

    table = pyarrow.json.read_json(tagged)
    path = tmp_path / "tags.parquet"
    pq.write_table(
        table.replace_schema_metadata({"class_names": json.dumps(CLASS_NAMES.split(","))}), path
    )
    from_metadata = _scan(path, "--labels", "tags", "--probs", "probs", "--spans")
    given = _scan(
        tagged, "--labels", "tags", "--probs", "probs", "--spans", "--class-names", CLASS_NAMES
    )
    assert from_metadata.returncode == 0, from_metadata.stderr
    assert from_metadata.stdout == given.stdout
    pq.write_table(table.replace_schema_metadata({"class_names": "O,B-PER"}), path)
    bad = _scan(path, "--labels", "tags", "--probs", "probs", "--spans")
    assert bad.returncode == 2
    assert "schema metadata 'class_names' is not a JSON list" in bad.stderr


def test_fail_on_issues_with_spans(tagged):
    done = _scan(tagged, "--labels", "tags", "--probs", "probs", "--spans",
                 "--class-names", CLASS_NAMES, "--fail-on-issues")  # fmt: skip
    assert done.returncode == 1


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ([], "holds tag strings such as 'B-PER'; give the class names"),
        (["--class-names", "O,B-PER,I-PER"], "--class-names has 3 names but there are 5"),
        (["--class-names", CLASS_NAMES, "--scheme", "bilbo"], "--scheme"),
        (["--class-names", "O,B-PER,I-PER,B-LOC,I-ORG"], "tag 'I-LOC', which is not one of"),
    ],
)
def test_bad_span_options_exit_2_with_one_line(tagged, extra, expected):
    done = _scan(tagged, "--labels", "tags", "--probs", "probs", "--spans", *extra)
    assert done.returncode == 2
    assert done.stdout == ""
    assert expected in done.stderr
    assert len(done.stderr.splitlines()) == 1


def test_class_names_that_do_not_parse_name_the_option(tagged):
    done = _scan(tagged, "--labels", "ids", "--probs", "probs", "--spans",
                 "--class-names", "O,B-PER,I-PER,B-LOC,X-LOC")  # fmt: skip
    assert done.returncode == 2
    assert done.stderr.startswith("spanfast scan: error: --class-names: class_names[4] = 'X-LOC'")
    assert len(done.stderr.splitlines()) == 1


def test_integer_labels_with_class_names_give_the_same_spans(tagged):
    by_tag, by_id = (
        _scan(
            tagged, "--labels", column, "--probs", "probs", "--spans", "--class-names", CLASS_NAMES
        )  # fmt: skip
        for column in ("tags", "ids")
    )
    assert by_tag.returncode == by_id.returncode == 0
    assert by_tag.stdout == by_id.stdout


def test_tag_strings_without_spans_find_token_issues(tagged):
    done = _scan(tagged, "--labels", "tags", "--probs", "probs", "--class-names", CLASS_NAMES)
    assert done.returncode == 0, done.stderr
    assert "label issues found" in done.stdout


def _multispan_npz(tmp_path):
    """Two span classes: sentence 0's token 1 given class 1 where the model says class 2."""
    rng = np.random.default_rng(0)
    lengths = rng.integers(3, 8, 40)
    offsets = np.concatenate([[0], np.cumsum(lengths)])
    n = int(offsets[-1])
    given = (rng.random((n, 2)) < 0.3).astype(np.int64)
    probs = np.where(given == 1, 0.95, 0.05)
    given[1] = [1, 0]
    probs[1] = [0.02, 0.97]
    path = tmp_path / "multi.npz"
    tokens = np.array([f"w{t}" for t in range(n)])
    np.savez(path, labels=given, labels_offsets=offsets, probs=probs, probs_offsets=offsets,
             tokens=tokens, tokens_offsets=offsets)  # fmt: skip
    return path


def test_task_span_reads_several_span_classes(tmp_path):
    path = _multispan_npz(tmp_path)
    out = tmp_path / "issues.csv"
    done = _scan(path, "--labels", "labels", "--probs", "probs", "--task", "span", "--out", out)
    assert done.returncode == 0, done.stderr
    header, *rows = out.read_text().splitlines()
    assert "span_class" in header.split(",")
    assert rows


def test_task_token_on_2d_is_the_default(tmp_path):
    path = _multispan_npz(tmp_path)
    outputs = []
    for extra in ([], ["--task", "token"]):
        out = tmp_path / f"issues{len(extra)}.csv"
        done = _scan(path, "--labels", "labels", "--probs", "probs", *extra, "--out", out)
        outputs.append(done)
    assert [done.returncode for done in outputs] == [2, 2]  # (T, 2) 0/1 labels are not token ids
    assert outputs[0].stderr == outputs[1].stderr


def test_unknown_task_is_a_usage_error(tagged):
    done = _scan(tagged, "--labels", "tags", "--probs", "probs", "--task", "spans")
    assert done.returncode == 2
    assert "--task" in done.stderr and len(done.stderr.splitlines()) == 1


def test_task_span_printed_as_a_table_naming_the_span_class(tmp_path):
    path = _multispan_npz(tmp_path)
    for extra in ([], ["--tokens", "tokens"]):
        done = _scan(path, "--labels", "labels", "--probs", "probs", "--task", "span", *extra)
        assert done.returncode == 0, done.stderr
        header = done.stdout.splitlines()[2].split()
        assert header[:4] == ["rank", "sentence", "token", "span_class"]
        assert ("token_text" in header) == bool(extra)


def test_spans_of_several_span_classes(tmp_path):
    # sentence 0's token 1 is given class 1 where the model says class 2: an issue of
    # each class there, each its class's own (the CSV is find_span_issues' table)
    from spanfast import find_span_issues

    path = _multispan_npz(tmp_path)
    common = ("--labels", "labels", "--probs", "probs", "--task", "span", "--spans")
    done = _scan(path, *common, "--tokens", "tokens", "--class-names", "A,B")
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    found = [line for line in done.stdout.splitlines() if line[:1].isdigit()]
    assert any("sentence 0, tokens 0:2: boundary (given A, predicted A" in x for x in found)
    assert any("sentence 0, tokens 0:2: boundary (given B, predicted B" in x for x in found)
    assert "   [[w0 w1]] w2" in done.stdout
    out = tmp_path / "spans.csv"
    done = _scan(path, *common, "--out", out)
    assert done.returncode == 0, done.stderr
    header, *rows = out.read_text().replace('"', "").splitlines()
    assert header.split(",")[:4] == ["sentence", "start", "end", "kind"]
    arrays = np.load(path)
    offsets = arrays["labels_offsets"]
    expected = find_span_issues(
        Ragged(arrays["labels"], offsets), Ragged(arrays["probs"], offsets), task="span"
    )
    assert [row.split(",")[:6] for row in rows] == [
        [str(r.sentence), str(r.start), str(r.end), r.kind]
        + ["" if v is None else str(v) for v in (r.given_label, r.predicted_label)]
        for r in expected
    ]
    done = _scan(path, *common, "--class-names", "A,B,C")
    assert done.returncode == 2 and len(done.stderr.splitlines()) == 1
    assert "--class-names" in done.stderr


def test_a_malformed_entity_shows_its_given_tags(tmp_path):
    names = CLASS_NAMES.split(",")
    path = tmp_path / "malformed.jsonl"
    with open(path, "w") as lines:
        rows = [(["in", "Paris", "now"], ["O", "I-LOC", "O"])]
        rows += [(["Ann", "Lee", "in", "Los", "Angeles"], names[1:3] + ["O"] + names[3:])] * 12
        for tokens, tags in rows:
            numbers = [names.index(tag) for tag in tags]
            lines.write(json.dumps({"tokens": tokens, "tags": tags, "probs": _probs(numbers)}))
            lines.write("\n")
    done = _scan(path, "--labels", "tags", "--probs", "probs", "--tokens", "tokens", "--spans",
                 "--class-names", CLASS_NAMES)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "sentence 0, tokens 1:2: malformed" in done.stdout
    assert "in [[Paris]] now\n   given tags: I-LOC\n" in done.stdout


def _multispan_parquet(tmp_path):
    """The data of :func:`_multispan_npz` as a Parquet file of list columns."""
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    arrays = np.load(_multispan_npz(tmp_path))
    offsets = arrays["labels_offsets"]
    rows = zip(offsets[:-1], offsets[1:])
    labels, probs = zip(*[(arrays["labels"][a:b].tolist(), arrays["probs"][a:b].tolist())
                          for a, b in rows])  # fmt: skip
    parquet = tmp_path / "multi.parquet"
    pq.write_table(pa.table({"labels": list(labels), "probs": list(probs)}), parquet)
    return parquet


def test_parquet_of_several_span_classes_is_streamed_as_read_whole(tmp_path):
    # --task span on Parquet streams the batches (spanfast.streaming); the issues are
    # those of the same data read whole from .npz
    parquet = _multispan_parquet(tmp_path)
    outputs = []
    for path, extra in ((tmp_path / "multi.npz", ()), (parquet, ("--batch-size", "7"))):
        out = tmp_path / f"issues-{path.suffix[1:]}.csv"
        done = _scan(path, "--labels", "labels", "--probs", "probs", "--task", "span",
                     "--out", out, *extra)  # fmt: skip
        assert done.returncode == 0, done.stderr
        outputs.append(out.read_text())
    assert outputs[0] == outputs[1] and "span_class" in outputs[0].splitlines()[0]


def test_several_span_classes_on_dask_give_the_scan_without_dask(tmp_path):
    pytest.importorskip("distributed")
    parquet = _multispan_parquet(tmp_path)
    out = tmp_path / "issues.csv"
    runs = []
    for extra in ((), ("--dask", "local:1")):  # one worker: a LocalCluster is slow to start
        done = _scan(parquet, "--labels", "labels", "--probs", "probs", "--task", "span",
                     "--out", out, *extra)  # fmt: skip
        assert done.returncode == 0, done.stderr
        assert done.stderr == ""
        runs.append((done.stdout, out.read_text()))
    assert runs[0] == runs[1]
    header, *rows = runs[1][1].splitlines()
    assert "span_class" in header.split(",") and rows
    assert runs[1][0] == f"Wrote {len(rows)} of {len(rows)} label issues to {out}\n"


def test_spans_on_dask_is_refused_with_one_line(tmp_path):
    # entities need whole sentences: --spans reads the data whole, never silently off Dask
    parquet = _multispan_parquet(tmp_path)
    done = _scan(parquet, "--labels", "labels", "--probs", "probs", "--task", "span", "--spans",
                 "--dask", "local:1", "--out", tmp_path / "spans.csv")  # fmt: skip
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.splitlines() == [
        "spanfast scan: error: --spans reads the data whole, not on Dask; run without --dask "
        "(see 'spanfast scan --help')"
    ]
    assert not (tmp_path / "spans.csv").exists()


@pytest.mark.parametrize(
    "option",
    [
        ("--batch-size", "7"),
        ("--low-memory",),
        ("--ties", "numpy"),
        ("--rank-by", "normalized_margin"),
        ("--id", "doc"),
        ("--temperature", "0.5"),
    ],  # fmt: skip
)
def test_spans_refuses_the_token_options_it_would_ignore(tmp_path, option):
    # --spans reads the data whole and ranks entities: a token-level option given with
    # it was silently ignored; now it is a usage error of one line, and nothing is written
    parquet = _multispan_parquet(tmp_path)
    done = _scan(parquet, "--labels", "labels", "--probs", "probs", "--task", "span", "--spans",
                 *option, "--out", tmp_path / "spans.csv")  # fmt: skip
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.splitlines() == [
        f"spanfast scan: error: --spans does not use {option[0]}; run without it "
        "(see 'spanfast scan --help')"
    ]
    assert not (tmp_path / "spans.csv").exists()


def test_spans_reads_the_format_given(tmp_path):
    # --format was not passed on by --spans: a Parquet file without the extension failed
    parquet = _multispan_parquet(tmp_path)
    renamed = parquet.rename(tmp_path / "multi.data")
    out = tmp_path / "spans.csv"
    done = _scan(renamed, "--format", "parquet", "--labels", "labels", "--probs", "probs",
                 "--task", "span", "--spans", "--out", out)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert out.read_text().splitlines()[0].startswith("sentence")
