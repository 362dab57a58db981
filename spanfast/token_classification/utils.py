"""Text helpers for token classification: the twins of ``cleanlab.internal.token_classification_utils``.

Every function here returns what its cleanlab 2.9.0 namesake returns for the same input,
with two deliberate fixes (listed in the README):

- :func:`_replace_sentence` (and so :func:`color_sentence`) inserts ``new_word`` literally.
  cleanlab passes it to :func:`re.subn` as a replacement *template*, so a token containing a
  backslash is mangled (``"\\b"`` becomes a backspace) or raises ``re.error: bad escape``.
- :func:`process_token` with an empty ``replace`` list returns the token unchanged; cleanlab
  raises ``KeyError: ''``.

``termcolor`` is imported only when :func:`color_sentence` runs, so ``import spanfast`` does not
need it.
"""

from __future__ import annotations

import re
import string
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    import numpy.typing as npt

__all__ = [
    "get_sentence",
    "filter_sentence",
    "process_token",
    "mapping",
    "merge_probs",
    "color_sentence",
]

# Tokens written with a leading space despite being punctuation.
_SPACED_PUNCTUATION = ("-", "(")


def _is_glued_to_previous(word: str) -> bool:
    # cleanlab tests `word in string.punctuation`, a *substring* test: "", "()" and ",-." also
    # count as punctuation. Kept as is, since it decides where spaces go.
    return word in string.punctuation and word not in _SPACED_PUNCTUATION


def get_sentence(words: list[str]) -> str:
    """Join word-level tokens into a readable sentence.

    Punctuation tokens attach to the preceding word (except ``"-"`` and ``"("``), a space before
    an apostrophe is dropped (``"John 's"`` becomes ``"John's"``), as is the space after ``"("``.

    Parameters
    ----------
    words : list of str
        Word-level tokens of one sentence.

    Returns
    -------
    sentence : str
        The sentence formed by the tokens.

    Examples
    --------
    >>> from spanfast.token_classification.utils import get_sentence
    >>> get_sentence(["This", "is", "a", "sentence", "."])
    'This is a sentence.'
    >>> get_sentence(["John", "'s", "dog", "(", "Rex", ")", "barked", "-", "loudly", "!"])
    "John's dog (Rex) barked - loudly!"
    """
    pieces = [word if _is_glued_to_previous(word) else " " + word for word in words]
    return "".join(pieces).replace(" '", "'").replace("( ", "(").strip()


def _marked_sentence(words: Sequence[str], j: int, opening: str = "[[", closing: str = "]]") -> str:
    """:func:`get_sentence` with token ``j`` alone wrapped in markers, for output without colour.

    Marked by position, unlike :func:`color_sentence`, which colours every occurrence of the
    word (as cleanlab does): ``"the cat saw the dog"`` marks only the ``the`` that was flagged.
    """
    pieces = [word if _is_glued_to_previous(word) else " " + word for word in words]
    word = words[j]
    pieces[j] = pieces[j][: len(pieces[j]) - len(word)] + opening + word + closing
    return "".join(pieces).replace(" '", "'").replace("( ", "(").strip()


def filter_sentence(
    sentences: list[str],
    condition: Callable[[str], bool] | None = None,
) -> tuple[list[str], list[bool]]:
    """Keep the sentences that satisfy ``condition`` and return the mask too.

    Parameters
    ----------
    sentences : list of str
        Sentences to filter.
    condition : callable, optional
        Predicate on a sentence. By default keeps sentences longer than one character that
        contain no ``"#"``.

    Returns
    -------
    sentences : list of str
        The sentences for which ``condition`` is true, in their original order.
    mask : list
        ``condition(sentence)`` for every input sentence.

    Examples
    --------
    >>> from spanfast.token_classification.utils import filter_sentence
    >>> filter_sentence(["# Headline", "Sentence 1.", "&", "Sentence 2."])
    (['Sentence 1.', 'Sentence 2.'], [False, True, False, True])
    >>> filter_sentence(["Short one.", "A longer sentence here."], lambda s: len(s.split()) > 2)
    (['A longer sentence here.'], [False, True])
    """
    if not condition:  # cleanlab tests truthiness here too; a callable is always truthy
        condition = _is_content_sentence
    mask = [condition(sentence) for sentence in sentences]
    kept = [sentence for sentence, keep in zip(sentences, mask, strict=True) if keep]
    return kept, mask


def _is_content_sentence(sentence: str) -> bool:
    return len(sentence) > 1 and "#" not in sentence


def process_token(token: str, replace: list[tuple[str, str]] = [("#", "")]) -> str:  # noqa: B006
    """Replace substrings of a token, all in one left-to-right pass.

    Parameters
    ----------
    token : str
        Token that may contain special characters.
    replace : list of (str, str)
        Pairs ``(old, new)``: every occurrence of ``old`` in the *original* token becomes
        ``new``. Replacements are not applied to text produced by other replacements. When two
        ``old`` strings match at the same position, the one listed first wins; when ``old``
        appears twice, its last ``new`` is used.

    Returns
    -------
    processed_token : str
        The token after replacement.

    Examples
    --------
    >>> from spanfast.token_classification.utils import process_token
    >>> process_token("#Comment")
    'Comment'
    >>> process_token("Cleanlab", [("C", "a"), ("a", "C")])
    'aleCnlCb'
    """
    # dict keeps the first position of a repeated key and its last value, like cleanlab's.
    replacement_of = dict(replace)
    if not replacement_of:
        return token
    pattern = re.compile("|".join(re.escape(old) for old in replacement_of))
    return pattern.sub(lambda match: replacement_of[match.group(0)], token)


