"""``SpanIssues``: span-level label issues as columns."""

from __future__ import annotations

import html
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np

KINDS = ("missed", "spurious", "boundary", "type", "boundary+type", "malformed")
COLUMNS = ("sentence", "start", "end", "kind", "given_label", "predicted_label", "score")


class SpanIssue(NamedTuple):
    """One row of :class:`SpanIssues`."""

    sentence: int
    start: int
    end: int
    kind: str
    given_label: Any
    predicted_label: Any
    score: float


@dataclass(frozen=True, eq=False)
class SpanIssues:
    """Span-level label issues, most likely mistakes first (ties by position).

    Attributes
    ----------
    sentence, start, end : int64 arrays
        Tokens ``start:end`` (end exclusive) of sentence ``sentence``.
    kind : object array of str
        One of ``KINDS``: "missed", "spurious", "boundary", "type", "boundary+type",
        "malformed".
    given_label, predicted_label : object arrays
        Entity types (class names when known, else ids); None where the kind has none
        (``given_label`` of a missed entity, ``predicted_label`` of a spurious one or of
        a malformed one the model does not match).
    score : float64 array
        In [0, 1]; lower means more likely a mistake.
    """

    sentence: np.ndarray
    start: np.ndarray
    end: np.ndarray
    kind: np.ndarray
    given_label: np.ndarray
    predicted_label: np.ndarray
    score: np.ndarray

    def __len__(self) -> int:
        return int(self.sentence.shape[0])

    def __iter__(self) -> Iterator[SpanIssue]:
        columns = [getattr(self, name).tolist() for name in COLUMNS]
        return (SpanIssue(*row) for row in zip(*columns))

    def to_dict(self) -> dict[str, np.ndarray]:
        """The columns, by name."""
        return {name: getattr(self, name) for name in COLUMNS}

    def to_pandas(self) -> Any:
        """A ``pandas.DataFrame`` with one row per issue."""
        import pandas as pd

        return pd.DataFrame(self.to_dict())

    def to_arrow(self) -> Any:
        """A ``pyarrow.Table`` with one row per issue (labels as strings or integers)."""
        import pyarrow as pa

        columns = self.to_dict()
        for name in ("kind", "given_label", "predicted_label"):
            columns[name] = pa.array(columns[name].tolist())
        return pa.table(columns)

    def _repr_html_(self) -> str:
        """The top 20 issues as an HTML table for notebooks (every value escaped)."""
        top = min(len(self), 20)
        head = "".join(f"<th>{html.escape(name)}</th>" for name in COLUMNS)
        rows = []
        for n, issue in enumerate(self):
            if n == top:
                break
            cells = (
                f"{value:.4g}" if name == "score" else ("" if value is None else str(value))
                for name, value in zip(COLUMNS, issue)
            )
            rows.append("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in cells) + "</tr>")
        caption = f"{len(self)} span issues" + (
            f", top {top}, most likely mistakes first" if len(self) > top else ""
        )
        return (
            f"<table><caption>{html.escape(caption)}</caption><tr>{head}</tr>"
            + "".join(rows)
            + "</table>"
        )
