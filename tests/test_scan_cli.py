"""Tests of ``spanfast scan``: every input format x output format, and bad input."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from strategies import run_spanfast

import spanfast.cli.progress
import spanfast.cli.scan
import spanfast.cli.writers
from spanfast import options
from spanfast.cli import main
from spanfast.results import find_issues


def _span_data(n_sentences: int = 40, seed: int = 1):
    """Span labels, probabilities and tokens; about one label in ten flipped."""
    rng = np.random.default_rng(seed)
    labels, probs, tokens = [], [], []
    for i, length in enumerate(rng.integers(0, 7, n_sentences).tolist()):
        true = rng.random(length) < 0.3
        p = np.where(true, 0.6 + 0.4 * rng.random(length), 0.4 * rng.random(length))
        given = np.where(rng.random(length) < 0.1, ~true, true)
        labels.append(given.astype(int).tolist())
        probs.append(p.round(4).tolist())
        tokens.append([f"w{i}.{j}" for j in range(length)])
    return labels, probs, tokens


def _token_data(n_sentences: int = 40, n_classes: int = 3, seed: int = 2):
    """Labels and K class probabilities per token; about one label in eight flipped."""
    rng = np.random.default_rng(seed)
    labels, probs, tokens = [], [], []
    for i, length in enumerate(rng.integers(1, 6, n_sentences).tolist()):
        true = rng.integers(0, n_classes, length)
        rows = rng.dirichlet(np.ones(n_classes), length) * 0.4
        rows[np.arange(length), true] += 0.6
        given = np.where(rng.random(length) < 0.125, (true + 1) % n_classes, true)
        labels.append(given.tolist())
        probs.append(rows.round(5).tolist())
        tokens.append([f"t{i}.{j}" for j in range(length)])
    return labels, probs, tokens


DATA = {"span": _span_data(), "token": _token_data()}


# -- writing inputs ----------------------------------------------------------------------


def _table(labels, probs, tokens) -> pa.Table:
    return pa.table({"tags": labels, "p": probs, "words": tokens})


def _write_parquet(path: Path, labels, probs, tokens) -> Path:
    path = path.with_suffix(".parquet")
    pq.write_table(_table(labels, probs, tokens), path, row_group_size=16)
    return path


def _write_parquet_directory(path: Path, labels, probs, tokens) -> Path:
    path.mkdir()
    # Names sort in reading order; "b" holds the first rows, so the order is by name.
    cut = len(labels) // 3
    pq.write_table(_table(labels[:cut], probs[:cut], tokens[:cut]), path / "a-000.parquet")
    pq.write_table(_table(labels[cut:], probs[cut:], tokens[cut:]), path / "a-001.parquet")
    (path / "notes.txt").write_text("not data")
    return path


def _write_jsonl(path: Path, labels, probs, tokens) -> Path:
    path = path.with_suffix(".jsonl")
    with open(path, "w") as stream:
        for row in zip(labels, probs, tokens):
            stream.write(json.dumps(dict(zip(("tags", "p", "words"), row))) + "\n")
    return path


def _flat_with_offsets(column: str, sentences, dtype) -> dict[str, np.ndarray]:
    lengths = [len(s) for s in sentences]
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    nonempty = [np.asarray(s, dtype) for s in sentences if len(s)]
    return {column: np.concatenate(nonempty), f"{column}_offsets": offsets}


def _write_npz_offsets(path: Path, labels, probs, tokens) -> Path:
    path = path.with_suffix(".npz")
    np.savez(
        path,
        **_flat_with_offsets("tags", labels, np.int64),
        **_flat_with_offsets("p", probs, np.float64),
        **_flat_with_offsets("words", tokens, str),
    )
    return path


def _object_array(sentences) -> np.ndarray:
    array = np.empty(len(sentences), dtype=object)
    array[:] = [np.asarray(s) for s in sentences]
    return array


def _write_npz_objects(path: Path, labels, probs, tokens) -> Path:
    path = path.with_suffix(".npz")
    np.savez(path, tags=_object_array(labels), p=_object_array(probs), words=_object_array(tokens))
    return path


INPUTS = {
    "parquet": _write_parquet,
    "parquet-directory": _write_parquet_directory,
    "jsonl": _write_jsonl,
    "npz-offsets": _write_npz_offsets,
    "npz-objects": _write_npz_objects,
}


# -- reading outputs ---------------------------------------------------------------------


def _read_output(path: Path) -> dict[str, list]:
    if path.suffix == ".parquet":
        return pq.read_table(path).to_pydict()
    if path.suffix == ".csv":
        with open(path, newline="") as stream:
            rows = list(csv.DictReader(stream))
        columns = {name: [row[name] for row in rows] for name in (rows[0] if rows else {})}
        for name in ("sentence", "token", "given_label", "predicted_label"):
            columns[name] = [int(value) for value in columns.get(name, [])]
        columns["score"] = [float(value) for value in columns.get("score", [])]
        return columns
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    return {name: [row[name] for row in rows] for name in (rows[0] if rows else {})}


def _expected(labels, probs, tokens, **options) -> dict[str, list]:
    issues = find_issues(labels, [np.asarray(p) for p in probs], **options)
    columns = {name: values.tolist() for name, values in issues.to_dict().items()}
    columns["token_text"] = [tokens[i][j] for i, j in issues.to_tuples()]
    return columns


def _scan(path: Path, *extra: str, tokens: bool = True) -> int:
    argv = ["scan", str(path), "--labels", "tags", "--probs", "p"]
    if tokens:
        argv += ["--tokens", "words"]
    if path.suffix == ".npz" and "objects" in path.name:
        argv.append("--allow-pickle")
    return main(argv + list(extra))


@pytest.mark.parametrize("task", ["span", "token"])
@pytest.mark.parametrize("output", [".parquet", ".csv", ".jsonl"])
@pytest.mark.parametrize("input_kind", INPUTS)
def test_round_trip(tmp_path, capsys, task, input_kind, output):
    labels, probs, tokens = DATA[task]
    source = INPUTS[input_kind](tmp_path / f"data-{input_kind}", labels, probs, tokens)
    out = tmp_path / f"issues{output}"

    assert _scan(source, "--out", str(out)) == 0
    captured = capsys.readouterr()
    assert captured.err == ""  # no progress bar when stderr is not a terminal
    written = _read_output(out)
    expected = _expected(labels, probs, tokens)
    assert len(expected["sentence"]) > 2
    assert f"Wrote {len(expected['sentence'])} of {len(expected['sentence'])}" in captured.out
    # A directory's rows also say where they were read from (issue 16).
    from_files = ["file", "row_in_file"] if input_kind == "parquet-directory" else []
    assert list(written) == list(expected) + from_files
    for name in ("sentence", "token", "given_label", "predicted_label", "token_text"):
        assert written[name] == expected[name], name
    np.testing.assert_array_equal(written["score"], expected["score"])
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


@pytest.mark.parametrize("output", [".parquet", ".csv", ".jsonl"])
def test_options_reach_the_algorithm_and_top_limits_the_rows(tmp_path, output):
    labels, probs, tokens = DATA["token"]
    source = _write_parquet(tmp_path / "data", labels, probs, tokens)
    out = tmp_path / f"issues{output}"
    options = ["--filter-by", "confident_learning", "--rank-by", "normalized_margin"]
    assert _scan(source, "--out", str(out), *options, "--top", "3", tokens=False) == 0
    written = _read_output(out)
    expected = _expected(
        labels,
        probs,
        tokens,
        filter_by="confident_learning",
        return_indices_ranked_by="normalized_margin",
    )
    assert "token_text" not in written
    assert written["sentence"] == expected["sentence"][:3]
    assert written["token"] == expected["token"][:3]
    np.testing.assert_array_equal(written["score"], expected["score"][:3])


@pytest.mark.parametrize("input_kind", ["parquet", "jsonl", "npz-offsets"])
def test_printed_issues_with_tokens(tmp_path, capsys, input_kind):
    labels, probs, tokens = DATA["span"]
    source = INPUTS[input_kind](tmp_path / "data", labels, probs, tokens)
    assert _scan(source, "--top", "2", "--no-color") == 0
    out = capsys.readouterr().out
    expected = _expected(labels, probs, tokens)
    n_issues = len(expected["sentence"])
    assert out.startswith(f"{n_issues} label issues found; top 2")
    assert out.count("Token index:") == 2
    for rank in range(2):
        i, j = expected["sentence"][rank], expected["token"][rank]
        assert f"Sentence index: {i}, Token index: {j}\nToken: {tokens[i][j]}" in out
        marked = [f"[[{word}]]" if n == j else word for n, word in enumerate(tokens[i])]
        assert "\n" + " ".join(marked) + "\n" in out  # the flagged token, by position
    assert out.count("[[") == 2
    assert "\x1b[" not in out


def test_printed_issues_without_tokens_is_a_table(tmp_path, capsys):
    labels, probs, tokens = DATA["token"]
    source = _write_jsonl(tmp_path / "data", labels, probs, tokens)
    assert _scan(source, tokens=False) == 0
    lines = capsys.readouterr().out.splitlines()
    expected = _expected(labels, probs, tokens)
    shown = min(20, len(expected["sentence"]))
    assert lines[2].split() == [
        "rank",
        "sentence",
        "token",
        "score",
        "given_label",
        "predicted_label",
    ]
    rows = [line.split() for line in lines[3:]]
    assert len(rows) == shown
    for rank, row in enumerate(rows):
        assert int(row[1]) == expected["sentence"][rank]
        assert int(row[2]) == expected["token"][rank]
        assert float(row[3]) == pytest.approx(expected["score"][rank], rel=1e-5)


def test_top_zero_prints_only_the_count(tmp_path, capsys):
    labels, probs, tokens = DATA["span"]
    source = _write_parquet(tmp_path / "data", labels, probs, tokens)
    assert _scan(source, "--top", "0") == 0
    assert capsys.readouterr().out.strip().endswith("label issues found.")


# -- bad input ---------------------------------------------------------------------------

LABELS = [[0, 1], [1, 0, 1], [0], [1, 1]]
PROBS = [[0.1, 0.9], [0.8, 0.2, 0.7], [0.3], [0.6, 0.9]]
WORDS = [["a", "b"], ["c", "d", "e"], ["f"], ["g", "h"]]


def _replace_row(rows, index, value):
    return [value if n == index else row for n, row in enumerate(rows)]


BAD_DATA = {
    # name: (labels, probs, words, column, row, words in the message)
    "null-row": (LABELS, _replace_row(PROBS, 2, None), WORDS, "p", 2, "is null"),
    "null-token": (LABELS, _replace_row(PROBS, 3, [0.6, None]), WORDS, "p", 3, "is null"),
    "null-label": (_replace_row(LABELS, 1, [1, None, 1]), PROBS, WORDS, "tags", 1, "null"),
    "length-mismatch": (LABELS, _replace_row(PROBS, 2, [0.3, 0.4]), WORDS, "p", 2, "same length"),
    "tokens-mismatch": (LABELS, PROBS, _replace_row(WORDS, 1, ["c"]), "words", 1, "tokens"),
    "ragged-classes": (
        [[0], [1]],
        [[[0.9, 0.1]], [[0.2, 0.7, 0.1]]],
        [["a"], ["b"]],
        "p",
        1,
        "class probabilities",
    ),
    "label-out-of-range": (_replace_row(LABELS, 3, [1, 2]), PROBS, WORDS, "tags", 3, "0 or 1"),
    "probability-above-1": (LABELS, _replace_row(PROBS, 1, [0.8, 1.5, 0.7]), WORDS, "p", 1, "1.5"),
    "wrong-nesting": (
        [[[0, 1]], [[1, 0]]],
        [[0.1], [0.2]],
        [["a"], ["b"]],
        "tags",
        None,
        "integer",
    ),
}


def _assert_one_line_error(capsys, *needles: str) -> str:
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.splitlines()
    assert len(lines) == 1, captured.err
    assert lines[0].startswith("spanfast scan: ")
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])
    return lines[0]


def _assert_no_output(directory: Path) -> None:
    assert not [p.name for p in directory.iterdir() if p.name.startswith(("issues", "."))]


@pytest.mark.parametrize("input_kind", ["parquet", "jsonl"])
@pytest.mark.parametrize("case", BAD_DATA)
def test_bad_rows_exit_2_naming_file_column_and_row(tmp_path, capsys, input_kind, case, request):
    labels, probs, words, column, row, detail = BAD_DATA[case]
    source = INPUTS[input_kind](tmp_path / "data", labels, probs, words)
    assert _scan(source, "--out", str(tmp_path / "issues.csv")) == 2
    needles = [f"{source}: ", f"column {column!r}", detail]
    if row is not None:
        needles.append(f"row {row}:")
    _assert_one_line_error(capsys, *needles)
    _assert_no_output(tmp_path)


@pytest.mark.parametrize("case", ["null-label", "length-mismatch", "label-out-of-range"])
def test_bad_rows_in_npz(tmp_path, capsys, case):
    labels, probs, words, column, row, detail = BAD_DATA[case]
    source = _write_npz_objects(tmp_path / "data-objects", labels, probs, words)
    assert _scan(source, "--out", str(tmp_path / "issues.csv")) == 2
    _assert_one_line_error(capsys, f"{source}: ", f"column {column!r}", f"row {row}:", detail)
    _assert_no_output(tmp_path)


def test_bad_row_in_the_second_file_of_a_directory_is_numbered_within_that_file(tmp_path, capsys):
    source = tmp_path / "data"
    source.mkdir()
    pq.write_table(_table(LABELS, PROBS, WORDS), source / "part-0.parquet")
    bad_probs = _replace_row(PROBS, 1, [0.8, 0.2])
    pq.write_table(_table(LABELS, bad_probs, WORDS), source / "part-1.parquet")
    assert _scan(source, "--out", str(tmp_path / "issues.jsonl")) == 2
    _assert_one_line_error(capsys, f"{source / 'part-1.parquet'}: ", "column 'p', row 1:")
    _assert_no_output(tmp_path)


@pytest.mark.parametrize("input_kind", ["parquet", "parquet-directory", "jsonl", "npz-offsets"])
def test_missing_column(tmp_path, capsys, input_kind):
    source = INPUTS[input_kind](tmp_path / "data", LABELS, PROBS, WORDS)
    argv = ["scan", str(source), "--labels", "tags", "--probs", "probabilities"]
    assert main([*argv, "--out", str(tmp_path / "issues.csv")]) == 2
    line = _assert_one_line_error(capsys, "column 'probabilities'", "no such column", "'tags'")
    assert str(source) in line
    _assert_no_output(tmp_path)


def test_npz_object_arrays_need_allow_pickle(tmp_path, capsys):
    source = _write_npz_objects(tmp_path / "data", LABELS, PROBS, WORDS)
    argv = ["scan", str(source), "--labels", "tags", "--probs", "p"]
    assert main(argv) == 2
    _assert_one_line_error(capsys, f"{source}: column 'tags'", "--allow-pickle", "tags_offsets")


def test_npz_offsets_that_do_not_match(tmp_path, capsys):
    source = tmp_path / "data.npz"
    np.savez(source, tags=np.array([0, 1, 1]), tags_offsets=np.array([0, 2]), p=np.ones((2, 2)))
    assert main(["scan", str(source), "--labels", "tags", "--probs", "p"]) == 2
    _assert_one_line_error(capsys, f"{source}: column 'tags'", "offsets must end at n_tokens")


@pytest.mark.parametrize(
    ("lines", "row", "detail"),
    [
        (['{"tags": [0], "p": [0.1]}', '{"tags": [1], "p": [0.2,]}'], 1, "invalid JSON"),
        (['{"tags": [0], "p": [0.1]}', "[1, 2]"], 1, "expected a JSON object"),
        (['{"tags": [0], "p": [0.1]}', "", '{"tags": [1], "p": [[0.2]]}'], 1, "lists of"),
        (['{"tags": [0], "p": [0.1]}', '{"tags": [1], "p": [0.2, [0.1]]}'], 1, "mixes"),
        (['{"tags": [0], "p": [0.1]}', '{"tags": [1], "p": [NaN]}'], 1, "NaN"),
    ],
)
def test_malformed_json_lines_name_the_row(tmp_path, capsys, lines, row, detail):
    source = tmp_path / "data.jsonl"
    source.write_text("\n".join(lines) + "\n")
    assert main(["scan", str(source), "--labels", "tags", "--probs", "p"]) == 2
    _assert_one_line_error(capsys, f"{source}: ", f"row {row}:", detail)


def test_json_error_row_is_counted_over_the_whole_file(tmp_path, capsys):
    # pyarrow numbers rows within its read block; the message must count from the file start.
    source = tmp_path / "data.jsonl"
    good = json.dumps({"tags": [0, 1, 0], "p": [0.1, 0.9, 0.2], "pad": "x" * 200})
    lines = [good] * 12_000
    lines[9_000] = '{"tags": [0], "p": [[0.1]]}'
    source.write_text("\n".join(lines) + "\n")
    assert main(["scan", str(source), "--labels", "tags", "--probs", "p"]) == 2
    _assert_one_line_error(capsys, "column 'p', row 9000:")


@pytest.mark.parametrize(
    ("name", "detail"),
    [
        ("missing.parquet", "no such file or directory"),
        ("data.txt", "unknown input format '.txt'"),
        ("data", "unknown input format '(no extension)'"),
        ("empty-directory", "holds no .parquet files"),
        ("corrupt.parquet", "cannot read as Parquet"),
        ("corrupt.npz", "cannot read as .npz"),
    ],
)
def test_unreadable_inputs(tmp_path, capsys, name, detail):
    source = tmp_path / name
    if name == "empty-directory":
        source.mkdir()
    elif name != "missing.parquet":
        source.write_text("not data")
    argv = ["scan", str(source), "--labels", "tags", "--probs", "p"]
    assert main([*argv, "--out", str(tmp_path / "issues.parquet")]) == 2
    _assert_one_line_error(capsys, f"{source}: ", detail)
    _assert_no_output(tmp_path)


def test_bad_output_paths(tmp_path, capsys):
    source = _write_parquet(tmp_path / "data", LABELS, PROBS, WORDS)
    argv = ["scan", str(source), "--labels", "tags", "--probs", "p", "--out"]
    assert main([*argv, str(tmp_path / "issues.xlsx")]) == 2
    _assert_one_line_error(capsys, "issues.xlsx", "unknown output format '.xlsx'")
    assert main([*argv, str(tmp_path / "no-such-dir" / "issues.csv")]) == 2
    _assert_one_line_error(capsys, "no-such-dir", "does not exist")
    _assert_no_output(tmp_path)


def test_a_failed_run_keeps_an_existing_output_file(tmp_path, capsys):
    source = _write_jsonl(tmp_path / "data", LABELS, _replace_row(PROBS, 0, None), WORDS)
    out = tmp_path / "issues.csv"
    out.write_text("previous results\n")
    assert _scan(source, "--out", str(out)) == 2
    capsys.readouterr()
    assert out.read_text() == "previous results\n"


def test_a_failed_write_leaves_no_partial_file(tmp_path, capsys, monkeypatch):
    labels, probs, tokens = DATA["span"]
    source = _write_parquet(tmp_path / "data", labels, probs, tokens)

    def fail(*args):
        raise PermissionError(13, "Permission denied", str(args[-1]))

    monkeypatch.setattr(spanfast.cli.writers.os, "replace", fail)
    for output in (".csv", ".jsonl", ".parquet"):
        assert _scan(source, "--out", str(tmp_path / f"issues{output}")) == 2
        _assert_one_line_error(capsys, f"issues{output}", "Permission denied")
    _assert_no_output(tmp_path)


@pytest.mark.parametrize(
    "argv",
    [
        ["scan"],
        ["scan", "data.parquet", "--labels", "tags"],
        ["scan", "data.parquet", "--labels", "t", "--probs", "p", "--filter-by", "magic"],
        ["scan", "data.parquet", "--labels", "t", "--probs", "p", "--rank-by", "magic"],
        ["scan", "data.parquet", "--labels", "t", "--probs", "p", "--top", "-3"],
        ["scan", "data.parquet", "--labels", "t", "--probs", "p", "--batch-size", "0"],
    ],
)
def test_usage_errors_exit_2(argv, capsys):
    assert main(argv) == 2
    _assert_one_line_error_usage = capsys.readouterr()
    lines = _assert_one_line_error_usage.err.strip().splitlines()
    assert len(lines) == 1 and "error" in lines[0]


def test_method_choices_are_the_algorithm_options():
    assert spanfast.cli.scan.FILTER_BY == options.FILTER_BY
    assert spanfast.cli.scan.RANK_BY == options.RANK_BY


def test_progress_line_is_redrawn_in_place():
    stream = io.StringIO()
    progress = spanfast.cli.progress.Progress(stream, total_rows=200)
    progress(1, 2, 100)
    progress(1, 2, 150)  # within 0.1 s of the last redraw: skipped
    progress(2, 2, 200)  # the last one is always drawn
    progress.close()
    assert stream.getvalue() == (
        "\rspanfast scan: pass 1/2  50% (100 of 200 sentences)"
        "\rspanfast scan: pass 2/2 100% (200 of 200 sentences)\n"
    )


def test_shell_exit_status_and_no_traceback(tmp_path):
    source = _write_jsonl(tmp_path / "data", LABELS, _replace_row(PROBS, 2, [0.3, None]), WORDS)
    result = run_spanfast("scan", str(source), "--labels", "tags", "--probs", "p", cwd=None)
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        f"spanfast scan: {source}: column 'p', row 2: p[2][1] is null (sentence 2, token 1)."
    ]


def test_unpaired_surrogate_in_a_jsonl_token_names_its_row(tmp_path, capsys):
    source = _write_jsonl(
        tmp_path / "data", LABELS, PROBS, _replace_row(WORDS, 2, ["\ud800"] * len(WORDS[2]))
    )
    assert "\\ud800" in source.read_text()  # json.dumps escapes it; pyarrow refuses the escape
    assert _scan(source) == 2
    _assert_one_line_error(capsys, "column 'words', row 2", "not valid Unicode")


def test_a_directory_mixing_span_and_token_files_names_the_file(tmp_path, capsys):
    directory = tmp_path / "data"
    directory.mkdir()
    labels, probs, tokens = DATA["span"]
    _write_parquet(directory / "a", labels, probs, tokens)
    token_labels, token_probs, token_words = DATA["token"]
    _write_parquet(directory / "b", token_labels, token_probs, token_words)
    assert _scan(directory) == 2
    _assert_one_line_error(capsys, "b.parquet", "")


def test_a_damaged_parquet_file_in_a_directory_is_named(tmp_path, capsys):
    directory = tmp_path / "data"
    directory.mkdir()
    labels, probs, tokens = DATA["span"]
    _write_parquet(directory / "a", labels, probs, tokens)
    damaged = _write_parquet(directory / "b", labels * 50, probs * 50, tokens * 50)
    raw = bytearray(damaged.read_bytes())
    raw[60:120] = bytes(b ^ 0xFF for b in raw[60:120])  # the first data page's header
    damaged.write_bytes(bytes(raw))
    assert _scan(directory) == 2
    line = _assert_one_line_error(capsys, "b.parquet: cannot read as Parquet")
    assert line.count("b.parquet") == 1
