"""The conventions users expect of a command line: version, help, exit statuses, pipes, colour."""

from __future__ import annotations

import csv
import importlib.metadata
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from _pty import run_on_a_terminal
from strategies import run_spanfast

import spanfast.cli
from spanfast.cli import main
from spanfast.cli.options import use_color
from spanfast.errors import InvalidInputError
from spanfast.results import find_issues
from spanfast.token_classification.utils import _marked_sentence

PACKAGE_PARENT = Path(spanfast.cli.__file__).resolve().parents[2]


def _env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PACKAGE_PARENT), env.get("PYTHONPATH")]))
    env.update(extra)
    return env


def _noisy_span_data(n_sentences: int, seed: int = 3):
    rng = np.random.default_rng(seed)
    labels, probs = [], []
    for length in rng.integers(1, 8, n_sentences).tolist():
        true = rng.random(length) < 0.4
        p = np.where(true, 0.7 + 0.3 * rng.random(length), 0.3 * rng.random(length))
        given = np.where(rng.random(length) < 0.15, ~true, true)
        labels.append(given.astype(int).tolist())
        probs.append(p.round(4).tolist())
    return labels, probs


def _write_jsonl(path: Path, labels, probs) -> Path:
    path.write_text("".join(json.dumps({"tags": t, "p": p}) + "\n" for t, p in zip(labels, probs)))
    return path


SCAN = ["--labels", "tags", "--probs", "p"]


# -- version, help, usage errors -------------------------------------------------------------


def test_version_from_package_metadata():
    result = run_spanfast("--version", cwd=None)
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"spanfast {importlib.metadata.version('spanfast')}\n"


@pytest.mark.parametrize("argv", [[], ["--help"]])
def test_bare_invocation_prints_help_and_exits_0(argv):
    result = run_spanfast(*argv, cwd=None)
    assert result.returncode == 0
    assert result.stdout.startswith("usage: spanfast")
    assert "scan" in result.stdout and "demo" in result.stdout
    assert result.stderr == ""


@pytest.mark.parametrize(
    ("argv", "command"),
    [
        (["scan"], "spanfast scan"),
        (["scan", "x.parquet", "--labels", "t", "--probs", "p", "--top", "x"], "spanfast scan"),
        (["scan", "x.parquet", "--labels", "t", "--probs", "p", "--out-format", "csv"], "spanfast scan"),
        (["demo", "--colour"], "spanfast demo"),
        (["no-such-command"], "spanfast"),
    ],
)  # fmt: skip
def test_usage_error_points_at_the_commands_help(argv, command, capsys):
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    [line] = captured.err.splitlines()
    assert line.startswith(f"{command}: error: ")
    assert line.endswith(f"(see '{command} --help')")


