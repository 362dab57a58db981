"""spanfast.token_classification.utils against cleanlab.internal.token_classification_utils.

Every function is compared with its cleanlab 2.9.0 twin on randomized input. The two deliberate
differences (backslashes in ``_replace_sentence``/``color_sentence``, empty ``replace`` in
``process_token``) are tested on their own, not against the oracle.
"""

from __future__ import annotations

import inspect
import re

import cleanlab.internal.token_classification_utils as oracle
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from spanfast.token_classification import utils

# Punctuation (alone, as substrings of string.punctuation, and inside words), regex specials,
# repeated words, quotes, whitespace and the empty token. No backslash: see test_backslash_*.
VOCABULARY = [
    "the", "The", "cat", "sat", "on", "mat", "cat", "Paris",
    ".", ",", "(", ")", "-", "'s", "'", "!", "?", ":", "()", ",-.", "''", "...",
    "a+b", "[x]", "$5", "C++", "?weird", "U.S.", "can't", "x*y", "^up", "a|b", "{1}",
    "New York", " ", "", "é", "naïve", "_id", "#tag", "( x", "a 'b",
]  # fmt: skip
words = st.lists(st.sampled_from(VOCABULARY), max_size=12)

FUNCTIONS = [
    "get_sentence",
    "filter_sentence",
    "process_token",
    "mapping",
    "merge_probs",
    "color_sentence",
    "_replace_sentence",
]


@pytest.mark.parametrize("name", FUNCTIONS)
def test_signature_matches_cleanlab(name):
    ours = inspect.signature(getattr(utils, name)).parameters
    theirs = inspect.signature(getattr(oracle, name)).parameters
    assert [(p.name, p.kind, p.default) for p in ours.values()] == [
        (p.name, p.kind, p.default) for p in theirs.values()
    ]


@given(words)
def test_get_sentence(tokens):
    assert utils.get_sentence(tokens) == oracle.get_sentence(tokens)


def test_get_sentence_examples():
    assert utils.get_sentence([]) == ""
    assert utils.get_sentence(["John", "'s", "(", "big", ")", "dog", "-", "Rex", "."]) == (
        "John's (big) dog - Rex."
    )
    # string.punctuation is tested as a substring, like cleanlab: "()" glues, "(" does not.
    assert utils.get_sentence(["a", "()", "b", "(", "c"]) == "a() b (c"


sentences = st.lists(st.sampled_from(["", "#", "a", "ab", "# Headline", "Sentence 1.", "&"]))


@given(sentences)
def test_filter_sentence_default_condition(texts):
    assert utils.filter_sentence(texts) == oracle.filter_sentence(texts)


@given(sentences, st.integers(0, 3))
def test_filter_sentence_custom_condition(texts, min_words):
    def condition(sentence):
        return len(sentence.split()) if len(sentence.split()) > min_words else 0

    assert utils.filter_sentence(texts, condition) == oracle.filter_sentence(texts, condition)


SPECIALS = "#a.b*C+(|)\\$^[]{}?é"
token_text = st.text(alphabet=SPECIALS, max_size=10)
replace_rules = st.lists(
    st.tuples(st.text(alphabet=SPECIALS, max_size=3), st.text(alphabet="xyZ\\", max_size=2)),
    min_size=1,
    max_size=4,
)


@given(token_text, replace_rules)
def test_process_token(token, replace):
    assert utils.process_token(token, replace) == oracle.process_token(token, replace)


@given(token_text)
def test_process_token_default(token):
    assert utils.process_token(token) == oracle.process_token(token)


def test_process_token_empty_replace_is_identity():
    # Deliberate difference: cleanlab raises KeyError('') for replace=[].
    with pytest.raises(KeyError):
        oracle.process_token("#tag", [])
    assert utils.process_token("#tag", []) == "#tag"


@given(st.data())
def test_mapping(data):
    maps = data.draw(st.lists(st.integers(-1, 5), min_size=1, max_size=8))
    entities = data.draw(st.lists(st.integers(-len(maps), len(maps) - 1), max_size=10))
    assert utils.mapping(entities, maps) == oracle.mapping(entities, maps)


@given(st.data())
def test_merge_probs(data):
    n_classes = data.draw(st.integers(1, 6))
    n_tokens = data.draw(st.integers(0, 6))
    dtype = data.draw(st.sampled_from([np.float32, np.float64]))
    maps = data.draw(st.lists(st.integers(-1, 3), min_size=n_classes, max_size=n_classes + 1))
    if max(maps) < 0:
        maps[0] = 0
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    probs = rng.dirichlet(np.ones(n_classes), size=n_tokens).astype(dtype)
    with np.errstate(invalid="ignore"):  # a row whose kept columns are all 0 becomes NaN
        ours = utils.merge_probs(probs, maps)
        theirs = oracle.merge_probs(probs, maps)
    assert ours.dtype == theirs.dtype
    np.testing.assert_array_equal(ours, theirs)


@given(st.data())
def test_color_and_replace_sentence(data):
    tokens = data.draw(st.lists(st.sampled_from(VOCABULARY), min_size=1, max_size=10))
    word = data.draw(st.sampled_from(tokens))
    sentence = oracle.get_sentence(tokens)
    assert utils.color_sentence(sentence, word) == oracle.color_sentence(sentence, word)
    assert utils._replace_sentence(sentence, word, "<" + word + ">") == (
        oracle._replace_sentence(sentence, word, "<" + word + ">")
    )


def test_color_sentence_examples():
    assert utils.color_sentence("a cat scattered cats", "cat") == (
        "a \x1b[31mcat\x1b[0m scattered cats"
    )
    # No whole-word match: every occurrence is colored.
    assert utils.color_sentence("Hi. Bye.", ".") == "Hi\x1b[31m.\x1b[0m Bye\x1b[31m.\x1b[0m"


def test_backslash_token_is_inserted_literally():
    # Deliberate difference: cleanlab reads new_word as a regex template, so a backslash in the
    # token raises (bad escape) or is mangled; spanfast inserts it literally.
    sentence = r"open C:\dir now"
    with pytest.raises(re.error):
        oracle.color_sentence(sentence, r"C:\dir")
    assert utils.color_sentence(sentence, r"C:\dir") == "open \x1b[31mC:\\dir\x1b[0m now"
    assert oracle._replace_sentence("a b", "b", r"\b") == "a \x08"
    assert utils._replace_sentence("a b", "b", r"\b") == r"a \b"


def test_color_sentence_without_termcolor_prints_the_same_codes(monkeypatch):
    """termcolor is optional: the fallback writes the codes termcolor would."""
    import sys

    expected = utils.color_sentence("a red word", "red")
    monkeypatch.setitem(sys.modules, "termcolor", None)  # makes `import termcolor` fail
    assert utils.color_sentence("a red word", "red") == expected == "a \x1b[31mred\x1b[0m word"
