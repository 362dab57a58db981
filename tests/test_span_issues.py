"""spanfast.find_span_issues: span formation and matching against tests/naive.py on random
data, each kind on hand-made sentences, the flagged-tokens-inside-spans property, bad
input, and ``spanfast demo --spans``."""

from __future__ import annotations

import numpy as np
import pytest
from naive import naive_entities, naive_span_issues
from strategies import run_spanfast

from spanfast import find_span_issues
from spanfast.errors import InvalidInputError, InvalidOptionError
from spanfast.spans import SpanIssues
from spanfast.token_classification.filter import find_label_issues

BIO = ["O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC"]
BIOES = ["O", "B-PER", "I-PER", "E-PER", "S-PER", "B-ORG", "I-ORG", "E-ORG", "S-ORG"]
BILOU = [n.replace("E-", "L-").replace("S-", "U-") for n in BIOES]


def _random_tagged(rng, names, n_sentences=60, noise=0.35):
    """Random tag sequences (mostly O) and model probabilities near other random tags."""
    K = len(names)
    lengths = rng.integers(0, 12, n_sentences)
    labels, probs = [], []
    for n in lengths:
        tags = np.where(rng.random(n) < 0.5, 0, rng.integers(1, K, n))
        predicted = np.where(rng.random(n) < noise, rng.integers(0, K, n), tags)
        logits = rng.normal(0, 1, (n, K))
        logits[np.arange(n), predicted] += rng.uniform(0, 4, n)
        p = np.exp(logits)
        labels.append(tags)
        probs.append(p / p.sum(1, keepdims=True))
    return labels, probs


def _rows(issues: SpanIssues) -> list[tuple]:
    return [(r.sentence, r.start, r.end, r.kind, r.given_label, r.predicted_label) for r in issues]


def _naive(labels, probs, names, scheme):
    given = [[names[k] for k in s] for s in labels]
    predicted = [[names[k] for k in np.argmax(p, 1)] if len(p) else [] for p in probs]
    confidence = [[float(p[j, k]) for j, k in enumerate(s)] for s, p in zip(labels, probs)]
    best = [[float(x) for x in p.max(1)] if len(p) else [] for p in probs]
    return naive_span_issues(given, predicted, scheme, confidence, best)


def _check_ranked(issues: SpanIssues) -> None:
    keys = list(zip(issues.score.tolist(), issues.sentence.tolist(), issues.start.tolist()))
    assert keys == sorted(keys)
    assert np.all((issues.score >= 0) & (issues.score <= 1))


@pytest.mark.parametrize("names, scheme", [(BIO, "BIO"), (BIOES, "BIOES"), (BILOU, "BIOES")])
@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("score_method", ["likelihood_ratio", "min_self_confidence"])
def test_matches_naive_reference_on_random_tags(names, scheme, seed, score_method):
    rng = np.random.default_rng(seed)
    labels, probs = _random_tagged(rng, names)
    issues = find_span_issues(
        labels, probs, class_names=names, filter_by=None, score_method=score_method
    )
    plain = [n.replace("L-", "E-").replace("U-", "S-") for n in names]
    expected = _naive(labels, probs, plain, scheme)
    assert sorted(_rows(issues), key=str) == sorted([r[:6] for r in expected], key=str)
    column = 6 if score_method == "min_self_confidence" else 7
    want = {r[:6]: r[column] for r in expected}
    for row, score in zip(_rows(issues), issues.score.tolist()):
        assert score == pytest.approx(want[row], rel=1e-9, abs=1e-12)
    _check_ranked(issues)


