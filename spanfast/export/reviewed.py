"""What each annotation tool exports after review, read as one record per reviewed sentence.

The formats, as each tool documents its export:

- Label Studio (JSON export): a JSON list of tasks; each has ``data.text``
  and ``annotations``, each annotation a ``result`` list of regions; a
  ``labels`` region has ``value.start``, ``value.end`` (end exclusive),
  ``value.text`` and ``value.labels``. Annotations with ``was_cancelled`` are
  skipped; of the others the latest (``updated_at``, then ``created_at``, then
  list order) is the review. The ``<Text>`` tag counts offsets in code points
  (Label Studio's own end-to-end test ``web/libs/editor/tests/integration/
  e2e/ner/emoji.cy.ts``: "Should calculate offsets by code points in text");
  older versions counted UTF-16 code units (label-studio issue #1347, 2021),
  which an emoji before a span turns into a text mismatch, reported as such.
- Prodigy (``prodigy db-out``): JSON Lines; ``answer`` is ``accept``,
  ``reject`` or ``ignore``; ``spans`` have ``start``, ``end`` (character
  offsets, Python string indices), ``label`` and, from manual recipes,
  ``token_start``/``token_end`` (inclusive). Only accepted answers are
  corrections; for a sentence answered several times the last accept wins.
- doccano (JSONL export of a sequence-labeling project): ``text`` and
  ``label: [[start, end, LABEL], ...]`` (Python string indices), or, in
  projects with relations, ``entities: [{"start_offset", "end_offset",
  "label"}, ...]``.

Every task spanfast exports carries the sentence's index (``meta.sentence``,
or ``sentence`` at the top level of doccano lines, which doccano keeps as
metadata); that is how a record finds its sentence.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import InvalidInputError

TOOLS = ("label-studio", "prodigy", "doccano")


@dataclass(frozen=True)
class Reviewed:
    """One reviewed sentence: its index, its text as the tool has it, and the spans.

    Attributes
    ----------
    sentence : int
        Its index in the dataset (from the exported task).
    text : str
        The task's text.
    spans : list of (start, end, label, text or None)
        Character offsets (end exclusive) and the label; ``text`` is the span
        text the tool stored, when it stores one.
    where : str
        Where the record is in the export ("line 3", "task 2"), for messages.
    """

    sentence: int
    text: str
    spans: list[tuple[int, int, str, str | None]]
    where: str


def _error(path: Any, where: str, message: str, sentence: int | None = None) -> InvalidInputError:
    return InvalidInputError(
        f"{path}: {where}: {message}", field="corrections", sentence=sentence, file=str(path)
    )


def detect_tool(path: Path, first: Any) -> str:
    """Which tool wrote the export, from its shape (a JSON list: Label Studio)."""
    if isinstance(first, list):
        return "label-studio"
    if isinstance(first, dict) and (
        "answer" in first or "tokens" in first or "_input_hash" in first
    ):
        return "prodigy"
    if isinstance(first, dict) and ("label" in first or "entities" in first or "labels" in first):
        return "doccano"
    raise _error(
        path, "line 1", "is neither a Label Studio, a Prodigy nor a doccano export; name the tool"
    )


def read_reviewed(path: Any, tool: str | None = None) -> tuple[str, list[Reviewed]]:
    """(the tool, the reviewed sentences) of an export file, in file order.

    Parameters
    ----------
    path : str or path-like
        The file the tool exported.
    tool : {"label-studio", "prodigy", "doccano"}, optional
        Read from the file's shape when not given.

    Returns
    -------
    (str, list of Reviewed)
        Records the review did not settle (cancelled, rejected, ignored) are left out.
    """
    path = Path(path)
    if tool is not None and tool not in TOOLS:
        raise InvalidInputError(
            f"tool must be one of {', '.join(TOOLS)}, got {tool!r}", field="tool"
        )
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise _error(path, f"byte {error.start}", "is not UTF-8 text") from None
    stripped = text.lstrip()
    if tool == "label-studio" or (tool is None and stripped.startswith("[")):
        try:
            tasks = json.loads(text)
        except json.JSONDecodeError as error:
            raise _error(path, f"line {error.lineno}", f"malformed JSON: {error.msg}") from None
        if not isinstance(tasks, list):
            raise _error(path, "line 1", "a Label Studio JSON export is a list of tasks")
        return "label-studio", _label_studio(path, tasks)
    records = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            records.append((number, json.loads(line)))
        except json.JSONDecodeError as error:
            raise _error(path, f"line {number}", f"malformed JSON: {error.msg}") from None
    if not records:
        return tool or "doccano", []
    tool = tool or detect_tool(path, records[0][1])
    return tool, _json_lines(path, records, tool)


def _sentence_of(path: Path, where: str, task: dict, *places: Any) -> int:
    """The sentence index spanfast stored in the task."""
    for place in places:
        value = place.get("sentence") if isinstance(place, dict) else None
        if value is not None:
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise _error(path, where, f"sentence {value!r} is not a sentence index")
            return value
    raise _error(
        path, where, "has no sentence index (meta.sentence): was it exported by spanfast export?"
    )


def _text_of(path: Path, where: str, value: Any) -> str:
    if not isinstance(value, str):
        raise _error(path, where, "has no text")
    return value


def _offset(path: Path, where: str, value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise _error(path, where, f"span {name} {value!r} is not a character offset")
    return value


def _label(path: Path, where: str, value: Any) -> str:
    if not isinstance(value, str):
        raise _error(path, where, f"span label {value!r} is not a string")
    return value


def _latest(annotations: list) -> dict | None:
    """The latest annotation that was not cancelled (timestamps, then list order)."""
    usable = [
        (n, a)
        for n, a in enumerate(annotations)
        if isinstance(a, dict) and not a.get("was_cancelled", False)
    ]
    if not usable:
        return None

    def when(item: tuple[int, dict]) -> tuple[str, str, int]:
        n, annotation = item
        return (str(annotation.get("updated_at") or ""), str(annotation.get("created_at") or ""), n)

    return max(usable, key=when)[1]


def _label_studio(path: Path, tasks: list) -> list[Reviewed]:
    out = []
    for number, task in enumerate(tasks):
        where = f"task {number}"
        if not isinstance(task, dict):
            raise _error(path, where, "is not a JSON object")
        data = task.get("data")
        if not isinstance(data, dict):
            raise _error(path, where, "has no data")
        sentence = _sentence_of(path, where, task, task.get("meta"), data)
        text = _text_of(path, where, data.get("text"))
        annotations = task.get("annotations") or []
        if not isinstance(annotations, list):
            raise _error(path, where, "annotations is not a list", sentence)
        annotation = _latest(annotations)
        if annotation is None:
            continue
        spans = []
        for region in annotation.get("result") or []:
            if not isinstance(region, dict) or region.get("type") != "labels":
                continue  # choices, relations...: not span labels
            value = region.get("value")
            if not isinstance(value, dict):
                raise _error(path, where, "a labels region has no value", sentence)
            labels = value.get("labels")
            if not isinstance(labels, list) or len(labels) != 1:
                raise _error(
                    path, where, f"a region has labels {labels!r}; expected exactly one", sentence
                )
            start = _offset(path, where, value.get("start"), "start")
            end = _offset(path, where, value.get("end"), "end")
            span_text = value.get("text")
            spans.append(
                (
                    start,
                    end,
                    _label(path, where, labels[0]),
                    span_text if isinstance(span_text, str) else None,
                )
            )
        out.append(Reviewed(sentence, text, spans, where))
    return out


@dataclass(frozen=True)
class _SpanList:
    """How a JSON line lists its spans: under which key (the first one present), what an
    item is called in messages, and the keys of its start, end and label (``None``: the
    item is a ``[start, end, LABEL]`` list)."""

    keys: tuple[str, ...]
    item: str
    fields: tuple[str, str, str] | None

    def items(self, task: dict) -> list:
        key = next((key for key in self.keys if key in task), None)
        return (task.get(key) if key else None) or []

    def span(self, path: Path, where: str, sentence: int, item: Any) -> tuple:
        if self.fields is None:
            if not (isinstance(item, list) and len(item) == 3):
                raise _error(path, where, f"label {item!r} is not [start, end, LABEL]", sentence)
            (start, end, label), names = item, ("start", "end")
        else:
            if not isinstance(item, dict):
                raise _error(path, where, f"{self.item} is not a JSON object", sentence)
            (start, end, label), names = (item.get(f) for f in self.fields), self.fields
        return (
            _offset(path, where, start, names[0]),
            _offset(path, where, end, names[1]),
            _label(path, where, label),
            None,
        )


_PRODIGY_SPANS = _SpanList(("spans",), "a span", ("start", "end", "label"))
_DOCCANO_ENTITIES = _SpanList(("entities",), "an entity", ("start_offset", "end_offset", "label"))
_DOCCANO_LABELS = _SpanList(("label", "labels"), "a label", None)


def _prodigy_line(path: Path, where: str, task: dict) -> tuple[int, _SpanList] | None:
    """The sentence and the span list of an accepted answer; ``None`` for the others."""
    answer = task.get("answer")
    if answer not in ("accept", "reject", "ignore"):
        raise _error(path, where, f"answer {answer!r} is not accept, reject or ignore")
    sentence = _sentence_of(path, where, task, task.get("meta"))
    return (sentence, _PRODIGY_SPANS) if answer == "accept" else None


def _doccano_line(path: Path, where: str, task: dict) -> tuple[int, _SpanList]:
    """The sentence and the span list: ``entities`` in projects with relations."""
    sentence = _sentence_of(path, where, task, task, task.get("meta"))
    return sentence, _DOCCANO_ENTITIES if "entities" in task else _DOCCANO_LABELS


_LINE_READERS = {"prodigy": _prodigy_line, "doccano": _doccano_line}


def _json_lines(path: Path, records: list[tuple[int, Any]], tool: str) -> list[Reviewed]:
    """The reviewed sentences of a Prodigy or doccano export, every line checked alike."""
    read_line = _LINE_READERS[tool]
    out = []
    for number, task in records:
        where = f"line {number}"
        if not isinstance(task, dict):
            raise _error(path, where, "is not a JSON object")
        settled = read_line(path, where, task)
        if settled is None:
            continue
        sentence, span_list = settled
        text = _text_of(path, where, task.get("text"))
        spans = [span_list.span(path, where, sentence, item) for item in span_list.items(task)]
        out.append(Reviewed(sentence, text, spans, where))
    return out