def test_usage_errors_load_no_numba_and_no_readers():
    # `import spanfast` is lazy (PEP 562): --help and usage errors must not pay for
    # Numba, pyarrow, pandas, the streaming runner or the file readers.
    code = (
        "import sys; before = set(sys.modules); from spanfast.cli import main; "
        "assert main(['scan', 'x.parquet', '--labels', 't']) == 2; "
        "assert main(['demo', '--top', 'x']) == 2; "
        "print(sorted(m for m in set(sys.modules) - before if m.split('.')[0] in "
        "('pyarrow', 'pandas', 'numba') or m in ('spanfast.streaming', 'spanfast.io')))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=_env(), timeout=600
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


# -- --out -, --fail-on-issues -----------------------------------------------------------------


def _expected_rows(labels, probs):
    issues = find_issues(labels, [np.asarray(p) for p in probs])
    return {name: values.tolist() for name, values in issues.to_dict().items()}


def test_out_dash_writes_json_lines_to_stdout(tmp_path):
    labels, probs = _noisy_span_data(60)
    source = _write_jsonl(tmp_path / "data.jsonl", labels, probs)
    result = run_spanfast("scan", str(source), *SCAN, "--out", "-", cwd=None)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    expected = _expected_rows(labels, probs)
    assert len(rows) == len(expected["sentence"]) > 3
    assert [row["sentence"] for row in rows] == expected["sentence"]
    assert [row["token"] for row in rows] == expected["token"]
    assert [row["score"] for row in rows] == expected["score"]
    assert list(tmp_path.iterdir()) == [source]


def test_out_dash_as_csv_with_top(tmp_path, capsys):
    labels, probs = _noisy_span_data(60)
    source = _write_jsonl(tmp_path / "data.jsonl", labels, probs)
    assert (
        main(["scan", str(source), *SCAN, "--out", "-", "--out-format", "csv", "--top", "3"]) == 0
    )
    captured = capsys.readouterr()
    rows = list(csv.DictReader(io.StringIO(captured.out)))
    expected = _expected_rows(labels, probs)
    assert [int(row["sentence"]) for row in rows] == expected["sentence"][:3]
    assert [int(row["token"]) for row in rows] == expected["token"][:3]


def test_out_dash_refuses_parquet(tmp_path, capsys):
    source = _write_jsonl(tmp_path / "data.jsonl", *_noisy_span_data(5))
    assert main(["scan", str(source), *SCAN, "--out", "-", "--out-format", "parquet"]) == 2
    [line] = capsys.readouterr().err.splitlines()
    assert line.startswith("spanfast scan: -: Parquet is not written to stdout")


def test_fail_on_issues_exits_1_only_when_issues_are_found(tmp_path, capsys):
    noisy = _write_jsonl(tmp_path / "noisy.jsonl", *_noisy_span_data(60))
    clean = _write_jsonl(
        tmp_path / "clean.jsonl", [[0, 1], [1, 0]] * 10, [[0.1, 0.9], [0.8, 0.2]] * 10
    )
    assert main(["scan", str(noisy), *SCAN, "--fail-on-issues"]) == 1
    assert "label issues found" in capsys.readouterr().out
    assert main(["scan", str(noisy), *SCAN]) == 0
    capsys.readouterr()
    out = tmp_path / "issues.csv"
    assert main(["scan", str(noisy), *SCAN, "--fail-on-issues", "--out", str(out)]) == 1
    assert out.read_text().startswith("sentence,token,score")  # written all the same
    capsys.readouterr()
    assert main(["scan", str(clean), *SCAN, "--fail-on-issues"]) == 0
    assert capsys.readouterr().out.splitlines()[0] == "0 label issues found."
    assert "--fail-on-issues" in run_spanfast("scan", "--help", cwd=None).stdout


# -- a closed pipe --------------------------------------------------------------------------------


def test_closed_pipe_ends_quietly_with_141(tmp_path):
    # Several hundred KB of JSON Lines: far more than a pipe holds, so writing must hit EPIPE.
    labels, probs = _noisy_span_data(30_000)
    source = _write_jsonl(tmp_path / "data.jsonl", labels, probs)
    process = subprocess.Popen(
        [sys.executable, "-m", "spanfast", "scan", str(source), *SCAN, "--out", "-"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=_env(),
    )
    first = process.stdout.readline()  # like `| head -1`
    process.stdout.close()
    stderr = process.stderr.read().decode()
    process.wait(timeout=600)
    assert json.loads(first)["sentence"] >= 0
    assert stderr == ""
    assert process.returncode == 141


# -- errors located by attributes -----------------------------------------------------------


def _directory_of_two_files(tmp_path: Path) -> Path:
    directory = tmp_path / "data"
    directory.mkdir()
    table = pa.table({"tags": [[0, 1]] * 4, "p": [[0.2, 0.9]] * 4, "words": [["a", "b"]] * 4})
    pq.write_table(table, directory / "part-0.parquet")
    pq.write_table(table, directory / "part-1.parquet")
    return directory


def test_error_location_comes_from_attributes_not_the_message(tmp_path, capsys, monkeypatch):
    directory = _directory_of_two_files(tmp_path)

    def fail(*args, **kwargs):
        # The message names another sentence and field: the attributes must win.
        raise InvalidInputError("labels: sentence 0 is wrong", field="tokens", sentence=5)

    monkeypatch.setattr(spanfast.cli.scan, "_find_in_parquet", fail)
    argv = ["scan", str(directory), *SCAN, "--tokens", "words"]
    assert main(argv) == 2
    [line] = capsys.readouterr().err.splitlines()
    assert line == (
        f"spanfast scan: {directory / 'part-1.parquet'}: column 'words', row 1: "
        "labels: sentence 0 is wrong"
    )


def test_error_file_and_row_attributes_are_used_as_they_are(tmp_path, capsys, monkeypatch):
    directory = _directory_of_two_files(tmp_path)

    def fail(*args, **kwargs):
        raise InvalidInputError("bad", field="pred_probs", file="elsewhere.parquet", row=7)

    monkeypatch.setattr(spanfast.cli.scan, "_find_in_parquet", fail)
    assert main(["scan", str(directory), *SCAN]) == 2
    [line] = capsys.readouterr().err.splitlines()
    assert line == "spanfast scan: elsewhere.parquet: column 'p', row 7: bad"


def test_error_file_and_row_attributes_count_the_sentence_over_all_files(
    tmp_path, capsys, monkeypatch
):
    directory = _directory_of_two_files(tmp_path)

    def fail(*args, **kwargs):
        # Placed in a file by spanfast (the row counts would say part-1.parquet, row 1):
        # the line names that file and row, and says the sentence counts over all files.
        raise InvalidInputError(
            "labels: sentence 5 is null",
            field="labels",
            sentence=5,
            file=str(directory / "part-0.parquet"),
            row=3,
        )

    monkeypatch.setattr(spanfast.cli.scan, "_find_in_parquet", fail)
    assert main(["scan", str(directory), *SCAN]) == 2
    [line] = capsys.readouterr().err.splitlines()
    assert line == (
        f"spanfast scan: {directory / 'part-0.parquet'}: column 'tags', row 3: "
        "labels: sentence 5 of all 2 files is null"
    )


# -- colour -------------------------------------------------------------------------------------


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(
    ("no_color_flag", "no_color_env", "stream", "expected"),
    [
        (False, None, _Terminal(), True),
        (True, None, _Terminal(), False),
        (False, "1", _Terminal(), False),
        (False, "", _Terminal(), True),  # no-color.org: set and non-empty
        (False, None, io.StringIO(), False),  # not a terminal
    ],
)
def test_colour_rule(monkeypatch, no_color_flag, no_color_env, stream, expected):
    monkeypatch.delenv("NO_COLOR", raising=False)
    if no_color_env is not None:
        monkeypatch.setenv("NO_COLOR", no_color_env)
    assert use_color(no_color_flag, stream) is expected


def test_marked_sentence_marks_the_flagged_position_only():
    words = ["the", "cat", "saw", "the", "dog", "."]
    assert _marked_sentence(words, 3) == "the cat saw [[the]] dog."
    assert _marked_sentence(words, 0) == "[[the]] cat saw the dog."
    assert _marked_sentence(words, 5) == "the cat saw the dog[[.]]"


def _demo_on_a_terminal(**env: str) -> str:
    """The demo's stdout when stdout is a terminal (a pseudo-terminal)."""
    done = run_on_a_terminal(
        [sys.executable, "-m", "spanfast", "demo", "--top", "2"],
        terminal="stdout",
        env=_env(**env),
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.mark.skipif(sys.platform == "win32", reason="needs a pseudo-terminal")
def test_demo_colours_on_a_terminal_unless_no_color():
    coloured = _demo_on_a_terminal()
    assert "\x1b[31m" in coloured and "[[" not in coloured
    plain = _demo_on_a_terminal(NO_COLOR="1")
    assert "\x1b[31m" not in plain  # (some terminals' setup writes a reset, \x1b[0m, anyway)
    assert plain.count("[[") == 2


def test_one_error_line_even_when_no_kernel_cache_can_be_written(tmp_path):
    # A path under a regular file can be created by nobody, root included.
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    source = _write_jsonl(tmp_path / "bad.jsonl", [[0, 1], [1, 0]], [[0.2, 0.9], [0.8, 1.5]])
    result = subprocess.run(
        [sys.executable, "-m", "spanfast", "scan", str(source), *SCAN],
        capture_output=True,
        text=True,
        timeout=600,
        env=_env(NUMBA_CACHE_DIR=str(blocker / "numba"), XDG_CACHE_HOME=str(blocker / "xdg")),
    )
    assert result.returncode == 2
    [line] = result.stderr.splitlines()
    assert line.startswith("spanfast scan: ") and "1.5" in line


def test_a_warning_of_several_lines_is_one_line(tmp_path, capsys, monkeypatch):
    # distributed's warnings span several lines ("Port 8787 is already in use.\nPerhaps
    # you already have a cluster running?\n..."); like errors, a command prints one line
    source = _write_jsonl(tmp_path / "data.jsonl", *_noisy_span_data(60))
    input_files = spanfast.cli.readers.input_files

    def warning_input_files(*args, **kwargs):
        import warnings

        message = "Port 8787 is already in use.\n  Perhaps a cluster runs?\n"
        warnings.warn(message, UserWarning, stacklevel=1)  # shown once: one place
        return input_files(*args, **kwargs)

    monkeypatch.setattr(spanfast.cli.readers, "input_files", warning_input_files)
    assert main(["scan", str(source), *SCAN, "--out", str(tmp_path / "issues.csv")]) == 0
    assert capsys.readouterr().err.splitlines() == [
        "spanfast scan: warning: Port 8787 is already in use.; Perhaps a cluster runs?"
    ]
