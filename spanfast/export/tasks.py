"""Flagged sentences as annotation tasks: Label Studio, Prodigy, doccano.

Each flagged sentence becomes one task, most likely mislabeled first. The
text is the tokens joined by single spaces; a token's character offsets are
``start = sum(len(t) + 1 for t in tokens[:i])`` and ``end = start + len(token)``,
in Unicode code points (Python string indices), so ``text[start:end]`` is the
token and a span's offsets slice exactly its tokens. The given spans are the
annotation to correct; the model's spans are the prediction.

- Label Studio: a JSON list of tasks, ``data.text``, the given spans as an
  annotation and the predicted ones as a prediction with the sentence score
  (lower is worse, so sorting by prediction score puts the worst first);
  ``labels`` results for a ``<Labels name="label" toName="text">`` config.
- Prodigy: JSON Lines in the ``ner_manual`` format: ``text``, ``tokens``
  (text, start, end, id, ws), ``spans`` (start, end, token_start, token_end
  inclusive, label) and the issue in ``meta``.
- doccano: JSON Lines for sequence labeling, ``text`` and
  ``label: [[start, end, LABEL], ...]``.

Every task also carries the sentence's index in the dataset (``meta.sentence``,
or ``sentence`` in doccano), so that corrections can be applied back.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Iterator
from typing import Any, TextIO

import numpy as np

from ..report.sentences import Sentence, flagged_sentences, without_gc

FORMATS = ("label-studio", "prodigy", "doccano")
MODEL_VERSION = "spanfast"
ISSUE_KIND = "token label"


def token_offsets(tokens: list[str]) -> tuple[str, list[tuple[int, int]]]:
    """The text (tokens joined by single spaces) and each token's (start, end).

    Examples
    --------
    >>> token_offsets(["Ada", "Lovelace", "."])
    ('Ada Lovelace .', [(0, 3), (4, 12), (13, 14)])
    """
    spans, position = [], 0
    for token in tokens:
        spans.append((position, position + len(token)))
        position += len(token) + 1
    return " ".join(tokens), spans


def _char_spans(record: Sentence, spans: list[tuple[int, int, str]], text: str, offsets: list):
    """(start, end, text, label, token_start, token_end_inclusive) of token spans."""
    out = []
    for first, stop, label in spans:
        start, end = offsets[first][0], offsets[stop - 1][1]
        out.append((start, end, text[start:end], label, first, stop - 1))
    return out


def _issues(record: Sentence) -> list[dict[str, Any]]:
    return [
        {
            "token": token,
            "text": record.tokens[token],
            "kind": ISSUE_KIND,
            "score": score,
            "given": given,
            "predicted": predicted,
        }
        for token, score, given, predicted in record.flagged
    ]


def label_studio_task(record: Sentence, text: str, offsets: list) -> dict[str, Any]:
    """One Label Studio task (``text, offsets``: :func:`token_offsets` of its tokens)."""

    def results(spans: list, prefix: str) -> list[dict[str, Any]]:
        return [
            {
                "id": f"{prefix}{n}",
                "from_name": "label",
                "to_name": "text",
                "type": "labels",
                "value": {"start": start, "end": end, "text": span_text, "labels": [label]},
            }
            for n, (start, end, span_text, label, _, _) in enumerate(
                _char_spans(record, spans, text, offsets)
            )
        ]

    return {
        "data": {"text": text},
        "annotations": [{"result": results(record.given, "given")}],
        "predictions": [
            {
                "model_version": MODEL_VERSION,
                "score": _score(record),
                "result": results(record.predicted, "pred"),
            }
        ],
        "meta": {"sentence": record.sentence, "score": _score(record), "issues": _issues(record)},
    }


def prodigy_task(record: Sentence, text: str, offsets: list) -> dict[str, Any]:
    """One Prodigy ``ner_manual`` task (``text, offsets``: :func:`token_offsets` of its tokens)."""
    last = len(record.tokens) - 1
    worst = record.flagged[0]
    return {
        "text": text,
        "tokens": [
            {"text": token, "start": start, "end": end, "id": n, "ws": n != last}
            for n, (token, (start, end)) in enumerate(zip(record.tokens, offsets))
        ],
        "spans": [
            {"start": start, "end": end, "token_start": first, "token_end": final, "label": label}
            for start, end, _, label, first, final in _char_spans(
                record, record.given, text, offsets
            )
        ],
        "meta": {
            "sentence": record.sentence,
            "kind": ISSUE_KIND,
            "score": _score(record),
            "given": worst[2],
            "predicted": worst[3],
            "issues": _issues(record),
        },
    }


def doccano_task(record: Sentence, text: str, offsets: list) -> dict[str, Any]:
    """One doccano sequence-labeling line (``sentence`` is kept as metadata)."""
    return {
        "text": text,
        "label": [
            [start, end, label]
            for start, end, _, label, _, _ in _char_spans(record, record.given, text, offsets)
        ],
        "sentence": record.sentence,
        "score": _score(record),
    }


_BUILDERS = {"label-studio": label_studio_task, "prodigy": prodigy_task, "doccano": doccano_task}


def to_tasks(
    issues: Any,
    tokens: Any,
    *,
    to: str,
    labels: Any,
    pred_probs: Any,
    class_names: Any = None,
) -> list[dict[str, Any]]:
    """The flagged sentences as tasks of one tool, worst first.

    Parameters
    ----------
    issues : LabelIssues
        From :func:`spanfast.results.find_issues`.
    tokens, labels, pred_probs
        The data the issues were found in (per-sentence token text, labels, probabilities).
    to : {"label-studio", "prodigy", "doccano"}
        The tool.
    class_names : sequence of str, optional
        Class names (BIO tags are exported as entity types).

    Returns
    -------
    list of dict
        One task per flagged sentence.

    Examples
    --------
    >>> import numpy as np
    >>> from spanfast.results import find_issues
    >>> labels = [[0, 1, 1], [0, 0, 1]]
    >>> probs = [np.array([0.1, 0.9, 0.05]), np.array([0.2, 0.1, 0.95])]
    >>> tasks = to_tasks(find_issues(labels, probs), [["Hi", "Ada", "L."], ["a", "b", "c"]],
    ...                  to="doccano", labels=labels, pred_probs=probs, class_names=["O", "PER"])
    >>> tasks[0]["text"], tasks[0]["label"]
    ('Hi Ada L.', [[3, 9, 'PER']])
    """
    if to not in _BUILDERS:
        raise ValueError(f"to must be one of {', '.join(FORMATS)}, got {to!r}")
    records, _ = flagged_sentences(
        issues,
        tokens,
        labels=labels,
        pred_probs=pred_probs,
        class_names=class_names,
        with_predicted=to == "label-studio",  # the only tool given the model's spans
    )
    build = _BUILDERS[to]
    with without_gc():
        texts, offsets = _texts_and_offsets(records)
        return [build(record, text, spans) for record, text, spans in zip(records, texts, offsets)]


def _texts_and_offsets(records: list[Sentence]) -> tuple[list[str], list[list[tuple[int, int]]]]:
    """:func:`token_offsets` of every record's tokens, computed over all tokens at once."""
    counts = np.fromiter((len(record.tokens) for record in records), np.int64, count=len(records))
    lengths = np.fromiter(
        map(len, itertools.chain.from_iterable(record.tokens for record in records)),
        np.int64,
        count=int(counts.sum()),
    )
    first = np.zeros(len(records) + 1, np.int64)
    np.cumsum(counts, out=first[1:])
    # start of token i = (sum of len + 1 of the tokens before it) - that sum at its sentence's start
    before = np.zeros(lengths.shape[0] + 1, np.int64)
    np.cumsum(lengths + 1, out=before[1:])
    starts = before[:-1] - np.repeat(before[first[:-1]], counts)
    pairs = list(zip(starts.tolist(), (starts + lengths).tolist()))
    bounds = first.tolist()
    texts = [" ".join(record.tokens) for record in records]
    return texts, [pairs[a:b] for a, b in zip(bounds, bounds[1:])]


