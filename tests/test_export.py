"""Exports to annotation tools, and the report/export/--html commands run as a user runs them.

The expected shapes are fixtures written from each tool's documentation:
Label Studio's "Import pre-annotated data" (tasks with ``data``,
``annotations``/``predictions`` of ``labels`` results, ``value`` with character
``start``/``end``, end exclusive), Prodigy's ``ner_manual`` task format
(``tokens`` with ``text``/``start``/``end``/``id``/``ws``, ``spans`` with
``token_start``/``token_end`` inclusive), doccano's sequence labeling JSONL
(``text`` and ``label: [[start, end, LABEL]]``).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from strategies import run_spanfast, write_example_jsonl

from spanfast.data import load_example
from spanfast.export import to_tasks, token_offsets, write_export
from spanfast.report.sentences import flagged_sentences
from spanfast.results import LabelIssues, find_issues

NAMES = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC"]

LABEL_STUDIO_RESULT_KEYS = {"id", "from_name", "to_name", "type", "value"}
PRODIGY_TOKEN_KEYS = {"text", "start", "end", "id", "ws"}
PRODIGY_SPAN_KEYS = {"start", "end", "token_start", "token_end", "label"}


def _example():
    example = load_example()
    return example, find_issues(example.labels, example.pred_probs)


def _bio_data():
    """Token data with BIO tags, multi-byte text and one issue per sentence."""
    tokens = [["Zoë", "Ångström", "visited", "São", "Paulo"], ["<b>", "Kraków", "!"]]
    labels = [np.array([1, 2, 0, 3, 4]), np.array([0, 3, 0])]
    eye = np.eye(5) * 0.9 + 0.02
    pred_probs = [eye[[1, 2, 0, 3, 0]], eye[[0, 3, 0]]]
    issues = LabelIssues(
        sentence=np.array([0, 1]),
        token=np.array([4, 1]),
        score=np.array([0.05, 0.2]),
        given_label=np.array([4, 3]),
        predicted_label=np.array([0, 3]),
        sentence_scores=np.array([0.05, 0.2]),
    )
    return issues, tokens, labels, pred_probs


def test_token_offsets_slice_the_text() -> None:
    text, offsets = token_offsets(["Zoë", "", "Ångström", "."])
    assert text == "Zoë  Ångström ."
    assert [text[a:b] for a, b in offsets] == ["Zoë", "", "Ångström", "."]


@pytest.mark.parametrize("data", ["example", "bio"])
def test_offsets_slice_each_span_to_its_tokens(data: str) -> None:
    if data == "example":
        example, issues = _example()
        tokens, labels, probs, names = example.tokens, example.labels, example.pred_probs, None
    else:
        issues, tokens, labels, probs = _bio_data()
        names = NAMES
    records, _ = flagged_sentences(
        issues, tokens, labels=labels, pred_probs=probs, class_names=names
    )
    studio, prodigy, doccano = (
        to_tasks(issues, tokens, to=to, labels=labels, pred_probs=probs, class_names=names)
        for to in ("label-studio", "prodigy", "doccano")
    )
    assert len(studio) == len(prodigy) == len(doccano) == len(records) > 0
    for record, ls, pg, dc in zip(records, studio, prodigy, doccano):
        text = " ".join(record.tokens)
        assert ls["data"]["text"] == pg["text"] == dc["text"] == text

        def words(start: int, end: int, text: str = text) -> str:
            return text[start:end]

        given = [" ".join(record.tokens[a:b]) for a, b, _ in record.given]
        predicted = [" ".join(record.tokens[a:b]) for a, b, _ in record.predicted]
        ls_given = ls["annotations"][0]["result"]
        ls_pred = ls["predictions"][0]["result"]
        assert [words(r["value"]["start"], r["value"]["end"]) for r in ls_given] == given
        assert [r["value"]["text"] for r in ls_given] == given
        assert [r["value"]["labels"] for r in ls_given] == [[label] for _, _, label in record.given]
        assert [words(r["value"]["start"], r["value"]["end"]) for r in ls_pred] == predicted
        assert [words(s, e) for s, e, _ in dc["label"]] == given
        assert [words(s["start"], s["end"]) for s in pg["spans"]] == given
        assert [(s["token_start"], s["token_end"] + 1) for s in pg["spans"]] == [
            (a, b) for a, b, _ in record.given
        ]
        assert [words(t["start"], t["end"]) for t in pg["tokens"]] == record.tokens
        assert [t["id"] for t in pg["tokens"]] == list(range(len(record.tokens)))
        assert pg["meta"]["sentence"] == ls["meta"]["sentence"] == dc["sentence"] == record.sentence


def test_structure_follows_each_tools_documentation() -> None:
    issues, tokens, labels, probs = _bio_data()
    ls = to_tasks(
        issues, tokens, to="label-studio", labels=labels, pred_probs=probs, class_names=NAMES
    )
    first = ls[0]
    assert set(first) == {"data", "annotations", "predictions", "meta"}
    assert first["predictions"][0]["model_version"] == "spanfast"
    assert first["predictions"][0]["score"] == 0.05
    for result in first["annotations"][0]["result"] + first["predictions"][0]["result"]:
        assert set(result) == LABEL_STUDIO_RESULT_KEYS
        assert (result["from_name"], result["to_name"], result["type"]) == (
            "label",
            "text",
            "labels",
        )
        assert set(result["value"]) == {"start", "end", "text", "labels"}
    # Given: PER "Zoë Ångström" and LOC "São Paulo"; predicted: PER and LOC "São" only.
    given = [(r["value"]["text"], r["value"]["labels"]) for r in first["annotations"][0]["result"]]
    assert given == [("Zoë Ångström", ["PER"]), ("São Paulo", ["LOC"])]
    predicted = [r["value"]["text"] for r in first["predictions"][0]["result"]]
    assert predicted == ["Zoë Ångström", "São"]

    pg = to_tasks(issues, tokens, to="prodigy", labels=labels, pred_probs=probs, class_names=NAMES)[
        0
    ]
    assert all(set(token) == PRODIGY_TOKEN_KEYS for token in pg["tokens"])
    assert [token["ws"] for token in pg["tokens"]] == [True, True, True, True, False]
    assert all(set(span) == PRODIGY_SPAN_KEYS for span in pg["spans"])
    assert pg["spans"][1] == {
        "start": 21,
        "end": 30,
        "token_start": 3,
        "token_end": 4,
        "label": "LOC",
    }
    meta = pg["meta"]
    assert (meta["kind"], meta["score"], meta["given"], meta["predicted"]) == (
        "token label",
        0.05,
        "I-LOC",
        "O",
    )
    assert meta["issues"][0]["text"] == "Paulo"

    dc = to_tasks(issues, tokens, to="doccano", labels=labels, pred_probs=probs, class_names=NAMES)
    assert dc[0]["label"] == [[0, 12, "PER"], [21, 30, "LOC"]]
    assert dc[1] == {"text": "<b> Kraków !", "label": [[4, 10, "LOC"]], "sentence": 1, "score": 0.2}


@pytest.mark.parametrize("to", ["label-studio", "prodigy", "doccano"])
def test_both_json_encoders_write_the_same_values(to: str) -> None:
    """orjson (used when installed) and the standard library parse to the same tasks."""
    pytest.importorskip("orjson")
    from spanfast.export import tasks as module

    example, issues = _example()
    tasks = to_tasks(
        issues, example.tokens, to=to, labels=example.labels, pred_probs=example.pred_probs
    )
    fast, plain = module._encoder(), module._json_line
    assert fast is not plain
    assert [json.loads(fast(t)) for t in tasks] == [json.loads(plain(t)) for t in tasks] == tasks


def test_tasks_are_worst_first() -> None:
    example, issues = _example()
    tasks = to_tasks(
        issues, example.tokens, to="doccano", labels=example.labels, pred_probs=example.pred_probs
    )
    assert [task["sentence"] for task in tasks] == list(dict.fromkeys(issues.sentence.tolist()))


@pytest.mark.parametrize("to", ["label-studio", "prodigy", "doccano"])
def test_written_files_read_back(tmp_path: Path, to: str) -> None:
    issues, tokens, labels, probs = _bio_data()
    expected = to_tasks(issues, tokens, to=to, labels=labels, pred_probs=probs, class_names=NAMES)
    out = tmp_path / f"tasks.{to}"
    count = write_export(
        out, issues, tokens, to=to, labels=labels, pred_probs=probs, class_names=NAMES
    )
    assert count == len(expected) == 2
    text = out.read_text(encoding="utf-8")
    if to == "label-studio":
        assert json.loads(text) == expected
    else:
        assert [json.loads(line) for line in text.splitlines()] == expected
    assert sorted(p.name for p in tmp_path.iterdir()) == [out.name]


def test_a_failed_export_keeps_the_old_file(tmp_path: Path) -> None:
    issues, tokens, labels, probs = _bio_data()
    out = tmp_path / "tasks.jsonl"
    out.write_text("old")
    with pytest.raises(ValueError, match="sentence 1"):
        write_export(out, issues, tokens[:1], to="doccano", labels=labels[:1], pred_probs=probs[:1])
    assert out.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["tasks.jsonl"]


# -- the commands, as subprocesses ----------------------------------------------------------


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_example_jsonl(tmp_path_factory.mktemp("cli") / "data.jsonl")


COLUMNS = ("--labels", "tags", "--probs", "p", "--tokens", "words")


def test_report_and_export_commands(dataset: Path, tmp_path: Path) -> None:
    _, issues = _example()
    n_sentences = len(np.unique(issues.sentence))
    done = run_spanfast("report", str(dataset), *COLUMNS, "--out", "r.html", cwd=tmp_path)
    assert done.returncode == 0 and done.stderr == ""
    assert f"{len(issues)} label issues in {n_sentences} sentences" in done.stdout
    page = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert "spanfast report" in page and str(dataset) in page

    for to in ("label-studio", "prodigy", "doccano"):
        done = run_spanfast(
            "export", str(dataset), *COLUMNS, "--to", to, "--out", f"t.{to}", cwd=tmp_path
        )
        assert done.returncode == 0 and done.stderr == "", done.stderr
        text = (tmp_path / f"t.{to}").read_text(encoding="utf-8")
        tasks = (
            json.loads(text) if to == "label-studio" else [json.loads(x) for x in text.splitlines()]
        )
        assert len(tasks) == n_sentences


def test_report_of_span_issues(dataset: Path, tmp_path: Path) -> None:
    from spanfast import find_span_issues

    example = load_example()
    expected = find_span_issues(example.labels, example.pred_probs)
    done = run_spanfast(
        "report", str(dataset), *COLUMNS, "--spans", "--out", "s.html", cwd=tmp_path
    )
    assert done.returncode == 0 and done.stderr == "", done.stderr
    assert f"{len(expected)} span issues" in done.stdout
    page = (tmp_path / "s.html").read_text(encoding="utf-8")
    assert '<table class="kinds">' in page and "Span issue scores" in page


def test_scan_and_demo_html(dataset: Path, tmp_path: Path) -> None:
    done = run_spanfast(
        "scan", str(dataset), *COLUMNS, "--top", "1", "--html", "s.html", cwd=tmp_path
    )
    assert done.returncode == 0 and done.stderr == ""
    assert "spanfast scan" in (tmp_path / "s.html").read_text(encoding="utf-8")
    done = run_spanfast("demo", "--top", "0", "--html", "d.html", cwd=tmp_path)
    assert done.returncode == 0 and done.stderr == ""
    assert "Wrote the HTML report to d.html" in done.stdout
    assert "spanfast demo" in (tmp_path / "d.html").read_text(encoding="utf-8")


def test_commands_refuse_to_overwrite_the_input(dataset: Path, tmp_path: Path) -> None:
    link = tmp_path / "link.html"
    link.symlink_to(dataset)
    before = dataset.read_bytes()
    for args in (
        ("report", str(dataset), *COLUMNS, "--out", str(link)),
        ("scan", str(dataset), *COLUMNS, "--html", str(link)),
        ("export", str(dataset), *COLUMNS, "--to", "doccano", "--out", str(dataset)),
    ):
        done = run_spanfast(*args, cwd=tmp_path)
        assert done.returncode == 2
        assert "refusing to overwrite the input" in done.stderr
        assert len(done.stderr.strip().splitlines()) == 1
    assert dataset.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link.html"]


def test_command_errors_are_one_line(dataset: Path, tmp_path: Path) -> None:
    done = run_spanfast(
        "export",
        str(dataset),
        "--labels",
        "tags",
        "--probs",
        "p",
        "--to",
        "doccano",
        "--out",
        "x.jsonl",
        cwd=tmp_path,
    )
    assert done.returncode == 2 and "--tokens" in done.stderr
    done = run_spanfast("report", str(dataset), *COLUMNS, "--out", "x.txt", cwd=tmp_path)
    assert done.returncode == 2 and "expected a .html file" in done.stderr
    done = run_spanfast(
        "report", str(dataset), "--labels", "nope", "--probs", "p", "--out", "x.html", cwd=tmp_path
    )
    assert done.returncode == 2 and "no such column" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "x.html").exists() and not (tmp_path / "x.jsonl").exists()
