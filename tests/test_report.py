"""The HTML report, built in Python and opened from disk in a real headless Chromium.

The browser tests need Chromium and chromedriver from Debian's packages
(``apt-get install -y chromium chromium-driver``) and selenium (test extra);
without them they are skipped with that reason. A screenshot of the report is
written to ``$SPANFAST_SCREENSHOT_DIR`` (default: pytest's tmp dir) and its
path printed, for the reader of the CI log.
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
import pytest

from spanfast.data import load_example
from spanfast.ragged import Ragged
from spanfast.report import to_html, write_html
from spanfast.report.html import script_json
from spanfast.results import LabelIssues, find_issues

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
PWN_TOKENS = (
    "<script>window.__pwned = 1</script>",
    '<img src="x" onerror="window.__pwned = 2">',
    "</script><script>window.__pwned = 3</script>",
)


def _embedded(page: str) -> dict:
    """The JSON the page embeds for its cards."""
    match = re.search(
        r'<script type="application/json" id="spanfast-data">(.*?)</script>', page, re.S
    )
    assert match is not None
    return json.loads(match.group(1))


def _token_issues() -> tuple[LabelIssues, list[list[str]], list[np.ndarray], list[np.ndarray]]:
    """Three sentences of token data (O, PER, LOC) with one issue each, worst first."""
    tokens = [["Ada", "met", "Bob"], ["in", "Paris", "today"], ["the", "Rome", "deal", "x"]]
    labels = [np.array([1, 0, 1]), np.array([0, 2, 0]), np.array([0, 0, 0, 0])]
    eye = np.eye(3) * 0.9 + 0.1 / 3
    pred_probs = [eye[[1, 0, 0]], eye[[0, 0, 0]], eye[[0, 2, 0, 0]]]
    issues = LabelIssues(
        sentence=np.array([0, 1, 2]),
        token=np.array([2, 1, 1]),
        score=np.array([0.01, 0.02, 0.03]),
        given_label=np.array([1, 2, 0]),
        predicted_label=np.array([0, 0, 2]),
        sentence_scores=np.array([0.01, 0.02, 0.03]),
    )
    return issues, tokens, labels, pred_probs


# -- the page as text ---------------------------------------------------------------------


def test_page_is_self_contained_and_escaped() -> None:
    example = load_example()
    tokens = [list(sentence) for sentence in example.tokens]
    issues = find_issues(example.labels, example.pred_probs)
    i, j = int(issues.sentence[0]), int(issues.token[0])
    tokens[i][j] = PWN_TOKENS[2]
    page = to_html(
        issues,
        tokens,
        labels=example.labels,
        pred_probs=example.pred_probs,
        title="<b>title</b>",
        run_info={"input": "<in>.jsonl"},
    )
    assert page.count("<script") == 2  # the data block and page.js, nothing from the data
    assert "<b>title</b>" not in page and html.escape("<b>title</b>") in page
    assert html.escape("<in>.jsonl") in page
    assert not re.search(r"(?:src|href)\s*=\s*[\"']?(?:https?:)?//", page)  # no external asset
    assert "Content-Security-Policy" in page and "default-src 'none'" in page
    assert "<svg" in page and 'class="cut"' in page
    data = _embedded(page)
    assert data["cards"][0][0] == i and data["cards"][0][2][j] == PWN_TOKENS[2]
    assert len(data["cards"]) == len(np.unique(issues.sentence))
    # Cards are worst first: in the order of each sentence's first issue.
    first = [int(s) for s in dict.fromkeys(issues.sentence.tolist())]
    assert [card[0] for card in data["cards"]] == first


def test_script_json_cannot_close_the_script_element() -> None:
    text = script_json({"t": ["</script>", "<!--", "a&b", "\u2028"]})
    assert "<" not in text and ">" not in text and "&" not in text
    assert json.loads(text) == {"t": ["</script>", "<!--", "a&b", "\u2028"]}


def test_spans_of_token_data_and_bio_tags() -> None:
    issues, tokens, labels, pred_probs = _token_issues()
    data = _embedded(
        to_html(
            issues, tokens, labels=labels, pred_probs=pred_probs, class_names=["O", "PER", "LOC"]
        )
    )
    first = data["cards"][0]
    assert first[3] == [[0, 1, "PER"], [2, 3, "PER"]]  # given
    assert first[4] == [[0, 1, "PER"]]  # predicted
    assert first[5] == [[2, 0.01, "PER", "O"]]
    bio = ["O", "B-PER", "I-PER"]
    labels = [np.array([1, 2, 1, 0])]
    probs = [np.eye(3)[[1, 2, 2, 0]] * 0.9 + 0.1 / 3]
    bio_issues = LabelIssues(
        sentence=np.array([0]),
        token=np.array([2]),
        score=np.array([0.1]),
        given_label=np.array([1]),
        predicted_label=np.array([2]),
    )
    card = _embedded(
        to_html(
            bio_issues, [["a", "b", "c", "d"]], labels=labels, pred_probs=probs, class_names=bio
        )
    )["cards"][0]
    assert card[3] == [[0, 2, "PER"], [2, 3, "PER"]]  # B-PER I-PER | B-PER
    assert card[4] == [[0, 3, "PER"]]


def test_issues_outside_the_tokens_are_named() -> None:
    issues, tokens, _, _ = _token_issues()
    with pytest.raises(ValueError, match="sentence 2, but the tokens have 2 sentences") as caught:
        to_html(issues, tokens[:2])
    assert caught.value.sentence == 2
    short = [tokens[0], ["in"], tokens[2]]
    with pytest.raises(ValueError, match="token 1 of sentence 1, which has 1 tokens"):
        to_html(issues, short)


def test_write_html_is_atomic(tmp_path: Path) -> None:
    issues, tokens, labels, pred_probs = _token_issues()
    out = tmp_path / "report.html"
    out.write_text("old")
    with pytest.raises(ValueError):
        write_html(out, issues, tokens[:1])
    assert out.read_text() == "old" and sorted(p.name for p in tmp_path.iterdir()) == [
        "report.html"
    ]
    write_html(out, issues, tokens, labels=labels, pred_probs=pred_probs)
    assert out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.html"]


def test_repr_html_is_a_compact_escaped_table() -> None:
    issues, tokens, _, _ = _token_issues()
    issues = LabelIssues(
        **{name: getattr(issues, name) for name in ("sentence", "token", "score")},
        given_label=issues.given_label,
        predicted_label=issues.predicted_label,
        token_text=np.array(["<script>x</script>", "Paris", "Rome"], dtype=object),
    )
    table = issues._repr_html_()
    assert "<script>" not in table and "&lt;script&gt;" in table
    assert table.count("<tr>") == 1 + 3
    many = find_issues(load_example().labels, load_example().pred_probs)
    assert many._repr_html_().count("<tr>") == 1 + 20
    assert f"{len(many)} label issues" in many._repr_html_()


def _span_issues():
    """BIO data with span-level issues of three kinds."""
    from spanfast import find_span_issues

    names = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC"]
    tokens = [["Ada", "met", "<script>x</script>", "in", "Rome"], ["Bob", "left", "Paris"]]
    tags = [np.array([1, 0, 0, 0, 3]), np.array([1, 0, 0])]
    predicted = [[1, 0, 1, 0, 1], [3, 0, 3]]
    probs = [np.eye(5)[p] * 0.9 + 0.02 for p in predicted]
    issues = find_span_issues(tags, probs, class_names=names, filter_by=None)
    return issues, tokens, tags, probs, names


def test_span_issues_are_cards_with_the_span_marked() -> None:
    issues, tokens, tags, probs, names = _span_issues()
    kinds = sorted(set(issues.kind.tolist()))
    assert {"missed", "type"} <= set(kinds)
    page = to_html(issues, tokens, labels=tags, pred_probs=probs, class_names=names)
    data = _embedded(page)
    assert data["kinds"] == [
        k
        for k in ("missed", "spurious", "boundary", "type", "boundary+type", "malformed")
        if k in kinds
    ]
    cards = {card[0]: card for card in data["cards"]}
    expected = {}
    for issue in issues:
        given = "" if issue.given_label is None else issue.given_label
        predicted = "" if issue.predicted_label is None else issue.predicted_label
        expected.setdefault(issue.sentence, []).append(
            [issue.start, issue.end, issue.kind, given, predicted, issue.score]
        )
    assert {s: card[6] for s, card in cards.items()} == expected
    assert all(card[5] == [] for card in data["cards"])
    # Counts per kind at the top, with the escaped token never raw.
    counts = re.search(r'<table class="kinds">(.*?)</table>', page).group(1)
    for kind in kinds:
        n = int(np.sum(issues.kind == kind))
        assert f"<td>{html.escape(kind)}</td><td>{n}</td>" in counts
    assert "<script>x</script>" not in page
    assert "span issues" in page and "Span issue scores" in page


# -- the page in a browser ----------------------------------------------------------------


@pytest.fixture(scope="module")
def browser():
    if not (os.path.exists(CHROMIUM) and os.path.exists(CHROMEDRIVER)):
        pytest.skip(
            f"{CHROMIUM} or {CHROMEDRIVER} missing: apt-get install -y chromium chromium-driver"
        )
    webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is in the test extra")
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="spanfast-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        "--window-size=1100,900",
        f"--user-data-dir={profile}",
    ):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(120)
    driver.set_script_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def _open(driver, path: Path, timeout: float = 60.0) -> None:
    """Load the page from disk and wait until page.js has rendered it."""
    driver.get_log("browser")
    driver.get_log("performance")  # drop what earlier pages logged
    driver.get(path.as_uri())
    deadline = time.monotonic() + timeout
    while driver.execute_script("return document.documentElement.dataset.ready") != "true":
        assert time.monotonic() < deadline, "page.js did not finish rendering"
        time.sleep(0.05)


def _requested_urls(driver) -> list[str]:
    urls = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent":
            urls.append(message["params"]["request"]["url"])
    return urls


def _visible_cards(driver) -> list[int]:
    return driver.execute_script(
        "return Array.from(document.querySelectorAll('#cards .card'), c => +c.dataset.sentence)"
    )


def _screenshot(driver, tmp_path: Path, name: str) -> None:
    directory = Path(os.environ.get("SPANFAST_SCREENSHOT_DIR", tmp_path))
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    driver.save_screenshot(str(path))
    print(f"screenshot of the report: {path}")


def test_example_report_renders_in_chromium(browser, tmp_path: Path) -> None:
    example = load_example()
    tokens = [list(sentence) for sentence in example.tokens]
    issues = find_issues(example.labels, example.pred_probs)
    i, j = int(issues.sentence[0]), int(issues.token[0])
    tokens[i][j] = PWN_TOKENS[0]
    second = int(np.unique(issues.sentence)[-1])
    tokens[second][0] = PWN_TOKENS[1]
    tokens[second][1] = PWN_TOKENS[2]
    out = tmp_path / "example.html"
    write_html(out, issues, tokens, labels=example.labels, pred_probs=example.pred_probs)
    _open(browser, out)

    data = _embedded(out.read_text(encoding="utf-8"))
    shown = _visible_cards(browser)
    assert shown == [card[0] for card in data["cards"]][:50]  # the first page, worst first
    # Every span of every rendered card is drawn, with its label on its first token.
    labels_drawn = browser.execute_script(
        "return Array.from(document.querySelectorAll('#cards .card'),"
        " c => c.querySelectorAll('.span-label').length)"
    )
    assert labels_drawn == [len(card[3]) + len(card[4]) for card in data["cards"][:50]]
    flagged = browser.execute_script(
        "return Array.from(document.querySelectorAll('#cards .card'),"
        " c => c.querySelectorAll('.txt.flag').length)"
    )
    assert flagged == [len({f[0] for f in card[5]}) for card in data["cards"][:50]]

    # The <script> tokens are text, and nothing ran.
    assert browser.execute_script("return typeof window.__pwned") == "undefined"
    first_card = browser.find_element("css selector", "#cards .card")
    assert PWN_TOKENS[0] in first_card.text
    browser.execute_script("document.getElementById('more').click()")  # render the rest
    browser.execute_script("document.getElementById('more').click()")
    page_text = browser.find_element("css selector", "#cards").text
    assert PWN_TOKENS[1] in page_text and PWN_TOKENS[2] in page_text
    assert (
        browser.execute_script(
            "return document.querySelectorAll('#cards img, #cards script').length"
        )
        == 0
    )
    assert browser.execute_script("return typeof window.__pwned") == "undefined"

    # Nothing but the file itself was requested; nothing was logged as an error.
    # (chrome:// and chrome-untrusted:// are the browser's own pages, served from memory)
    urls = _requested_urls(browser)
    assert out.as_uri() in urls
    assert [
        url for url in urls if url.split(":", 1)[0] in ("http", "https", "ws", "wss", "ftp")
    ] == []
    severe = [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]
    assert severe == []
    browser.execute_script("window.scrollTo(0, 0)")
    _screenshot(browser, tmp_path, "spanfast-report.png")


def test_keyboard_filter_and_search(browser, tmp_path: Path) -> None:
    issues, tokens, labels, pred_probs = _token_issues()
    out = tmp_path / "token.html"
    write_html(
        out, issues, tokens, labels=labels, pred_probs=pred_probs, class_names=["O", "PER", "LOC"]
    )
    _open(browser, out)
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import Select

    assert _visible_cards(browser) == [0, 1, 2]
    body = browser.find_element("css selector", "body")
    focused = "return document.activeElement.dataset.sentence"
    body.send_keys("j")
    assert browser.execute_script(focused) == "0"
    browser.switch_to.active_element.send_keys("j")
    browser.switch_to.active_element.send_keys("j")
    assert browser.execute_script(focused) == "2"
    browser.switch_to.active_element.send_keys("k")
    assert browser.execute_script(focused) == "1"
    assert len(browser.find_elements("css selector", ".card.focused")) == 1

    select = Select(browser.find_element("id", "class-filter"))
    assert [option.text for option in select.options] == ["all", "O", "PER", "LOC"]
    select.select_by_value("PER")
    assert _visible_cards(browser) == [0]
    select.select_by_value("LOC")
    assert _visible_cards(browser) == [1, 2]
    select.select_by_value("")

    search = browser.find_element("id", "search")
    search.send_keys("paris", Keys.ENTER)
    assert _visible_cards(browser) == [1]
    assert browser.find_element("id", "count").text == "1 of 3 sentences"
    search.clear()
    search.send_keys("nothing-like-this", Keys.ENTER)
    assert _visible_cards(browser) == []
    search.clear()
    search.send_keys("2", Keys.ENTER)  # a sentence number
    assert _visible_cards(browser) == [2]
    assert [e for e in browser.get_log("browser") if e["level"] == "SEVERE"] == []


def test_100k_issues_load_within_a_generous_timeout(browser, tmp_path: Path) -> None:
    n_sentences, length = 100_000, 10
    offsets = np.arange(0, n_sentences * length + 1, length, dtype=np.int64)
    words = np.array([f"w{k}" for k in range(n_sentences * length)], dtype=object)
    rng = np.random.default_rng(0)
    labels = (rng.random(n_sentences * length) < 0.2).astype(np.int64)
    probs = rng.random(n_sentences * length)
    scores = np.sort(rng.random(n_sentences))
    issues = LabelIssues(
        sentence=np.arange(n_sentences),
        token=rng.integers(0, length, n_sentences),
        score=scores,
        given_label=np.ones(n_sentences, np.int64),
        predicted_label=np.zeros(n_sentences, np.int64),
        sentence_scores=scores,
    )
    out = tmp_path / "large.html"
    write_html(
        out,
        issues,
        Ragged(words, offsets),
        labels=Ragged(labels, offsets),
        pred_probs=Ragged(probs, offsets),
    )
    _open(browser, out, timeout=120)
    assert len(_visible_cards(browser)) == 50
    assert browser.find_element("id", "count").text == f"{n_sentences} of {n_sentences} sentences"
    search = browser.find_element("id", "search")
    from selenium.webdriver.common.keys import Keys

    search.send_keys("w999995", Keys.ENTER)
    assert _visible_cards(browser) == [99_999]


def test_span_issues_render_and_filter_by_kind(browser, tmp_path: Path) -> None:
    from selenium.webdriver.support.ui import Select

    issues, tokens, tags, probs, names = _span_issues()
    out = tmp_path / "spans.html"
    write_html(out, issues, tokens, labels=tags, pred_probs=probs, class_names=names)
    _open(browser, out)
    sentences = list(dict.fromkeys(issues.sentence.tolist()))
    assert _visible_cards(browser) == sentences
    rows = browser.execute_script(
        "return Array.from(document.querySelectorAll('#cards .card'),"
        " c => Array.from(c.querySelectorAll('td.kind'), td => td.textContent))"
    )
    assert rows == [[i.kind for i in issues if i.sentence == s] for s in sentences]
    marked = browser.execute_script(
        "return Array.from(document.querySelectorAll('#cards .card'),"
        " c => Array.from(c.querySelectorAll('.txt.flag'), t => t.textContent))"
    )
    for s, shown in zip(sentences, marked):
        spans = {t for i in issues if i.sentence == s for t in range(i.start, i.end)}
        assert shown == [tokens[s][t] for t in sorted(spans)]
    kind = Select(browser.find_element("id", "kind-filter"))
    for option in kind.options[1:]:
        kind.select_by_value(option.get_attribute("value"))
        wanted = [
            s for s in sentences if any(i.kind == option.text for i in issues if i.sentence == s)
        ]
        assert _visible_cards(browser) == wanted
    assert browser.execute_script("return typeof window.__pwned") == "undefined"
    assert [e for e in browser.get_log("browser") if e["level"] == "SEVERE"] == []
    _screenshot(browser, tmp_path, "spanfast-span-report.png")