def mapping(entities: list[int], maps: list[int]) -> list[int]:
    """Map each entity ``e`` to ``maps[e]``.

    Parameters
    ----------
    entities : list of int
        Given entities (class indices).
    maps : list of int
        ``maps[e]`` is the entity that ``e`` maps to.

    Returns
    -------
    mapped_entities : list of int
        ``[maps[e] for e in entities]``.

    Examples
    --------
    >>> from spanfast.token_classification.utils import mapping
    >>> maps = [0, 1, 1, 2, 2]  # O, B-PER, I-PER, B-LOC, I-LOC -> O, PER, LOC
    >>> mapping([0, 0, 4, 4, 3, 4, 0, 2], maps)
    [0, 0, 2, 2, 2, 2, 0, 1]
    """
    return [maps[entity] for entity in entities]


def merge_probs(probs: npt.NDArray[Any], maps: list[int]) -> npt.NDArray[Any]:
    """Merge columns of predicted probabilities according to a class mapping.

    Parameters
    ----------
    probs : np.ndarray, shape (N, K)
        Predicted probabilities of N tokens for the model's K classes.
    maps : list of int
        Column ``k`` of ``probs`` is added to column ``maps[k]`` of the result; a negative
        ``maps[k]`` drops it. If ``-1`` occurs in ``maps``, the rows are renormalized to sum to 1.

    Returns
    -------
    probs_merged : np.ndarray, shape (N, max(maps) + 1)
        Merged probabilities, in the dtype of ``probs``.

    Examples
    --------
    >>> import numpy as np
    >>> from spanfast.token_classification.utils import merge_probs
    >>> probs = np.array([[0.55, 0.0125, 0.0375, 0.1, 0.3], [0.1, 0.8, 0, 0.075, 0.025]])
    >>> merge_probs(probs, [0, 1, 1, 2, 2])
    array([[0.55, 0.05, 0.4 ],
           [0.1 , 0.8 , 0.1 ]])
    >>> merge_probs(np.array([[0.2, 0.3, 0.5]]), [0, -1, 1])
    array([[0.28571429, 0.71428571]])
    """
    probs = np.asarray(probs)
    n_merged = int(np.max(maps)) + 1
    probs_merged = np.zeros((len(probs), n_merged), dtype=probs.dtype)
    # Add source columns one at a time, in column order: the same float round-off as cleanlab.
    for column in range(probs.shape[1]):
        target = maps[column]
        if target >= 0:
            probs_merged[:, target] += probs[:, column]
    if -1 in maps:
        probs_merged /= probs_merged.sum(axis=1)[:, np.newaxis]
    return probs_merged


def color_sentence(sentence: str, word: str) -> str:
    """Color every occurrence of ``word`` in ``sentence`` red (ANSI escape codes).

    Whole-word occurrences are colored; if there are none, every substring occurrence is.

    Parameters
    ----------
    sentence : str
        Sentence to search.
    word : str
        Token to highlight; assumed to occur in ``sentence``.

    Returns
    -------
    colored_sentence : str
        ``sentence`` with ``word`` wrapped in ``termcolor``'s red escape codes.

    Examples
    --------
    >>> from spanfast.token_classification.utils import color_sentence
    >>> color_sentence("This is a sentence. Another sentence.", "sentence")
    'This is a \\x1b[31msentence\\x1b[0m. Another \\x1b[31msentence\\x1b[0m.'
    """
    return _replace_sentence(sentence=sentence, word=word, new_word=_red(word))


def _red(word: str) -> str:
    """``word`` in red, exactly as cleanlab prints it (termcolor, forced colour).

    termcolor is optional: without it the same ANSI codes are written directly.
    """
    try:
        from termcolor import colored
    except ImportError:
        return f"\x1b[31m{word}\x1b[0m"
    return colored(word, "red", force_color=True)


def _replace_sentence(sentence: str, word: str, new_word: str) -> str:
    """Replace whole-word occurrences of ``word`` by ``new_word``, else every occurrence.

    Unlike cleanlab, ``new_word`` is inserted literally, never read as a regex template.

    Examples
    --------
    >>> from spanfast.token_classification.utils import _replace_sentence
    >>> _replace_sentence("a cat scattered", "cat", "dog")
    'a dog scattered'
    >>> _replace_sentence("Hello, world.", ".", "!")
    'Hello, world!'
    >>> _replace_sentence("path C:\\\\dir", "C:\\\\dir", "<C:\\\\dir>")
    'path <C:\\\\dir>'
    """
    whole_word = re.compile(r"\b" + re.escape(word) + r"\b")
    new_sentence, n_replaced = whole_word.subn(lambda _match: new_word, sentence)
    if n_replaced == 0:
        # No whole-word match (e.g. the word starts or ends with punctuation).
        new_sentence = sentence.replace(word, new_word)
    return new_sentence
