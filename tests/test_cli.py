"""Tests of the ``spanfast`` command line and of the bundled example dataset."""

from __future__ import annotations

import os
import subprocess
import sys
from importlib import resources
from pathlib import Path

import numpy as np
import pytest

import spanfast.data
from spanfast.cli import main
from spanfast.data import load_example

# The directory that holds the `spanfast` package under test, so that subprocesses
# import the same copy (installed or not).
PACKAGE_PARENT = Path(spanfast.data.__file__).resolve().parents[2]


def _run_python(*args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PACKAGE_PARENT), env.get("PYTHONPATH")]))
    return subprocess.run(
        [sys.executable, *args], capture_output=True, text=True, env=env, timeout=600
    )


def test_demo_shows_issues_and_correct_recall(capsys: pytest.CaptureFixture[str]) -> None:
    from spanfast.span_classification import find_label_issues

    assert main(["demo", "--top", "3", "--no-color"]) == 0
    out = capsys.readouterr().out

    example = load_example()
    issues = find_label_issues(example.labels, example.pred_probs)
    planted = example.planted
    n_found = sum(1 for i, j in issues if (int(i), int(j)) in planted)
    assert 0 < n_found <= len(planted)
    assert f"find_label_issues flagged {len(issues)} tokens" in out
    assert f"{n_found} of {len(planted)} (recall {100 * n_found / len(planted):.1f}%)" in out
    assert f"{n_found} of {len(issues)} (precision {100 * n_found / len(issues):.1f}%)" in out
    assert "wall time" in out
    assert out.count("Token index:") == 3
    i, j = issues[0]
    assert f"Sentence index: {i}, Token index: {j}" in out
    assert "\x1b[" not in out
    # Without colour the flagged token is marked, at its position only.
    from spanfast.token_classification.utils import _marked_sentence

    assert out.count("[[") == 3
    assert "\n" + _marked_sentence(example.tokens[i], int(j)) + "\n" in out


def test_demo_top_zero_shows_no_issue(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--top", "0"]) == 0
    out = capsys.readouterr().out
    assert "recall" in out
    assert "Token index:" not in out


def test_python_dash_m_spanfast_demo_exits_0() -> None:
    result = _run_python("-m", "spanfast", "demo", "--top", "2", "--no-color")
    assert result.returncode == 0, result.stderr
    assert "recall" in result.stdout
    assert result.stdout.count("Token index:") == 2


@pytest.mark.parametrize(
    "argv",
    [
        ["no-such-command"],
        ["demo", "--top", "many"],
        ["demo", "--top", "-1"],
        ["demo", "--no-such-option"],
    ],
)
def test_usage_error_exits_2_with_one_line(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("spanfast")
    assert "error" in lines[0]


def test_usage_error_exit_status_from_the_shell() -> None:
    result = _run_python("-m", "spanfast", "no-such-command")
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1


def test_help_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    assert "demo" in capsys.readouterr().out


def test_load_example_shapes_are_consistent() -> None:
    example = load_example()
    n_sentences = example.n_sentences
    assert 300 <= n_sentences <= 500
    assert len(example.tokens) == len(example.labels) == len(example.pred_probs) == n_sentences

    offsets = example.offsets
    assert offsets.dtype == np.int64
    assert offsets.shape == (n_sentences + 1,)
    assert offsets[0] == 0
    assert np.all(np.diff(offsets) > 0)
    assert offsets[-1] == example.n_tokens

    for i in range(n_sentences):
        length = offsets[i + 1] - offsets[i]
        assert len(example.tokens[i]) == length
        assert example.labels[i].shape == (length,)
        assert example.pred_probs[i].shape == (length,)
        assert example.pred_probs[i].dtype == np.float32
        assert example.tokens[i] == example.flat_tokens[offsets[i] : offsets[i + 1]].tolist()

    n_tokens = example.n_tokens
    for flat in (example.flat_tokens, example.flat_labels, example.flat_probs):
        assert flat.shape == (n_tokens,)
    assert example.flat_planted.shape == (n_tokens,)
    assert all(isinstance(token, str) and token for token in example.flat_tokens.tolist())
    assert set(np.unique(example.flat_labels).tolist()) == {0, 1}
    assert np.all((example.flat_probs > 0) & (example.flat_probs < 1))

    flat_index = [offsets[i] + j for i, j in example.planted]
    assert flat_index == np.flatnonzero(example.flat_planted).tolist()
    assert 0.03 <= len(example.planted) / n_tokens <= 0.05
    for i, j in example.planted:
        assert 0 <= j < len(example.tokens[i])


def test_regenerating_example_gives_identical_file(tmp_path: Path) -> None:
    # A subprocess, so that a dependence on the str hash seed would show up too.
    result = _run_python("-m", "spanfast.data._make_example", str(tmp_path))
    assert result.returncode == 0, result.stderr
    bundled = resources.files("spanfast.data").joinpath("example_spans.npz").read_bytes()
    assert (tmp_path / "example_spans.npz").read_bytes() == bundled
