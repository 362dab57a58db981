"""The way back: what annotation tools export after review, applied to the original data.

The fixtures under tests/fixtures/apply/ are what each tool exports after a
review of three sentences (data.jsonl), written from each tool's documented
export: Label Studio's JSON export (tasks with ``annotations[].result[]`` of
``labels`` regions, ``was_cancelled``, ``created_at``/``updated_at``, the
task's ``meta``), Prodigy's ``db-out`` JSONL (``answer`` accept/reject/ignore,
``tokens``, ``spans`` with ``token_start``/``token_end``, ``_input_hash``...)
and doccano's sequence-labeling JSONL export (``text``, ``label:
[[start, end, LABEL]]``, extra keys kept). In all three the reviewer added
LOC "Kraków" in sentence 1 (after an emoji: offsets in code points) and
relabeled "Paris" from PER to LOC in sentence 2; sentence 0 is unchanged.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from strategies import run_spanfast, write_example_jsonl

from spanfast.data import load_example
from spanfast.errors import InvalidInputError
from spanfast.export import apply_corrections, apply_to_labels, read_reviewed, to_tasks
from spanfast.export.tasks import write_tasks
from spanfast.results import LabelIssues, find_issues

FIXTURES = Path(__file__).parent / "fixtures" / "apply"
NAMES = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC"]
EXPORTS = {
    "label-studio": "label_studio_export.json",
    "prodigy": "prodigy_db_out.jsonl",
    "doccano": "doccano_export.jsonl",
}
EXPECTED_TAGS = [
    ["B-PER", "O", "B-PER", "I-PER", "O"],
    ["O", "B-LOC", "O", "O"],
    ["B-PER", "O", "O", "B-LOC"],
]


def _rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


@pytest.mark.parametrize("tool", sorted(EXPORTS))
def test_each_tools_export_is_applied_to_jsonl(tmp_path: Path, tool: str) -> None:
    out = tmp_path / "corrected.jsonl"
    changes = apply_corrections(
        FIXTURES / EXPORTS[tool],
        FIXTURES / "data.jsonl",
        out,
        labels="tags",
        tokens="words",
        class_names=NAMES,
    )
    rows = _rows(out)
    assert [row["tags"] for row in rows] == EXPECTED_TAGS
    original = (FIXTURES / "data.jsonl").read_bytes().splitlines(keepends=True)
    written = out.read_bytes().splitlines(keepends=True)
    assert written[0] == original[0]  # not changed: copied byte for byte
    assert [list(row) for row in rows] == [["id", "words", "tags"]] * 3  # same keys, same order
    assert [row["id"] for row in rows] == ["a", "b", "c"]
    assert changes.changed == 2 and changes.tokens == 2
    assert dict(changes.spans) == {("LOC", "added"): 1, ("LOC", "relabeled"): 1}
    assert changes.reviewed == (2 if tool == "prodigy" else 3)  # a rejected answer is no review
    assert "LOC: 1 added, 1 relabeled" in changes.summary()


def test_the_latest_uncancelled_label_studio_annotation_is_the_review() -> None:
    tool, reviewed = read_reviewed(FIXTURES / EXPORTS["label-studio"])
    assert tool == "label-studio"
    assert reviewed[1].spans == [(2, 8, "LOC", "Kraków")]  # not the cancelled "is" PER


def test_prodigy_last_accept_wins_and_reject_ignore_are_skipped() -> None:
    tool, reviewed = read_reviewed(FIXTURES / EXPORTS["prodigy"])
    assert tool == "prodigy"
    assert [r.sentence for r in reviewed] == [1, 2]
    assert [label for *_, label, _ in reviewed[1].spans] == ["PER", "LOC"]


def test_parquet_keeps_its_schema_and_rows(tmp_path: Path) -> None:
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    rows = _rows(FIXTURES / "data.jsonl")
    table = pa.table(
        {
            "id": [r["id"] for r in rows],
            "words": [r["words"] for r in rows],
            "tags": pa.array([r["tags"] for r in rows], pa.list_(pa.string())),
        }
    ).replace_schema_metadata({"class_names": json.dumps(NAMES)})
    source = tmp_path / "data.parquet"
    pq.write_table(table, source)
    out = tmp_path / "corrected.parquet"
    apply_corrections(FIXTURES / EXPORTS["doccano"], source, out, labels="tags", tokens="words")
    corrected = pq.read_table(out)
    assert corrected.schema.equals(pq.read_schema(source), check_metadata=True)
    assert corrected.column("tags").to_pylist() == EXPECTED_TAGS
    assert corrected.column("id").to_pylist() == ["a", "b", "c"]
    assert corrected.column("words").to_pylist() == [r["words"] for r in rows]


@pytest.mark.parametrize("tags", ["ids", "strings"])
def test_npz_keeps_its_arrays(tmp_path: Path, tags: str) -> None:
    rows = _rows(FIXTURES / "data.jsonl")
    lengths = [len(r["words"]) for r in rows]
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    flat_tags = [t for r in rows for t in r["tags"]]
    values = (
        np.array(flat_tags)
        if tags == "strings"
        else np.array([NAMES.index(t) for t in flat_tags], np.int32)
    )
    arrays = {
        "words": np.array([w for r in rows for w in r["words"]]),
        "words_offsets": offsets,
        "tags": values,
        "tags_offsets": offsets,
        "p": np.linspace(0, 1, offsets[-1]),
    }
    source = tmp_path / "data.npz"
    np.savez_compressed(source, **arrays)
    out = tmp_path / "out.npz"
    apply_corrections(
        FIXTURES / EXPORTS["prodigy"], source, out, labels="tags", tokens="words", class_names=NAMES
    )
    with np.load(out) as corrected:
        assert corrected.files == list(arrays)
        for name in ("words", "words_offsets", "tags_offsets", "p"):
            assert (
                np.array_equal(corrected[name], arrays[name])
                and corrected[name].dtype == arrays[name].dtype
            )
        got = corrected["tags"]
        assert got.dtype.kind == values.dtype.kind and (
            tags == "strings" or got.dtype == values.dtype
        )
        flat = got.tolist() if tags == "strings" else [NAMES[k] for k in got.tolist()]
    assert [flat[a:b] for a, b in zip(offsets[:-1], offsets[1:])] == EXPECTED_TAGS
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data.npz", "out.npz"]


def test_class_ids_stay_class_ids(tmp_path: Path) -> None:
    source = tmp_path / "ids.jsonl"
    with open(source, "w", encoding="utf-8") as lines:
        for row in _rows(FIXTURES / "data.jsonl"):
            row["tags"] = [NAMES.index(tag) for tag in row["tags"]]
            lines.write(json.dumps(row, ensure_ascii=False) + "\n")
    out = tmp_path / "out.jsonl"
    apply_corrections(
        FIXTURES / EXPORTS["label-studio"],
        source,
        out,
        labels="tags",
        tokens="words",
        class_names=NAMES,
    )
    assert [row["tags"] for row in _rows(out)] == [
        [NAMES.index(t) for t in r] for r in EXPECTED_TAGS
    ]


# -- the round trip: export, edit as an annotator would, apply -------------------------------


def _span_dataset(tmp_path: Path):
    """The bundled span example as JSON Lines, with emoji in some tokens."""
    example = load_example()
    tokens = [list(words) for words in example.tokens]
    tokens[0][0] = tokens[0][0] + "🙂"
    tokens[1][-1] = "👩‍💻"
    labels = [np.asarray(label).tolist() for label in example.labels]
    path = write_example_jsonl(tmp_path / "data.jsonl", tokens)
    issues = find_issues(example.labels, example.pred_probs)
    return path, tokens, labels, example.pred_probs, issues


def _edit(tool: str, tasks: list[dict]) -> tuple[list[dict], dict[int, list[int]]]:
    """Edit the first three tasks as a reviewer would; the labels each sentence should get.

    Task 0: the model's first predicted span replaces the given spans (Label
    Studio: a new, later annotation; Prodigy/doccano: the spans edited).
    Task 1: every span removed. Task 2: looked at, left as it was.
    """
    from spanfast.export.tasks import token_offsets

    wanted: dict[int, list[int]] = {}
    for number, task in enumerate(tasks[:3]):
        sentence = task["meta"]["sentence"] if "meta" in task else task["sentence"]
        text = task["data"]["text"] if tool == "label-studio" else task["text"]
        words = text.split(" ")
        _, offsets = token_offsets(words)
        labels = [0] * len(words)
        spans: list[tuple[int, int]] = []
        if number == 0:
            # the two last tokens as one span: a change whatever the given spans were
            spans = [(len(words) - 2, len(words))]
        elif number == 2:
            spans = None  # unchanged
        for a, b in spans or []:
            labels[a:b] = [1] * (b - a)
        wanted[sentence] = labels if spans is not None else None
        chars = [(offsets[a][0], offsets[b - 1][1]) for a, b in (spans or [])]
        if tool == "label-studio":
            if spans is None:
                continue
            task["annotations"][0]["created_at"] = "2026-01-01T00:00:00Z"
            task["annotations"].append(
                {
                    "id": 900 + number,
                    "result": [
                        {
                            "id": f"r{n}",
                            "from_name": "label",
                            "to_name": "text",
                            "type": "labels",
                            "value": {"start": s, "end": e, "text": text[s:e], "labels": ["SPAN"]},
                        }
                        for n, (s, e) in enumerate(chars)
                    ],
                    "was_cancelled": False,
                    "created_at": "2026-12-01T10:00:00Z",
                    "updated_at": "2026-12-01T10:00:00Z",
                }
            )
        elif tool == "prodigy":
            task["answer"] = "accept"
            if spans is not None:
                task["spans"] = [
                    {"start": s, "end": e, "token_start": a, "token_end": b - 1, "label": "SPAN"}
                    for (s, e), (a, b) in zip(chars, spans)
                ]
        else:
            if spans is not None:
                task["label"] = [[s, e, "SPAN"] for s, e in chars]
    if tool == "prodigy":
        for task in tasks[3:]:
            task["answer"] = "ignore"
    return tasks, wanted


@pytest.mark.parametrize("tool", sorted(EXPORTS))
def test_round_trip_restores_exactly_the_intended_labels(tmp_path: Path, tool: str) -> None:
    source, tokens, labels, probs, issues = _span_dataset(tmp_path)
    tasks = to_tasks(issues, tokens, to=tool, labels=labels, pred_probs=probs)
    tasks, wanted = _edit(tool, tasks)
    export = tmp_path / ("reviewed.json" if tool == "label-studio" else "reviewed.jsonl")
    with open(export, "w", encoding="utf-8") as stream:
        write_tasks(stream, tasks, tool)
    out = tmp_path / "corrected.jsonl"
    changes = apply_corrections(export, source, out, labels="tags", tokens="words")
    corrected = [row["tags"] for row in _rows(out)]
    expected = [wanted.get(s) or labels[s] for s in range(len(labels))]
    assert corrected == expected
    changed = [s for s in range(len(labels)) if corrected[s] != labels[s]]
    assert len(changed) == 2  # tasks 0 and 1 were edited; task 2 was left as it was
    assert changed == sorted(s for s, w in wanted.items() if w is not None and w != labels[s])
    assert changes.changed == len(changed)
    assert changes.tokens == sum(
        int(np.sum(np.array(corrected[s]) != np.array(labels[s]))) for s in changed
    )
    original = source.read_bytes().splitlines(keepends=True)
    written = out.read_bytes().splitlines(keepends=True)
    assert [n for n in range(len(original)) if original[n] != written[n]] == changed

    # unedited export: nothing changes
    untouched = tmp_path / "untouched.jsonl"
    plain = to_tasks(issues, tokens, to=tool, labels=labels, pred_probs=probs)
    if tool == "prodigy":
        for task in plain:
            task["answer"] = "accept"
    with open(export, "w", encoding="utf-8") as stream:
        write_tasks(stream, plain, tool)
    assert apply_corrections(export, source, untouched, labels="tags", tokens="words").changed == 0
    assert untouched.read_bytes() == source.read_bytes()


def test_in_memory_labels() -> None:
    tokens = [["Ada", "met", "🙂", "Bob"], ["x"]]
    labels, changes = apply_to_labels(
        FIXTURES / "doccano_small.jsonl", tokens, [[1, 0, 0, 0], [0]], class_names=["O", "PER"]
    )
    assert [label.tolist() for label in labels] == [[1, 0, 0, 1], [0]]
    assert changes.spans[("PER", "added")] == 1


# -- emoji: exact offsets in code points both ways -------------------------------------------


def test_export_offsets_are_code_points_around_emoji() -> None:
    tokens = [["👩‍💻", "Zoë", "🇵🇱", "Kraków", "🙂x"]]
    labels = [[0, 1, 0, 1, 1]]
    probs = [np.array([0.1, 0.2, 0.1, 0.9, 0.9])]
    issues = LabelIssues(
        sentence=np.array([0]),
        token=np.array([1]),
        score=np.array([0.2]),
        given_label=np.array([1]),
        predicted_label=np.array([0]),
        sentence_scores=np.array([0.2]),
    )
    ls = to_tasks(issues, tokens, to="label-studio", labels=labels, pred_probs=probs)[0]
    text = ls["data"]["text"]
    values = [r["value"] for r in ls["annotations"][0]["result"]]
    assert [(v["start"], v["end"]) for v in values] == [(4, 7), (11, 20)]
    assert [text[v["start"] : v["end"]] for v in values] == ["Zoë", "Kraków 🙂x"]
    pg = to_tasks(issues, tokens, to="prodigy", labels=labels, pred_probs=probs)[0]
    assert [(t["start"], t["end"]) for t in pg["tokens"]] == [
        (0, 3),
        (4, 7),
        (8, 10),
        (11, 17),
        (18, 20),
    ]


def test_utf16_offsets_of_an_old_label_studio_are_named(tmp_path: Path) -> None:
    tasks = json.loads((FIXTURES / EXPORTS["label-studio"]).read_text(encoding="utf-8"))
    value = tasks[1]["annotations"][1]["result"][0]["value"]
    value["start"], value["end"] = 3, 9  # "Kraków" after "🚀" in UTF-16 code units
    export = tmp_path / "old.json"
    export.write_text(json.dumps(tasks, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(InvalidInputError, match="sentence 1.*UTF-16") as caught:
        apply_corrections(
            export,
            FIXTURES / "data.jsonl",
            tmp_path / "o.jsonl",
            labels="tags",
            tokens="words",
            class_names=NAMES,
        )
    assert caught.value.sentence == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["old.json"]


# -- conflicts -------------------------------------------------------------------------------


def _doccano(tmp_path: Path, line: dict, name: str = "bad.jsonl") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(line, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ({"text": "Bob lives in Rome", "label": [], "sentence": 2}, "sentence 2.*text differs"),
        (
            {"text": "Bob lives in Paris", "label": [[0, 2, "PER"]], "sentence": 2},
            "token boundaries",
        ),
        ({"text": "Bob lives in Paris", "label": [[0, 3, "ORG"]], "sentence": 2}, "label 'ORG'"),
        (
            {"text": "Bob lives in Paris", "label": [[0, 9, "PER"], [4, 12, "LOC"]], "sentence": 2},
            "overlap",
        ),
        ({"text": "x", "label": [], "sentence": 7}, "sentence 7.*3 sentences"),
        ({"text": "Bob lives in Paris", "label": []}, "no sentence index"),
    ],
)
def test_conflicts_name_the_sentence(tmp_path: Path, line: dict, message: str) -> None:
    export = _doccano(tmp_path, line)
    out = tmp_path / "out.jsonl"
    with pytest.raises(InvalidInputError, match=message):
        apply_corrections(
            export, FIXTURES / "data.jsonl", out, labels="tags", tokens="words", class_names=NAMES
        )
    assert not out.exists()


# a good line of each tool's export (Prodigy keeps the sentence index in meta)
_PRODIGY = {"text": "Bob lives in Paris", "meta": {"sentence": 2}, "answer": "accept"}
_DOCCANO = {"text": "Bob lives in Paris", "sentence": 2, "label": []}


@pytest.mark.parametrize(
    ("tool", "line", "message", "sentence"),
    [
        ("prodigy", [1, 2], "line 2: is not a JSON object", None),
        ("prodigy", {**_PRODIGY, "answer": "maybe"}, "answer 'maybe' is not accept", None),
        ("prodigy", {"text": "x", "answer": "accept", "sentence": 2}, "no sentence index", None),
        ("prodigy", {"meta": {"sentence": 2}, "answer": "accept"}, "line 2: has no text", None),
        ("prodigy", {**_PRODIGY, "spans": [3]}, "a span is not a JSON", 2),
        (
            "prodigy",
            {**_PRODIGY, "spans": [{"start": -1, "end": 3, "label": "PER"}]},
            "span start -1 is not a character offset",
            None,
        ),
        (
            "prodigy",
            {**_PRODIGY, "spans": [{"start": 0, "end": 3, "label": 7}]},
            "span label 7 is not a string",
            None,
        ),
        ("doccano", [1, 2], "line 2: is not a JSON object", None),
        ("doccano", {**_DOCCANO, "sentence": True}, "sentence True is not a", None),
        ("doccano", {**_DOCCANO, "label": [[0, 3]]}, r"label \[0, 3\] is not \[start, end", 2),
        ("doccano", {**_DOCCANO, "label": [[0, "3", "PER"]]}, "span end '3' is not a", None),
        (
            "doccano",
            {"text": "Bob lives in Paris", "sentence": 2, "labels": [[0, 3, None]]},
            "span label None is not",
            None,
        ),
        ("doccano", {**_DOCCANO, "entities": ["PER"]}, "an entity is not a JSON object", 2),
        (
            "doccano",
            {**_DOCCANO, "entities": [{"start_offset": 0, "end_offset": 2.5, "label": "PER"}]},
            "span end_offset 2.5 is not a character offset",
            None,
        ),
    ],
)
def test_a_malformed_line_is_named(tmp_path: Path, tool, line, message, sentence) -> None:
    # after a good first line: a malformed one is named by its line, whatever the tool
    first = _PRODIGY if tool == "prodigy" else _DOCCANO
    export = tmp_path / "reviewed.jsonl"
    export.write_text(json.dumps(first) + "\n" + json.dumps(line) + "\n", encoding="utf-8")
    with pytest.raises(InvalidInputError, match=message) as caught:
        read_reviewed(export, tool)
    assert str(caught.value).startswith(f"{export}: line 2: ")
    assert (caught.value.field, caught.value.file) == ("corrections", str(export))
    assert caught.value.sentence == sentence


COLUMNS = ("--labels", "tags", "--tokens", "words", "--class-names", ",".join(NAMES))


def test_command_prints_the_changes(tmp_path: Path) -> None:
    shutil.copy(FIXTURES / "data.jsonl", tmp_path / "data.jsonl")
    done = run_spanfast(
        "apply-corrections",
        str(FIXTURES / EXPORTS["prodigy"]),
        "--input",
        "data.jsonl",
        "--out",
        "fixed.jsonl",
        *COLUMNS,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert "2 reviewed sentences, 2 changed, 2 token labels changed" in done.stdout
    assert "LOC: 1 added, 1 relabeled" in done.stdout
    assert [row["tags"] for row in _rows(tmp_path / "fixed.jsonl")] == EXPECTED_TAGS


def test_command_errors_are_one_line_and_write_nothing(tmp_path: Path) -> None:
    shutil.copy(FIXTURES / "data.jsonl", tmp_path / "data.jsonl")
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "Bob lives in Paris", "label": [], "sentence": 2}\n{"text": oops\n')
    cases = [
        (("bad.jsonl", "--out", "fixed.jsonl"), "line 2: malformed JSON"),
        ((str(FIXTURES / EXPORTS["doccano"]), "--out", "data.jsonl"), "refusing to overwrite"),
        ((str(FIXTURES / EXPORTS["doccano"]), "--out", "fixed.parquet"), ".jsonl file"),
    ]
    for (export, *out), message in cases:
        done = run_spanfast(
            "apply-corrections", export, "--input", "data.jsonl", *out, *COLUMNS, cwd=tmp_path
        )
        assert done.returncode == 2, done.stderr
        assert done.stdout == ""
        assert len(done.stderr.strip().splitlines()) == 1 and message in done.stderr, done.stderr
        assert done.stderr.startswith("spanfast apply-corrections: ")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.jsonl", "data.jsonl"]
    assert (tmp_path / "data.jsonl").read_bytes() == (FIXTURES / "data.jsonl").read_bytes()
