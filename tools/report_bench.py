"""The HTML report at scale: time to write it, its size, and time-to-interactive in Chromium.

One command::

    python tools/report_bench.py [--issues 100000] [--tokens 1000000] [--runs 3] [--keep DIR]
    python tools/report_bench.py --exports     # also: the three exports of 100K sentences

builds the asv benchmark's dataset (``asv_benchmarks/benchmarks/review.py``:
``ner_arrays`` span data with planted issues at distinct tokens), writes the
report with :func:`spanfast.report.write_html` (wall and CPU time, file size),
then opens it from disk ``--runs`` times in Debian's headless Chromium through
selenium (the flags of tests/test_report.py) and prints, per run:

- ``interactive``: the ``spanfast-ready`` performance mark page.js sets once the
  data is parsed, the first page of cards rendered and every handler attached
  (milliseconds since navigation start: the file read and parsed included);
- ``load``: the navigation's ``loadEventEnd``;
- ``filter`` / ``search``: how long the page takes to answer a class filter
  change and a search (the synchronous re-render, measured in the page).

With ``--exports`` it first times ``spanfast.export.write_export`` of 100K
flagged sentences (one issue each, 1.6M tokens) for each tool, as the asv
benchmark ``review.WriteExport`` does. Targets (issue 14): the report written
in <= 3 s, <= ~50 MB, interactive in <= 2 s; each export in <= 3 s. The
machine is shared: the load average is printed beside the figures, and CPU
time beside wall time.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import sys
import tempfile
import time

_HERE = os.path.dirname(os.path.abspath(__file__))
CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"


def _browser(profile: str):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        "--window-size=1100,900",
        f"--user-data-dir={profile}",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(300)
    driver.set_script_timeout(120)
    return driver


_MEASURE = """
const ready = performance.getEntriesByName("spanfast-ready")[0];
const navigation = performance.getEntriesByType("navigation")[0];
function timed(action) { const t0 = performance.now(); action(); return performance.now() - t0; }
const select = document.getElementById("class-filter");
const search = document.getElementById("search");
const filter = timed(() => {
  select.value = select.options[select.options.length - 1].value;
  select.dispatchEvent(new Event("change"));
});
select.value = ""; select.dispatchEvent(new Event("change"));
const searching = timed(() => {
  search.value = "paris";
  search.dispatchEvent(new KeyboardEvent("keydown", {key: "Enter"}));
});
return {interactive: ready.startTime, load: navigation.loadEventEnd, filter: filter,
        search: searching, cards: document.querySelectorAll("#cards .card").length,
        shown: document.getElementById("count").textContent};
"""


def _exports(review_dataset, directory: str, runs: int) -> None:
    """Wall and CPU time of each export of 100K flagged sentences (best of ``runs``)."""
    from spanfast.export import write_export

    issues, tokens, labels, probs = review_dataset(1_600_000, 100_000, one_per_sentence=True)
    for to in ("label-studio", "prodigy", "doccano"):
        out = os.path.join(directory, f"tasks.{to}")
        walls, cpus = [], []
        for _ in range(runs):
            wall, cpu = time.perf_counter(), time.process_time()
            write_export(out, issues, tokens, to=to, labels=labels, pred_probs=probs)
            walls.append(time.perf_counter() - wall)
            cpus.append(time.process_time() - cpu)
        print(
            f"export {to}: {len(issues):,} sentences, wall {min(walls):.2f} s, CPU {min(cpus):.2f} s, "
            f"{os.path.getsize(out) / 1e6:.0f} MB (load average {os.getloadavg()[0]:.1f})"
        )
        os.unlink(out)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--issues", type=int, default=100_000)
    parser.add_argument("--tokens", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--keep", metavar="DIR", help="write the report here and keep it")
    parser.add_argument("--exports", action="store_true", help="also time the three exports")
    args = parser.parse_args(argv)

    sys.path.insert(0, os.path.join(os.path.dirname(_HERE), "asv_benchmarks"))
    from benchmarks.review import review_dataset

    from spanfast.report import write_html

    directory = args.keep or tempfile.mkdtemp(prefix="spanfast-report-bench-")
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores (shared machine)")
    if args.exports:
        _exports(review_dataset, directory, args.runs)
    issues, tokens, labels, probs = review_dataset(args.tokens, args.issues)
    out = os.path.join(directory, "report.html")
    n_flagged = len(set(issues.sentence.tolist()))
    print(f"{len(issues):,} issues in {n_flagged:,} sentences over {args.tokens:,} tokens")
    walls, cpus = [], []
    for _ in range(args.runs):
        wall, cpu = time.perf_counter(), time.process_time()
        write_html(out, issues, tokens, labels=labels, pred_probs=probs)
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"write_html: wall {min(walls):.2f} s (median {statistics.median(walls):.2f}), "
        f"CPU {min(cpus):.2f} s; {os.path.getsize(out) / 1e6:.1f} MB; peak RSS {peak:.0f} MB"
    )

    if not (os.path.exists(CHROMIUM) and os.path.exists(CHROMEDRIVER)):
        print(f"no {CHROMIUM} / {CHROMEDRIVER}: apt-get install -y chromium chromium-driver")
        return 1
    profile = tempfile.mkdtemp(prefix="spanfast-chromium-")
    driver = _browser(profile)
    try:
        for run in range(args.runs):
            driver.get("about:blank")
            driver.get("file://" + os.path.abspath(out))
            deadline = time.monotonic() + 300
            while driver.execute_script("return document.documentElement.dataset.ready") != "true":
                if time.monotonic() > deadline:
                    raise SystemExit("page.js did not finish")
                time.sleep(0.02)
            m = driver.execute_script(_MEASURE)
            print(
                f"run {run + 1}: interactive {m['interactive']:.0f} ms, load {m['load']:.0f} ms, "
                f"filter {m['filter']:.0f} ms, search {m['search']:.0f} ms "
                f"({m['cards']} cards rendered, {m['shown']})"
            )
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)
        if not args.keep:
            shutil.rmtree(directory, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
