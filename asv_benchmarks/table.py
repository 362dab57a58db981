"""Print the spanfast-vs-cleanlab tables (markdown) from a saved side-by-side asv run.

    python table.py [COMMIT_PREFIX] [--n-tokens 1000000] [--all] [--results DIR]

Reads ``.asv/side-by-side/<machine>/<commit>-*.json``, written by
``asv run --config asv.side-by-side.conf.json --python=same --set-commit-hash HEAD``
(spanfast and cleanlab in one run; see README.md here). By default prints the
README's short table: the main operations on list and Ragged input against
cleanlab on lists, and the extra peak memory (peak minus ``peakmem_baseline``).
``--all``: every benchmark with an ``implementation`` parameter, each spanfast
value beside cleanlab's for the same other parameters (cleanlab on list input
for the Ragged rows). Values are asv's medians.
"""

from __future__ import annotations

import argparse
import glob
import itertools
import json
import math
import os

HERE = os.path.dirname(os.path.abspath(__file__))


def load(commit: str, results: str) -> tuple[str, dict]:
    pattern = os.path.join(results, "*", f"{commit}*-*.json")
    files = sorted(glob.glob(pattern), key=os.path.getmtime)  # newest last
    if not files:
        raise SystemExit(f"no results for commit {commit!r} under {results}")
    with open(files[-1]) as handle:
        data = json.load(handle)
    columns = data["result_columns"]
    table = {}
    for name, row in data["results"].items():
        row = dict(zip(columns, row, strict=False))
        params = [[json.loads(v.replace("'", '"')) for v in values] for values in row["params"]]
        for combination, value in zip(itertools.product(*params), row["result"], strict=True):
            table[(name, combination)] = value
    return data["commit_hash"], table


def param_names(results: str) -> dict:
    with open(os.path.join(results, "benchmarks.json")) as handle:
        return {
            name: b.get("param_names", [])
            for name, b in json.load(handle).items()
            if isinstance(b, dict)
        }


