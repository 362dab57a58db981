"""Print the spanfast-vs-cleanlab table (markdown) from a saved asv result.

    python table.py [COMMIT_PREFIX] [--n-tokens 1000000]

Reads ``.asv/results/<machine>/<commit>-*.json`` (written by
``asv run --python=same --set-commit-hash HEAD``) and, for every benchmark
with an ``implementation`` parameter, pairs each spanfast value with cleanlab's
value for the same other parameters (cleanlab on list input for the Ragged
rows) and prints the ratio. Values are asv's medians; peak memory is in MiB,
with ``extra`` = peak minus the ``peakmem_baseline`` of the same parameters.
"""

from __future__ import annotations

import argparse
import glob
import itertools
import json
import math
import os


def load(commit: str) -> dict:
    here = os.path.dirname(os.path.abspath(__file__))
    pattern = os.path.join(here, ".asv", "results", "*", f"{commit}*-*.json")
    files = sorted(glob.glob(pattern), key=os.path.getmtime)  # newest last
    if not files:
        raise SystemExit(f"no results for commit {commit!r} under .asv/results")
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


def param_names() -> dict:
    here = os.path.dirname(os.path.abspath(__file__))
    with open(os.path.join(here, ".asv", "results", "benchmarks.json")) as handle:
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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument(
        "commit", nargs="?", default="", help="hash prefix; newest result if omitted"
    )
    parser.add_argument("--n-tokens", type=int, default=1_000_000)
    args = parser.parse_args()
    commit, table = load(args.commit)
    names = param_names()
    print(f"commit {commit[:10]}, n_tokens = {args.n_tokens:,}\n")
    print("| benchmark | parameters | spanfast | cleanlab | cleanlab / spanfast |")
    print("|---|---|---:|---:|---:|")
    for (name, combination), value in sorted(table.items(), key=lambda item: str(item[0])):
        named = dict(zip(names.get(name, []), combination, strict=False))
        if named.get("implementation") != "spanfast" or named.get("n_tokens") != args.n_tokens:
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


if __name__ == "__main__":
    main()
