"""Building the HTML report: one self-contained page, no network, no external assets.

The page is static HTML for what is small (what was run, the counts, the
histogram of sentence scores as inline SVG) and, for the flagged sentences,
one ``<script type="application/json">`` block that ``page.js`` renders a
page of cards at a time, so that 100K issues stay responsive. Every piece of
data is escaped: HTML text with :func:`html.escape`, the embedded JSON with
``<``, ``>`` and ``&`` written as ``\\u003c``... so that no token can close
the script element, and the script puts data into the page with
``textContent`` only. A Content-Security-Policy forbids every fetch.
"""

from __future__ import annotations

import datetime
import html
import json
from collections import Counter
from importlib import resources
from typing import Any

import numpy as np

from .sentences import Sentence, flagged_sentences, without_gc

TOKEN_KIND = "token label"

HISTOGRAM_BINS = 40
_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; "
    "img-src data:; base-uri 'none'; form-action 'none'"
)


def _asset(name: str) -> str:
    """A file shipped beside this module (page.js, page.css)."""
    return resources.files(__package__).joinpath(name).read_text(encoding="utf-8")


def script_json(value: Any) -> str:
    """JSON that is safe inside a ``<script>`` element: no ``<``, ``>`` or ``&`` characters.

    Examples
    --------
    >>> script_json(["</script><script>alert(1)</script>"])
    '["\\\\u003c/script\\\\u003e\\\\u003cscript\\\\u003ealert(1)\\\\u003c/script\\\\u003e"]'
    """
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return (
        text.replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )


def _card(record: Sentence) -> list[Any]:
    """One card as the compact array page.js reads (tuples are JSON arrays; no copies)."""
    return [
        record.sentence,
        _finite(record.score),
        record.tokens,
        record.given,
        record.predicted,
        record.flagged,
        record.span_issues,
    ]


def _finite(value: float) -> float | None:
    """JSON has no NaN: a missing score is null."""
    return float(value) if np.isfinite(value) else None