def fmt(value, unit: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    if unit == "bytes":
        return f"{value / 2**20:.0f} MiB"
    for scale, suffix in ((1, "s"), (1e-3, "ms"), (1e-6, "µs")):
        if value >= scale:
            return f"{value / scale:.3g} {suffix}"
    return f"{value * 1e9:.3g} ns"


# The README's short table: (row, benchmark, its other parameters).
SHORT = (
    ("span `find_label_issues`", "span.FindLabelIssues.time_find_label_issues", {}),
    (
        "span `get_label_quality_scores` (min)",
        "span.LabelQualityScores.time_get_label_quality_scores",
        {"sentence_score_method": "min"},
    ),
    (
        "span `get_label_quality_scores` (softmin)",
        "span.LabelQualityScores.time_get_label_quality_scores",
        {"sentence_score_method": "softmin"},
    ),
    ("token `find_label_issues`, K = 9", "token.FindLabelIssues.time_find_label_issues", {}),
    (
        "token `find_label_issues`, K = 9, `low_memory=True`",
        "token.FindLabelIssues.time_find_label_issues_low_memory",
        {},
    ),
    (
        "token `get_label_quality_scores`, K = 9",
        "token.LabelQualityScores.time_get_label_quality_scores",
        {},
    ),
)
MEMORY = "memory.PeakMemory.peakmem_find_and_scores"


class Results:
    def __init__(self, table: dict, names: dict) -> None:
        self.table, self.names = table, names

    def get(self, name: str, **params):
        """The value of benchmark ``name`` at ``params`` (None if not run)."""
        names = self.names.get(name, [])
        for (bench, combination), value in self.table.items():
            if bench == name and all(
                dict(zip(names, combination, strict=False)).get(k) == v for k, v in params.items()
            ):
                return None if isinstance(value, float) and math.isnan(value) else value
        return None


def _ratio(reference, value) -> str:
    return f"{reference / value:.1f}x" if value and reference else "n/a"


def short_table(results: Results, n_tokens: int) -> None:
    at = {"n_tokens": n_tokens}
    print("| operation | spanfast, list | spanfast, Ragged | cleanlab | list / Ragged speed-up |")
    print("|---|---:|---:|---:|---:|")
    for row, name, params in SHORT:
        params = dict(params, shape="sentences", **at)
        listed = results.get(name, implementation="spanfast", input_format="list", **params)
        ragged = results.get(name, implementation="spanfast", input_format="ragged", **params)
        cleanlab = results.get(name, implementation="cleanlab", input_format="list", **params)
        print(
            f"| {row} | {fmt(listed, 's')} | {fmt(ragged, 's')} | {fmt(cleanlab, 's')} | "
            f"{_ratio(cleanlab, listed)} / {_ratio(cleanlab, ragged)} |"
        )
    base = MEMORY.rsplit(".", 1)[0] + ".peakmem_baseline"
    for kind in ("span", "token"):
        extra = {}
        for implementation, form in (
            ("spanfast", "list"),
            ("spanfast", "ragged"),
            ("cleanlab", "list"),
        ):
            keys = dict(implementation=implementation, input_format=form, kind=kind, **at)
            peak, baseline = results.get(MEMORY, **keys), results.get(base, **keys)
            extra[implementation, form] = None if None in (peak, baseline) else peak - baseline
        cleanlab = extra["cleanlab", "list"]
        shares = " / ".join(
            f"{extra['spanfast', f] / cleanlab:.2f}" if cleanlab and extra["spanfast", f] else "n/a"
            for f in ("list", "ragged")
        )
        print(
            f"| extra peak memory, find + scores, {kind} | {fmt(extra['spanfast', 'list'], 'bytes')} "
            f"| {fmt(extra['spanfast', 'ragged'], 'bytes')} | {fmt(cleanlab, 'bytes')} "
            f"| {shares} of cleanlab's |"
        )


def full_table(table: dict, names: dict, n_tokens: int) -> None:
    print("| benchmark | parameters | spanfast | cleanlab | cleanlab / spanfast |")
    print("|---|---|---:|---:|---:|")
    for (name, combination), value in sorted(table.items(), key=lambda item: str(item[0])):
        named = dict(zip(names.get(name, []), combination, strict=False))
        if named.get("implementation") != "spanfast" or named.get("n_tokens") != n_tokens:
            continue
        unit = "bytes" if ".peakmem_" in name else "s"
        twin = dict(named, implementation="cleanlab")
        if "input_format" in twin:
            twin["input_format"] = "list"
        reference = table.get((name, tuple(twin.values())))
        rest = ", ".join(
            f"{v}" for k, v in named.items() if k not in ("implementation", "n_tokens")
        )
        ratio = (
            f"{reference / value:.1f}x" if value and reference and not math.isnan(reference) else ""
        )
        print(f"| {name} | {rest} | {fmt(value, unit)} | {fmt(reference, unit)} | {ratio} |")
        if ".peakmem_" in name and not name.endswith("baseline"):
            base = name.rsplit(".", 1)[0] + ".peakmem_baseline"
            own = table.get((base, combination))
            ref_base = table.get((base, tuple(twin.values())))
            if own is not None and ref_base is not None and reference is not None:
                extra, ref_extra = value - own, reference - ref_base
                print(
                    f"| ↳ extra over baseline | {rest} | {fmt(extra, unit)} | "
                    f"{fmt(ref_extra, unit)} | {ref_extra / max(extra, 1):.1f}x |"
                )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument(
        "commit", nargs="?", default="", help="hash prefix; newest result if omitted"
    )
    parser.add_argument("--n-tokens", type=int, default=1_000_000)
    parser.add_argument("--all", action="store_true", help="every benchmark, not the short table")
    parser.add_argument(
        "--results",
        default=os.path.join(HERE, ".asv", "side-by-side"),
        help="results directory (default: the side-by-side configuration's)",
    )
    args = parser.parse_args()
    commit, table = load(args.commit, args.results)
    names = param_names(args.results)
    print(f"commit {commit[:10]}, n_tokens = {args.n_tokens:,}\n")
    if args.all:
        full_table(table, names, args.n_tokens)
    else:
        short_table(Results(table, names), args.n_tokens)


if __name__ == "__main__":
    main()