@pytest.mark.parametrize("seed", range(4))
def test_matches_naive_reference_on_random_span_data(seed):
    rng = np.random.default_rng(seed)
    lengths = rng.integers(0, 15, 80)
    labels = [(rng.random(n) < 0.4).astype(int) for n in lengths]
    probs = [np.round(rng.random(n), 1) for n in lengths]  # exact 0.5s: not inside
    issues = find_span_issues(labels, probs, filter_by=None)
    names = ["O", "I-1"]
    two = [np.stack([1 - p, p], 1) if len(p) else np.zeros((0, 2)) for p in probs]
    expected = _naive(labels, two, names, "IO")
    expected = [
        (i, s, e, k, None if g is None else int(g), None if p is None else int(p))
        for i, s, e, k, g, p, *_ in expected
    ]
    assert sorted(_rows(issues), key=str) == sorted(expected, key=str)
    assert {r.kind for r in issues} <= {"missed", "spurious", "boundary"}
    _check_ranked(issues)


def test_naive_entities_reads_the_schemes():
    assert naive_entities(["B-PER", "I-PER", "O", "I-ORG"], "BIO") == [
        [0, 2, "PER", False],
        [3, 4, "ORG", True],
    ]
    assert naive_entities(["B-PER", "I-ORG", "I-ORG"], "BIO") == [[0, 3, "PER", True]]
    assert naive_entities(["B-PER", "E-PER", "S-ORG", "B-LOC"], "BIOES") == [
        [0, 2, "PER", False],
        [2, 3, "ORG", False],
        [3, 4, "LOC", True],
    ]


def _one_hot(tags, K, p=0.9):
    probs = np.full((len(tags), K), (1 - p) / (K - 1))
    probs[np.arange(len(tags)), tags] = p
    return probs


def _tagged(given: str, predicted: str, names=BIO):
    index = {n: k for k, n in enumerate(names)}
    labels = [[index[t] for t in given.split()]]
    probs = [_one_hot([index[t] for t in predicted.split()], len(names))]
    return find_span_issues(labels, probs, class_names=names, filter_by=None)


@pytest.mark.parametrize(
    "given, predicted, expected",
    [
        ("O B-PER I-PER O", "O O O O", [(1, 3, "spurious", "PER", None)]),
        ("O O O O", "O B-ORG I-ORG O", [(1, 3, "missed", None, "ORG")]),
        ("B-PER I-PER I-PER O", "B-PER I-PER O O", [(0, 3, "boundary", "PER", "PER")]),
        ("O B-PER O", "B-PER I-PER O", [(0, 2, "boundary", "PER", "PER")]),
        ("O B-LOC I-LOC", "O B-PER I-PER", [(1, 3, "type", "LOC", "PER")]),
        ("B-ORG I-ORG O", "O B-PER I-PER", [(0, 3, "boundary+type", "ORG", "PER")]),
        ("O I-PER I-PER", "O B-PER I-PER", [(1, 3, "malformed", "PER", "PER")]),
        ("B-PER I-ORG I-PER", "B-PER I-PER I-PER", [(0, 3, "malformed", "PER", "PER")]),
        ("B-PER I-PER O", "B-PER I-PER O", []),
        # two given entities, one predicted: the first (by position) is the boundary
        (
            "B-PER B-PER",
            "B-PER I-PER",
            [(0, 2, "boundary", "PER", "PER"), (1, 2, "spurious", "PER", None)],
        ),
    ],
)
def test_each_kind_on_hand_made_sentences(given, predicted, expected):
    issues = _tagged(given, predicted)
    assert sorted((r.start, r.end, r.kind, r.given_label, r.predicted_label) for r in issues) == (
        sorted(expected)
    )


def test_bioes_unclosed_entity_is_malformed():
    issues = _tagged("B-PER I-PER O", "B-PER E-PER O", BIOES)
    assert [(r.start, r.end, r.kind) for r in issues] == [(0, 2, "malformed")]
    assert len(_tagged("B-PER E-PER S-ORG", "B-PER E-PER S-ORG", BIOES)) == 0


def test_lower_score_for_more_confident_model():
    names = BIO
    labels = [[0, 0, 0], [0, 0, 0]]
    probs = [_one_hot([0, 1, 2], 7, 0.99), _one_hot([0, 1, 2], 7, 0.5)]
    issues = find_span_issues(labels, probs, class_names=names, filter_by=None)
    assert issues.sentence.tolist() == [0, 1]
    assert issues.score[0] < issues.score[1]


