"""``spanfast demo``: label issues in the bundled example dataset, against its planted mistakes."""

from __future__ import annotations

import argparse
import sys
import time

from .options import add_no_color, non_negative_int, use_color

NAME = "demo"


def add_parser(commands: argparse._SubParsersAction) -> None:
    """Add ``spanfast demo`` to the sub-commands."""
    demo = commands.add_parser(
        NAME,
        help="find label issues in the bundled example dataset",
        description=(
            "Find label issues in the example dataset bundled with spanfast (synthetic "
            "English sentences, span = person names, with annotation mistakes planted on "
            "purpose) and report how many of the planted mistakes were found."
        ),
    )
    demo.add_argument(
        "--top",
        type=non_negative_int,
        default=10,
        metavar="N",
        help="number of issues to display, most likely mislabeled first (default: 10)",
    )
    demo.add_argument(
        "--html", metavar="FILE.html", help="also write the HTML report of the issues to FILE.html"
    )
    demo.add_argument(
        "--spans",
        action="store_true",
        help=(
            "span-level issues instead: find_span_issues on the bundled BIO example "
            "(PER/ORG/LOC) against its planted entity-level mistakes, with the baseline "
            "of cleanlab's token issues grouped into entities"
        ),
    )
    add_no_color(demo)
    demo.set_defaults(run=run, parser=demo)


def _percent(part: int, whole: int) -> str:
    """``part`` of ``whole`` as a percentage, ``n/a`` when there is no whole."""
    return f"{100.0 * part / whole:.1f}%" if whole else "n/a"


def run(args: argparse.Namespace) -> int:
    """Run the demo; its exit status (always 0: the data is bundled)."""
    # Imported here so that `spanfast --help` and usage errors do not load the algorithms.
    from spanfast import span_classification
    from spanfast.data import load_example

    from .display import display_issues

    if args.spans:
        return _run_spans(args)
    example = load_example()

    started = time.perf_counter()
    issues = span_classification.find_label_issues(example.labels, example.pred_probs)
    first_seconds = time.perf_counter() - started
    started = time.perf_counter()
    span_classification.find_label_issues(example.labels, example.pred_probs)
    second_seconds = time.perf_counter() - started

    sentence_scores, _ = span_classification.get_label_quality_scores(
        example.labels, example.pred_probs
    )

    flagged = {(int(i), int(j)) for i, j in issues}
    n_found = len(flagged.intersection(example.planted))
    n_planted = len(example.planted)
    worst = sorted(range(len(sentence_scores)), key=lambda i: (sentence_scores[i], i))[:3]

    print(
        f"Example data: {example.n_sentences} synthetic English sentences, "
        f"{example.n_tokens:,} tokens; span class = person names."
    )
    print(
        f"{n_planted} token labels ({_percent(n_planted, example.n_tokens)}) were corrupted "
        "on purpose (planted mistakes)."
    )
    print(f"\nfind_label_issues flagged {len(issues)} tokens")
    print(
        f"  planted mistakes found: {n_found} of {n_planted} (recall {_percent(n_found, n_planted)})"
    )
    print(
        f"  flagged tokens that are planted: {n_found} of {len(issues)} "
        f"(precision {_percent(n_found, len(issues))})"
    )
    print(
        f"  wall time: first call {first_seconds:.3f} s (includes Numba JIT compilation or "
        f"loading it from the cache), second call {second_seconds:.3f} s"
    )
    print(
        "get_label_quality_scores: lowest sentence scores "
        + ", ".join(f"#{i} {sentence_scores[i]:.4f}" for i in worst)
    )

    if args.html is not None:
        _write_html(args.html, example)
    shown = min(args.top, len(issues))
    if shown == 0:
        return 0
    print(f"\nTop {shown} issues, most likely mislabeled first (O = outside a span):\n")
    display_issues(
        list(issues[:shown]),
        example.tokens,
        labels=example.labels,
        pred_probs=example.pred_probs,
        class_names=["O", "SPAN"],
        span=True,
        color=use_color(args.no_color, sys.stdout),
    )
    return 0