def _histogram_svg(scores: np.ndarray | None, flagged: np.ndarray, cut: float | None) -> str:
    """Inline SVG: sentences per score bin, the flagged ones in red, the cut as a dashed line."""
    if scores is None or scores.size == 0:
        return '<p class="empty">No sentence scores.</p>'
    finite = np.isfinite(scores)
    low, high = 0.0, max(1.0, float(scores[finite].max(initial=1.0)))
    edges = np.linspace(low, high, HISTOGRAM_BINS + 1)
    counts, _ = np.histogram(scores[finite], bins=edges)
    flagged_counts, _ = np.histogram(scores[finite & flagged], bins=edges)
    width, height, left, bottom = 420, 150, 36, 22
    plot_w, plot_h = width - left - 8, height - bottom - 8
    top_count = max(int(counts.max(initial=0)), 1)
    bar_w = plot_w / HISTOGRAM_BINS

    def y(count: float) -> float:
        # sqrt scale: the few low-scoring sentences stay visible beside the many good ones
        return 8 + plot_h - plot_h * np.sqrt(count / top_count)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'role="img" aria-label="histogram of sentence scores">'
    ]
    for number in range(HISTOGRAM_BINS):
        x = left + number * bar_w
        for count, css in ((counts[number], "bar-all"), (flagged_counts[number], "bar-flagged")):
            if count:
                top = y(count)
                parts.append(
                    f'<rect class="{css}" x="{x:.1f}" y="{top:.1f}" width="{bar_w - 1:.1f}" '
                    f'height="{8 + plot_h - top:.1f}"><title>{edges[number]:.3f}–'
                    f"{edges[number + 1]:.3f}: {int(count)} sentences</title></rect>"
                )
    axis_y = 8 + plot_h
    parts.append(
        f'<line x1="{left}" y1="{axis_y}" x2="{left + plot_w}" y2="{axis_y}" stroke="#333"/>'
    )
    for value in (low, (low + high) / 2, high):
        x = left + plot_w * (value - low) / (high - low)
        parts.append(f'<text x="{x:.1f}" y="{height - 6}" text-anchor="middle">{value:.2g}</text>')
    parts.append(f'<text x="2" y="14">{top_count}</text><text x="2" y="{axis_y}">0</text>')
    if cut is not None and np.isfinite(cut):
        x = left + plot_w * (cut - low) / (high - low)
        parts.append(
            f'<line class="cut" x1="{x:.1f}" y1="8" x2="{x:.1f}" y2="{axis_y}"/>'
            f'<text x="{x + 3:.1f}" y="18">cut {cut:.3g}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _table(rows: list[tuple[Any, ...]], head: tuple[str, ...] | None = None, css: str = "") -> str:
    """An escaped HTML table."""
    out = [f'<table class="{css}">' if css else "<table>"]
    if head:
        out.append("<tr>" + "".join(f"<th>{html.escape(str(h))}</th>" for h in head) + "</tr>")
    for row in rows:
        out.append("<tr>" + "".join(f"<td>{html.escape(str(cell))}</td>" for cell in row) + "</tr>")
    out.append("</table>")
    return "".join(out)


def _class_counts(issues: Any, names: list[str]) -> list[tuple[str, int, int]]:
    """(class, issues whose given label it is, issues predicted as it), for classes with any."""
    if _is_span_level(issues):
        given = Counter(str(v) for v in issues.given_label.tolist() if v is not None)
        predicted = Counter(str(v) for v in issues.predicted_label.tolist() if v is not None)
        return [(k, given[k], predicted[k]) for k in sorted(set(given) | set(predicted))]
    n = len(names)
    given = np.bincount(np.asarray(issues.given_label, np.int64), minlength=n)
    predicted = np.bincount(np.asarray(issues.predicted_label, np.int64), minlength=n)
    return [
        (names[k], int(given[k]), int(predicted[k])) for k in range(n) if given[k] or predicted[k]
    ]


def _is_span_level(issues: Any) -> bool:
    from ..spans.table import SpanIssues

    return isinstance(issues, SpanIssues)


def _kind_counts(issues: Any) -> list[tuple[str, int]]:
    """(kind, issues of that kind): the span kinds in their fixed order, or token labels."""
    if not _is_span_level(issues):
        return [(TOKEN_KIND, len(issues))] if len(issues) else []
    from ..spans.table import KINDS

    counts = Counter(issues.kind.tolist())
    return [(kind, counts[kind]) for kind in KINDS if counts[kind]]


def to_html(
    issues: Any,
    tokens: Any,
    *,
    labels: Any = None,
    pred_probs: Any = None,
    class_names: Any = None,
    title: str | None = None,
    run_info: dict[str, Any] | None = None,
) -> str:
    """The HTML report of label issues: one self-contained page.

    Parameters
    ----------
    issues : LabelIssues or SpanIssues
        Token issues (:func:`spanfast.results.find_issues`) or span-level
        issues (:func:`spanfast.find_span_issues`: each card marks the span of
        each issue, with its kind and the given and predicted entity type).
    tokens : nested list of str, Ragged or column
        The words of every sentence.
    labels, pred_probs : optional
        The data the issues were found in; with them the given and the
        predicted spans are drawn.
    class_names : sequence of str, optional
        Class names; BIO tags (``O``, ``B-PER``, ``I-PER``...) are drawn as entities.
    title : str, optional
        The page title (default "spanfast label issues").
    run_info : dict, optional
        What was run (input, options...), shown at the top beside the sizes,
        the spanfast version and the date.

    Returns
    -------
    str
        The HTML document.

    Examples
    --------
    >>> import numpy as np
    >>> from spanfast.results import find_issues
    >>> from spanfast.report import to_html
    >>> labels = [[0, 1, 1], [0, 0, 1]]
    >>> probs = [np.array([0.1, 0.9, 0.05]), np.array([0.2, 0.1, 0.95])]
    >>> page = to_html(find_issues(labels, probs), [["a", "<b>", "c"], ["d", "e", "f"]],
    ...                labels=labels, pred_probs=probs)
    >>> "<b>" in page, "\\\\u003cb\\\\u003e" in page
    (False, True)
    """
    with without_gc():  # the records are freed before collection resumes
        return _page(
            issues,
            tokens,
            labels=labels,
            pred_probs=pred_probs,
            class_names=class_names,
            title=title,
            run_info=run_info,
        )


def _page(
    issues: Any,
    tokens: Any,
    *,
    labels: Any,
    pred_probs: Any,
    class_names: Any,
    title: str | None,
    run_info: dict[str, Any] | None,
) -> str:
    """:func:`to_html`'s page."""
    from .. import __version__

    records, info = flagged_sentences(
        issues, tokens, labels=labels, pred_probs=pred_probs, class_names=class_names
    )
    names = info["class_names"]
    sentence_scores = getattr(issues, "sentence_scores", None)
    scores = None if sentence_scores is None else np.asarray(sentence_scores, np.float64)
    flagged_mask = np.zeros(info["n_sentences"], bool)
    flagged_mask[np.asarray(issues.sentence, np.int64)] = True
    cut = None
    span_level = _is_span_level(issues)
    if span_level:  # no sentence scores: the distribution of the issues' scores
        scores = np.asarray(issues.score, np.float64)
        flagged_mask = np.ones(scores.shape[0], bool)
    elif scores is not None and flagged_mask.any() and scores.shape[0] == flagged_mask.shape[0]:
        cut = float(np.nanmax(scores[flagged_mask]))
    else:
        scores = None

    title = title or "spanfast label issues"
    run_rows: list[tuple[Any, ...]] = [
        (key, value) for key, value in (run_info or {}).items() if value is not None
    ]
    run_rows += [
        ("task", info["task"]),
        ("sentences", f"{info['n_sentences']:,}"),
        ("tokens", f"{info['n_tokens']:,}"),
        ("span issues" if span_level else "label issues", f"{len(issues):,}"),
        ("flagged sentences", f"{len(records):,}"),
        ("spanfast", __version__),
        ("date", datetime.datetime.now().astimezone().isoformat(timespec="seconds")),
    ]
    counts = _class_counts(issues, names)
    kinds = _kind_counts(issues)
    cards = [_card(record) for record in records]
    payload = {
        "cards": cards,
        "classes": [c[0] for c in counts],
        "kinds": [k[0] for k in kinds],
    }
    cut_text = (
        f"The dashed line is the cut: the highest score of a flagged sentence ({cut:.4g}); "
        "flagged sentences in red."
        if cut is not None
        else ""
    )
    return "".join(
        [
            '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">',
            f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f"<title>{html.escape(title)}</title><style>{_asset('page.css')}</style></head><body>",
            f"<h1>{html.escape(title)}</h1>",
            '<section class="summary"><div><h2>What was run</h2>',
            _table(run_rows, css="run"),
            "</div><div><h2>Issues per kind</h2>",
            _table(kinds, ("kind", "issues"), css="kinds")
            if kinds
            else '<p class="empty">No issues.</p>',
            "<h2>Issues per class</h2>",
            _table(counts, ("class", "given", "predicted"), css="counts")
            if counts
            else '<p class="empty">No label issues.</p>',
            '</div><div class="histogram"><h2>'
            + ("Span issue scores" if span_level else "Sentence scores")
            + "</h2>",
            _histogram_svg(scores, flagged_mask, cut),
            f"<p>{html.escape(cut_text)}</p></div></section>",
            '<section class="controls"><label>Class <select id="class-filter">',
            '<option value="">all</option></select></label>',
            '<label>Kind <select id="kind-filter"><option value="">all</option></select></label>',
            '<label>Search <input type="search" id="search" placeholder="token text or sentence number">',
            '</label><span id="count"></span>',
            '<span class="hint">j / k: next / previous sentence; /: search</span>',
            '<span class="legend"><span><span class="swatch" style="background:var(--given)"></span>'
            'given span</span><span><span class="swatch" style="background:var(--pred)"></span>'
            'predicted span</span><span><span class="swatch" style="background:var(--flag)"></span>'
            "flagged token or span</span></span></section>",
            '<main id="cards"></main><div id="more"></div>',
            f'<script type="application/json" id="spanfast-data">{script_json(payload)}</script>',
            f"<script>{_asset('page.js')}</script>",
            "<noscript><p>The flagged sentences are shown with JavaScript.</p></noscript>",
            "</body></html>\n",
        ]
    )