@pytest.mark.parametrize("names", [BIO, BIOES])
@pytest.mark.parametrize("seed", range(5))
def test_every_flagged_token_lies_inside_a_span_issue(names, seed):
    rng = np.random.default_rng(100 + seed)
    labels, probs = _random_tagged(rng, names, n_sentences=120, noise=0.2)
    scheme = "BIO" if names is BIO else "BIOES"
    issues = find_span_issues(labels, probs, class_names=names)
    covered = {(r.sentence, t) for r in issues for t in range(r.start, r.end)}
    flagged = find_label_issues(labels, probs)
    assert flagged
    for i, j in flagged:
        if (i, j) in covered:
            continue
        # the documented exception: both tag sequences make the same entity here
        given = naive_entities([names[k] for k in labels[i]], scheme)
        predicted = naive_entities([names[k] for k in np.argmax(probs[i], 1)], scheme)
        at_j = [[e[:3] for e in entities if e[0] <= j < e[1]] for entities in (given, predicted)]
        assert at_j[0] == at_j[1] != [], (i, j)


@pytest.mark.parametrize("seed", range(3))
def test_every_flagged_token_lies_inside_a_span_issue_span_data(seed):
    from spanfast.span_classification import find_label_issues as find_span_label_issues

    rng = np.random.default_rng(seed)
    lengths = rng.integers(1, 20, 200)
    labels = [(rng.random(n) < 0.3).astype(int) for n in lengths]
    probs = [np.clip(lab * 0.8 + rng.normal(0.1, 0.3, n), 0, 1) for lab, n in zip(labels, lengths)]
    issues = find_span_issues(labels, probs)
    covered = {(r.sentence, t) for r in issues for t in range(r.start, r.end)}
    flagged = find_span_label_issues(labels, probs)
    assert flagged and set(flagged) <= covered


def test_table_outputs():
    issues = _tagged("O B-LOC I-LOC O O", "O B-PER I-PER O B-ORG")
    assert len(issues) == 2
    frame = issues.to_pandas()
    assert list(frame.columns) == [
        "sentence",
        "start",
        "end",
        "kind",
        "given_label",
        "predicted_label",
        "score",
    ]
    table = issues.to_arrow()
    assert table.num_rows == 2
    assert set(table.column("kind").to_pylist()) == {"type", "missed"}
    assert None in table.column("given_label").to_pylist()
    page = issues._repr_html_()
    assert page.count("<tr>") == 3 and "boundary" not in page


def test_span_data_class_names_name_the_label():
    issues = find_span_issues(
        [[0, 1, 1]], [np.array([0.1, 0.1, 0.9])], class_names=["O", "PER"], filter_by=None
    )
    assert [(r.kind, r.given_label, r.predicted_label) for r in issues] == [
        ("boundary", "PER", "PER")
    ]