def _write_html(out: str, example: object) -> None:
    """The HTML report of the example (through the atomic writer)."""
    from spanfast.report import to_html
    from spanfast.results import find_issues

    from .report import output_target
    from .writers import AtomicOutput

    output = output_target(out, "html", [], None)
    with AtomicOutput(output) as destination:
        issues = find_issues(example.labels, example.pred_probs)
        page = to_html(
            issues,
            example.tokens,
            labels=example.labels,
            pred_probs=example.pred_probs,
            title="spanfast demo: the bundled example",
            run_info={"command": "spanfast demo", "input": "bundled example (planted mistakes)"},
        )
        destination.write_text(lambda stream: stream.write(page))
    if output.path is not None:
        print(f"Wrote the HTML report to {out}")


def _run_spans(args: argparse.Namespace) -> int:
    """``demo --spans``: the measurement of span issues on the BIO example."""
    from spanfast import find_span_issues
    from spanfast.data import load_tagged_example
    from spanfast.spans.measure import baseline_issues, evaluate

    example = load_tagged_example()
    started = time.perf_counter()
    issues = find_span_issues(example.labels, example.pred_probs, class_names=example.class_names)
    seconds = time.perf_counter() - started
    k = len(example.planted)
    rows = [(issue.sentence, issue.start, issue.end, issue.kind) for issue in issues]
    lines = evaluate(rows, example.planted, k)
    baseline = evaluate(
        baseline_issues(example.labels, example.pred_probs, class_names=example.class_names),
        example.planted,
        k,
    )[-1]
    print(
        f"Example data: {len(example.tokens)} synthetic English sentences, "
        f"{example.n_tokens:,} tokens, BIO tags {'/'.join(example.class_names)}; "
        "probabilities of a simulated model."
    )
    print(
        f"{k} entity-level mistakes planted; find_span_issues reported {len(issues)} "
        f"span issues in {seconds:.3f} s (first call includes Numba compilation). "
        f"Top k = {k} read.\n"
    )
    header = ("kind", "planted", "found in top k", "recall", "kind right", "in top k", "precision")
    table = [header]
    for line in lines:
        table.append(
            (
                line.kind,
                str(line.planted),
                str(line.found),
                _percent(line.found, line.planted),
                _percent(line.kind_right, line.found),
                str(line.reported),
                _percent(line.reported_true, line.reported),
            )
        )
    table.append(
        (
            "baseline",
            str(baseline.planted),
            str(baseline.found),
            _percent(baseline.found, baseline.planted),
            "n/a",
            str(baseline.reported),
            _percent(baseline.reported_true, baseline.reported),
        )
    )
    widths = [max(len(row[c]) for row in table) for c in range(len(header))]
    for n, row in enumerate(table):
        if n in (1, len(table) - 2, len(table) - 1):
            print("  ".join("-" * w for w in widths))
        print(
            "  ".join(
                cell.ljust(w) if c == 0 else cell.rjust(w)
                for c, (cell, w) in enumerate(zip(row, widths))
            )
        )
    print(
        "\nrecall: planted mistakes of the kind sharing a token with one of the top k issues; "
        "kind right: the best-ranked such issue has the planted kind; precision: top-k issues "
        "reported with the kind that share a token with a planted mistake. baseline: cleanlab's "
        "token issues (find_label_issues), each grouped into its given (else predicted) entity."
    )
    shown = min(args.top, len(issues))
    if shown:
        print(f"\nTop {shown} span issues, most likely mistakes first ([[ ]] marks the span):\n")
    for issue in list(issues)[:shown]:
        words = example.tokens[issue.sentence]
        marked = " ".join(
            [
                *words[: issue.start],
                "[[",
                *words[issue.start : issue.end],
                "]]",
                *words[issue.end :],
            ]
        )
        print(
            f"  #{issue.sentence} {issue.kind}: given {issue.given_label or '-'}, "
            f"predicted {issue.predicted_label or '-'}, score {issue.score:.4f}\n    {marked}"
        )
    return 0
