"""Corrections made in an annotation tool, mapped back to token labels.

Each reviewed sentence's text must be the text spanfast exported for it (the
tokens joined by single spaces): otherwise its tokens changed since the
export, or the export is from another dataset, and that is an error naming
the sentence. Every span must start at a token's first character and end at
a token's last (offsets in code points, as each tool exports them), with a
label the classes have. A sentence whose spans are what its labels already
form is left exactly as it is; otherwise only the tokens of the spans that
changed are rewritten: tokens of a removed span become outside (``O`` or
class 0), tokens of a new span take its class (BIO names: ``B-X`` then
``I-X``), every other token keeps its label. The new labels are checked to
form exactly the reviewed spans.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import InvalidInputError
from ..report.sentences import SPAN_CLASS_NAMES, is_bio, sentence_spans
from .reviewed import Reviewed
from .tasks import token_offsets

KINDS = ("added", "removed", "relabeled", "boundary")


@dataclass
class Changes:
    """What applying the corrections changed.

    Attributes
    ----------
    reviewed : int
        Sentences with a review in the export.
    changed : int
        Sentences whose labels changed.
    tokens : int
        Tokens whose label changed.
    spans : Counter of (label, kind)
        Spans by label and kind: "added", "removed", "relabeled" (same tokens,
        new label; counted under the new label), "boundary" (new extent over
        an old span's tokens; under the new label).
    """

    reviewed: int = 0
    changed: int = 0
    tokens: int = 0
    spans: Counter = field(default_factory=Counter)

    def summary(self) -> str:
        """The changes as lines of text, per class and kind."""
        lines = [
            f"{self.reviewed} reviewed sentences, {self.changed} changed, "
            f"{self.tokens} token labels changed"
        ]
        for label in sorted({label for label, _ in self.spans}):
            counts = ", ".join(
                f"{self.spans[label, kind]} {kind}" for kind in KINDS if self.spans[label, kind]
            )
            lines.append(f"  {label}: {counts}")
        return "\n".join(lines)


class Mapping:
    """Span labels <-> class ids for the classes of a dataset."""

    def __init__(self, class_names: list[str] | None, n_classes: int) -> None:
        if class_names is None:
            # As the export names them: O/SPAN for span data, else class ids.
            names = list(SPAN_CLASS_NAMES) if n_classes <= 2 else [str(k) for k in range(n_classes)]
        else:
            names = [str(name) for name in class_names]
        self.names = names
        self.bio = is_bio(names)
        if self.bio:
            if "O" not in names:
                raise InvalidInputError("BIO class names have no 'O'", field="class_names")
            self.outside = names.index("O")
            types = sorted({name[2:] for name in names if name != "O"})
            missing = [t for t in types if f"B-{t}" not in names or f"I-{t}" not in names]
            if missing:
                raise InvalidInputError(
                    f"class names lack B-/I- tags of {', '.join(missing)}", field="class_names"
                )
            self.labels = {t: t for t in types}
        else:
            self.outside = 0
            self.labels = {name: name for name in names[1:]}
            if class_names is None:  # the export names class k "k" when it knows no names
                self.labels.update({str(k): names[k] for k in range(1, len(names))})

    def spans(self, classes: np.ndarray) -> list[tuple[int, int, str]]:
        """The spans the classes form."""
        return sentence_spans(classes, self.names)[0]

    def write(self, classes: np.ndarray, start: int, end: int, label: str) -> None:
        """Give tokens ``start:end`` the class(es) of a span ``label``."""
        if self.bio:
            classes[start] = self.names.index(f"B-{label}")
            classes[start + 1 : end] = self.names.index(f"I-{label}")
        else:
            classes[start:end] = self.names.index(label)


def _utf16_slice(text: str, start: int, end: int) -> str:
    """``text[start:end]`` as a UTF-16 (JavaScript) string index would slice it."""
    units = text.encode("utf-16-le")
    return units[2 * start : 2 * end].decode("utf-16-le", errors="replace")


def _conflict(record: Reviewed, message: str) -> InvalidInputError:
    return InvalidInputError(
        f"sentence {record.sentence} ({record.where} of the export): {message}",
        field="corrections",
        sentence=record.sentence,
    )


def reviewed_spans(
    record: Reviewed, tokens: list[str], mapping: Mapping
) -> list[tuple[int, int, str]]:
    """The record's spans as token spans (start, end exclusive, label); conflicts raise."""
    text, offsets = token_offsets(tokens)
    if record.text != text:
        at = next(
            (n for n, (a, b) in enumerate(zip(record.text, text)) if a != b),
            min(len(record.text), len(text)),
        )
        raise _conflict(
            record,
            f"its text differs from the input's tokens at character {at} "
            f"({record.text[at : at + 20]!r} vs {text[at : at + 20]!r}): the tokens changed since "
            "the export, or the export is of another dataset",
        )
    first_token = {start: n for n, (start, _) in enumerate(offsets)}
    last_token = {end: n for n, (_, end) in enumerate(offsets)}
    spans = []
    for start, end, label, stored in record.spans:
        shown = text[start:end]
        if stored is not None and stored != shown:
            hint = (
                "; the offsets count UTF-16 code units (Label Studio before its code-point fix): "
                "re-export from a current version"
                if _utf16_slice(text, start, end) == stored
                else ""
            )
            raise _conflict(
                record,
                f"span {start}-{end} is {shown!r} in the text but {stored!r} in the export{hint}",
            )
        if end <= start or start not in first_token or end not in last_token:
            raise _conflict(
                record, f"span {start}-{end} {shown!r} does not start and end on token boundaries"
            )
        if label not in mapping.labels:
            raise _conflict(
                record,
                f"label {label!r} of span {start}-{end} is not a class; known: "
                f"{', '.join(sorted(set(mapping.labels.values())))}",
            )
        spans.append((first_token[start], last_token[end] + 1, mapping.labels[label]))
    spans.sort()
    for (a, b, x), (c, _, y) in zip(spans, spans[1:]):
        if c < b:
            raise _conflict(record, f"spans over tokens {a}-{b} and from token {c} overlap")
        if c == b and x == y and not mapping.bio:
            raise _conflict(
                record,
                f"spans {a}-{b} and {c}-... touch with the same label {x!r}: without BIO tags "
                "the labels cannot tell them apart",
            )
    return spans


def _count(changes: Changes, old: list, new: list) -> None:
    """Span kinds of one changed sentence (see :class:`Changes`)."""
    old_set, new_set = set(old), set(new)
    gone = [s for s in old if s not in new_set]
    came = [s for s in new if s not in old_set]

    def overlaps(span: tuple, others: list) -> list:
        return [o for o in others if o[0] < span[1] and span[0] < o[1]]

    extents = {(a, b) for a, b, _ in gone}
    for span in came:
        if (span[0], span[1]) in extents:
            changes.spans[span[2], "relabeled"] += 1
        elif overlaps(span, gone):
            changes.spans[span[2], "boundary"] += 1
        else:
            changes.spans[span[2], "added"] += 1
    new_extents = {(a, b) for a, b, _ in came}
    for span in gone:
        if (span[0], span[1]) not in new_extents and not overlaps(span, came):
            changes.spans[span[2], "removed"] += 1


def corrections(
    reviewed: Iterable[Reviewed],
    n_sentences: int,
    tokens_of: Callable[[int], list[str]],
    classes_of: Callable[[int], np.ndarray],
    mapping: Mapping,
) -> tuple[dict[int, np.ndarray], Changes]:
    """The new class ids of every sentence the review changed, and what changed.

    Parameters
    ----------
    reviewed : iterable of Reviewed
        The reviewed sentences; a later record of a sentence replaces an earlier one.
    n_sentences : int
        Sentences in the original data.
    tokens_of, classes_of : callable
        The tokens and the class ids of a sentence of the original data.
    mapping : Mapping
        Span labels to class ids.

    Returns
    -------
    (dict, Changes)
        ``{sentence: new class ids}`` for the changed sentences only.
    """
    latest: dict[int, Reviewed] = {}
    for record in reviewed:
        if record.sentence >= n_sentences:
            raise _conflict(
                record,
                f"the input has {n_sentences} sentences: is the export of another dataset?",
            )
        latest[record.sentence] = record
    changes = Changes(reviewed=len(latest))
    new_labels = {}
    for sentence in sorted(latest):
        record = latest[sentence]
        tokens = tokens_of(sentence)
        classes = np.asarray(classes_of(sentence), np.int64)
        if classes.shape[0] != len(tokens):
            raise _conflict(record, "the input's labels and tokens differ in length")
        new = reviewed_spans(record, tokens, mapping)
        old = mapping.spans(classes)
        if set(new) == set(old):
            continue
        updated = classes.copy()
        new_set, old_set = set(new), set(old)
        for start, end, _ in old:
            if (start, end, _) not in new_set:
                updated[start:end] = mapping.outside
        for start, end, label in new:
            if (start, end, label) not in old_set:
                mapping.write(updated, start, end, label)
        if mapping.spans(updated) != new:
            raise _conflict(record, "the reviewed spans cannot be written as these classes' tags")
        changes.changed += 1
        changes.tokens += int(np.count_nonzero(updated != classes))
        _count(changes, old, new)
        new_labels[sentence] = updated
    return new_labels, changes


def apply_to_labels(
    export: Any,
    tokens: Any,
    labels: Any,
    *,
    class_names: Any = None,
    tool: str | None = None,
) -> tuple[list[np.ndarray], Changes]:
    """The labels with the corrections of an annotation tool's export applied.

    Parameters
    ----------
    export : str or path-like
        The file Label Studio, Prodigy or doccano exported after review.
    tokens : nested list of str, Ragged or column
        The words of every sentence, as exported.
    labels : nested list of int, Ragged or column
        The given labels (class ids) of every sentence.
    class_names : sequence of str, optional
        As given to the export (BIO tags are written back as tags).
    tool : {"label-studio", "prodigy", "doccano"}, optional
        Read from the file's shape when not given.

    Returns
    -------
    (list of int64 arrays, Changes)
        Every sentence's labels (corrected where reviewed), and what changed.

    Examples
    --------
    >>> import json, tempfile, os
    >>> line = {"text": "Ada met Bob", "label": [[0, 3, "PER"], [8, 11, "PER"]], "sentence": 0}
    >>> path = os.path.join(tempfile.mkdtemp(), "doccano.jsonl")
    >>> with open(path, "w") as f:
    ...     _ = f.write(json.dumps(line) + "\\n")
    >>> labels, changes = apply_to_labels(path, [["Ada", "met", "Bob"]], [[1, 0, 0]],
    ...                                   class_names=["O", "PER"])
    >>> labels[0].tolist(), changes.spans[("PER", "added")]
    ([1, 0, 1], 1)
    """
    from ..io import as_ragged
    from .reviewed import read_reviewed

    token_ragged = as_ragged(tokens, name="tokens")
    label_ragged = as_ragged(labels, name="labels")
    label_offsets = np.asarray(label_ragged.offsets, np.int64)
    token_offsets_ = np.asarray(token_ragged.offsets, np.int64)
    if not np.array_equal(label_offsets, token_offsets_):
        raise InvalidInputError("tokens and labels have different sentence lengths", field="tokens")
    values = np.asarray(label_ragged.values, np.int64)
    n_classes = int(values.max(initial=0)) + 1
    mapping = Mapping(None if class_names is None else list(class_names), n_classes)
    _, reviewed = read_reviewed(export, tool)
    words = token_ragged.values

    def tokens_of(s: int) -> list[str]:
        return [str(w) for w in words[token_offsets_[s] : token_offsets_[s + 1]].tolist()]

    def classes_of(s: int) -> np.ndarray:
        return values[label_offsets[s] : label_offsets[s + 1]]

    new, changes = corrections(reviewed, len(label_offsets) - 1, tokens_of, classes_of, mapping)
    out = [
        new[s] if s in new else values[label_offsets[s] : label_offsets[s + 1]].copy()
        for s in range(len(label_offsets) - 1)
    ]
    return out, changes