@pytest.mark.parametrize(
    "kwargs, field, words",
    [
        (dict(class_names=BIO, scheme="BILUO-X"), "scheme", "not a known tag scheme"),
        (dict(class_names=BIO[:-1]), "class_names", "6 names but pred_probs has 7"),
        (
            dict(class_names=["O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "X-LOC"]),
            "class_names",
            "class_names[6] = 'X-LOC'",
        ),
        (dict(class_names=BIOES[:7], scheme="IOB2"), "class_names", "class_names[3] = 'E-PER'"),
        (dict(class_names=["O", "PER", "ORG", "LOC", "a", "b", "c"]), "class_names", "scheme="),
        (dict(), "class_names", "needs class_names"),
        (dict(class_names=BIO[:3], task="span"), "class_names", "7 span classes"),
        (dict(task="span", scheme="BIO"), "scheme", "several span classes"),
    ],
)
def test_bad_input_is_named_before_any_work(kwargs, field, words):
    labels = [[0, 1, 2]]
    probs = [_one_hot([0, 1, 2], 7)]
    with pytest.raises(InvalidInputError) as caught:
        find_span_issues(labels, probs, **kwargs)
    assert caught.value.field == field
    if words:
        assert words in str(caught.value)


def test_bad_input_span_data_and_options():
    with pytest.raises(InvalidInputError, match="3 names") as caught:
        find_span_issues([[0, 1]], [np.array([0.2, 0.8])], class_names=["O", "A", "B"])
    assert caught.value.field == "class_names"
    with pytest.raises(InvalidInputError) as caught:
        find_span_issues([[0, 1]], [np.array([0.2, 0.8])], scheme="BIO")
    assert caught.value.field == "scheme"
    with pytest.raises(InvalidInputError) as caught:
        find_span_issues([[0, 1]], [np.array([0.2, 0.8])], task="token")
    with pytest.raises(InvalidOptionError):
        find_span_issues([[0, 1]], [np.array([0.2, 0.8])], task="tokens")
    with pytest.raises(InvalidOptionError):
        find_span_issues([[0, 1]], [np.array([0.2, 0.8])], score_method="mean")
    with pytest.raises(InvalidInputError) as caught:  # the input boundary's own checks
        find_span_issues([[0, 1]], [np.array([0.2, 0.8, 0.5])], filter_by=None)
    assert caught.value.sentence == 0


def test_empty_and_all_outside():
    issues = find_span_issues([[], [0, 0]], [np.zeros(0), np.array([0.1, 0.2])], filter_by=None)
    assert len(issues) == 0 and list(issues) == []
    assert issues.to_pandas().shape == (0, 7)


def test_exported_from_spanfast():
    import spanfast

    assert spanfast.find_span_issues is find_span_issues


def test_bundled_example_meets_the_target():
    """Higher recall at k than the grouped token issues, and the kind right for >= 90%."""
    from spanfast.data import load_tagged_example
    from spanfast.spans.measure import baseline_issues, evaluate

    example = load_tagged_example()
    issues = find_span_issues(example.labels, example.pred_probs, class_names=example.class_names)
    lines = evaluate([(r.sentence, r.start, r.end, r.kind) for r in issues], example.planted)
    baseline = evaluate(
        baseline_issues(example.labels, example.pred_probs, class_names=example.class_names),
        example.planted,
    )[-1]
    everything = lines[-1]
    assert all(line.planted > 0 for line in lines)  # every kind is planted
    assert everything.found > baseline.found
    assert everything.kind_right >= 0.9 * everything.found


@pytest.mark.filterwarnings("ignore:May not flag all label issues")  # classes with no token
def test_baseline_groups_flagged_tokens_into_entities():
    from spanfast.spans.measure import baseline_issues

    names = BIO
    labels = [[0, 1, 2, 0], [0, 0, 0]]
    probs = [_one_hot([0, 0, 0, 0], 7, 0.99), _one_hot([0, 3, 0], 7, 0.99)]
    # sentence 0: both tokens of the given PER flagged -> one row for the given entity;
    # sentence 1: the flagged token lies in a predicted ORG entity only
    assert sorted(baseline_issues(labels * 20, probs * 20, class_names=names))[:2] == [
        (0, 1, 3, None),
        (1, 1, 2, None),
    ]


def test_demo_spans_prints_the_table():
    done = run_spanfast("demo", "--spans", "--top", "3", "--no-color", cwd=None)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    for word in ("missed", "spurious", "boundary+type", "malformed", "baseline", "kind right"):
        assert word in out
    all_line = next(line for line in out.splitlines() if line.startswith("all "))
    assert "%" in all_line
    assert out.count(" [[ ") == 3  # the three issues, each span marked


# ---------------------------------------------------------------------------------------
# Several span classes: (T, C) probabilities, each class its own single-class problem


def _span_classes(rng, C, n_sentences=70):
    """Random multi-class span data: per-sentence (T, C) 0/1 labels and probabilities
    rounded to 0.1 (so some are exactly 0.5: not inside)."""
    lengths = rng.integers(0, 14, n_sentences)
    labels = [(rng.random((n, C)) < 0.35).astype(np.uint8) for n in lengths]
    probs = [np.round(np.clip(y * 0.6 + rng.random((len(y), C)) * 0.5, 0, 1), 1) for y in labels]
    return labels, probs


def _naive_span_classes(labels, probs, names):
    """Every class's column through the naive single-class reference, rows named by
    the class: (sentence, start, end, kind, given, predicted, min, ratio)."""
    rows = []
    for c, name in enumerate(names):
        column = [y[:, c].astype(int) for y in labels]
        two = [np.stack([1 - p[:, c], p[:, c]], 1) for p in probs]
        for i, s, e, k, g, p, low, ratio in _naive(column, two, ["O", "I-1"], "IO"):
            rows.append(
                (i, s, e, k, None if g is None else name, None if p is None else name, low, ratio)
            )
    return rows


@pytest.mark.parametrize("C", [1, 2, 5])
@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("score_method", ["likelihood_ratio", "min_self_confidence"])
def test_several_span_classes_match_the_naive_reference_per_class(C, seed, score_method):
    rng = np.random.default_rng(100 + seed)
    labels, probs = _span_classes(rng, C)
    names = [f"C{c}" for c in range(1, C + 1)]
    issues = find_span_issues(
        labels, probs, task="span", class_names=names, filter_by=None, score_method=score_method
    )
    expected = _naive_span_classes(labels, probs, names)
    assert sorted(_rows(issues), key=str) == sorted([r[:6] for r in expected], key=str)
    column = 6 if score_method == "min_self_confidence" else 7
    want = {r[:6]: r[column] for r in expected}
    for row, score in zip(_rows(issues), issues.score.tolist()):
        assert score == pytest.approx(want[row], rel=1e-9, abs=1e-12)
    assert {r.kind for r in issues} <= {"missed", "spurious", "boundary"}
    _check_ranked(issues)
    # without class names, a class is named by its id 1..C
    unnamed = find_span_issues(labels, probs, task="span", filter_by=None)
    assert {r.given_label or r.predicted_label for r in unnamed} <= set(range(1, C + 1))


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("filter_by", ["prune_by_noise_rate", "both"])
def test_several_span_classes_filtered_as_each_class_alone(seed, filter_by):
    from spanfast.span_classification import find_label_issues as find_span_label_issues

    rng = np.random.default_rng(200 + seed)
    C = 4
    labels, probs = _span_classes(rng, C, n_sentences=150)
    id_lists = [[[c + 1 for c in np.flatnonzero(row)] or [0] for row in y] for y in labels]
    issues = find_span_issues(id_lists, probs, task="span", filter_by=filter_by)
    flagged = find_span_label_issues(labels, probs)
    for c in range(1, C + 1):
        alone = find_span_issues(
            [y[:, c - 1] for y in labels],
            [p[:, c - 1] for p in probs],
            class_names=["O", c],
            filter_by=filter_by,
        )
        mine = [r for r in issues if c in (r.given_label, r.predicted_label)]
        assert [tuple(r) for r in mine] == [tuple(r) for r in alone]
        if filter_by == "prune_by_noise_rate":
            covered = {(r.sentence, t) for r in mine for t in range(r.start, r.end)}
            assert set(flagged[c]) <= covered
    by_class = [([y[:, c] for y in labels], [p[:, c] for p in probs]) for c in range(C)]
    assert len(issues) == sum(len(find_span_issues(*d, filter_by=filter_by)) for d in by_class)


def test_several_span_classes_bad_labels_named_before_any_work():
    probs = [np.full((3, 2), 0.4)]
    with pytest.raises(InvalidInputError) as caught:
        find_span_issues([[[1], [3], [0]]], probs, task="span")
    assert (caught.value.field, caught.value.sentence, caught.value.token) == ("labels", 0, 1)
    assert caught.value.class_ == 3
    with pytest.raises(InvalidInputError) as caught:
        find_span_issues([np.zeros((3, 3), np.uint8)], probs, task="span")
    assert caught.value.field == "labels"