def _score(record: Sentence) -> float | None:
    """The sentence's score; JSON has no NaN, so a missing one is null."""
    return None if record.score != record.score else record.score


def _json_line(task: dict[str, Any], newline: str = "\n") -> str:
    """A task as one line of compact JSON (the standard library's C encoder)."""
    return json.dumps(task, ensure_ascii=False, allow_nan=False, separators=(",", ":")) + newline


def _encoder(newline: bool = True) -> Callable[[dict[str, Any]], str]:
    """:func:`_json_line`, or the same JSON from orjson when it is installed (4x faster);
    ``newline``: each task's line ends with one.

    Both write compact UTF-8 JSON that parses to the same values; only the
    spelling of some floats differs (``1e-05`` / ``1e-5``). NaN never reaches
    either: missing scores are None.
    """
    end = "\n" if newline else ""
    try:
        import orjson
    except ImportError:
        return lambda task: _json_line(task, end)
    dumps, option = orjson.dumps, orjson.OPT_APPEND_NEWLINE if newline else 0

    def encode(task: dict[str, Any]) -> str:
        try:
            return dumps(task, option=option).decode("utf-8")
        except TypeError:  # a value orjson does not take (a float subclass): the slow way
            return _json_line(task, end)

    return encode


def _label_studio_chunks(tasks: list[dict[str, Any]]) -> Iterator[str]:
    """One JSON list, a task a line, in pieces (never the whole file as one string)."""
    if not tasks:
        yield "[]\n"
        return
    encode = _encoder(newline=False)
    yield "[\n"
    yield encode(tasks[0])
    for task in itertools.islice(tasks, 1, None):
        yield ",\n"
        yield encode(task)
    yield "\n]\n"


def write_tasks(stream: TextIO, tasks: list[dict[str, Any]], to: str) -> None:
    """Label Studio: one JSON list, a task a line; Prodigy and doccano: JSON Lines."""
    if to == "label-studio":
        # json.dump with an indent is the pure-Python encoder; one dumps per task is the C one.
        stream.writelines(_label_studio_chunks(tasks))
        return
    stream.writelines(map(_encoder(), tasks))


def write_export(path: Any, issues: Any, tokens: Any, *, to: str, **options: Any) -> int:
    """Write :func:`to_tasks` to ``path`` atomically; the number of tasks.

    Parameters
    ----------
    path : str or path-like
        The file to write (``-`` for stdout).
    issues, tokens, to, **options
        As :func:`to_tasks` takes them.

    Returns
    -------
    int
        The number of tasks written.
    """
    with without_gc():  # the tasks are freed (on return) before collection resumes
        return _write_export(path, to_tasks(issues, tokens, to=to, **options), to)


def _write_export(path: Any, tasks: list[dict[str, Any]], to: str) -> int:
    from .._atomic import write_text_file

    write_text_file(path, lambda stream: write_tasks(stream, tasks, to))
    return len(tasks)
