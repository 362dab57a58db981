"""Generate ``example_tags.npz``, the BIO-tagged example (PER / ORG / LOC) bundled with spanfast.

Synthetic, and says so: sentences from templates and the word lists of
``_make_example``; true BIO tags from the templates; entity-level annotation
mistakes planted on purpose, each recorded with its kind (the kinds of
:func:`spanfast.find_span_issues`):

- missed: a true entity left untagged;
- spurious: an ordinary word tagged as an entity;
- boundary: an entity's first or last token left out, or the word before / after
  it pulled in;
- type: the right extent, the wrong type (more often for names that are also
  places or firms: "Washington", "Morgan Stanley");
- boundary+type: both;
- malformed: a tag sequence BIO forbids (the entity opened with ``I-X``, or an
  ``I-Y`` inside an X entity).

The simulated model is a softmax over the 7 tags around the *true* tags:
confident inside entities and on ordinary words, less so on an entity's first
and last token and on the words next to it, torn between two types on the
ambiguous names, and confidently wrong on a few tokens.

``python -m spanfast.data._make_tagged_example [OUT_DIR]`` regenerates the file
byte for byte (one seeded generator, probabilities rounded to 4 decimals, the
fixed-date zip writer of ``_make_example``).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from ._make_example import (
    AMBIGUOUS_FIRST_NAMES,
    AMBIGUOUS_LAST_NAMES,
    FIRST_NAMES,
    LAST_NAMES,
    ORGANISATIONS,
    PLACES,
    write_npz,
)

SEED = 20_251_212
N_SENTENCES = 500
FILENAME = "example_tags.npz"
CLASS_NAMES = ("O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC")
TYPES = ("PER", "ORG", "LOC")
KINDS = ("missed", "spurious", "boundary", "type", "boundary+type", "malformed")

TEMPLATES = (
    "{PER} , who works for {ORG} , said on Monday that the plan was sound .",
    "{PER} was born in {LOC} and later moved to {LOC} with her family .",
    "Shares of {ORG} rose after {PER} met investors in {LOC} .",
    "According to {ORG} , the talks in {LOC} will resume next week .",
    "{PER} and {PER} signed the agreement for {ORG} in {LOC} .",
    "The new office of {ORG} opens in {LOC} in March .",
    "Police in {LOC} said {PER} had been questioned about the fire .",
    "{ORG} appointed {PER} as its chief executive , replacing {PER} .",
    "Asked about the merger , {PER} said {ORG} was confident .",
    "Thousands marched through {LOC} on Sunday , organisers said .",
)
WORDS_NEAR = ("said", "and", "the", "of", "in", "told", "from", "was")

# Probabilities of each planted mistake, per true entity (spurious: per sentence).
P_MISSED, P_BOUNDARY, P_TYPE, P_BOUNDARY_TYPE, P_MALFORMED = 0.04, 0.05, 0.04, 0.02, 0.03
P_TYPE_AMBIGUOUS = 0.25
P_SPURIOUS = 0.08
MODEL_ERROR_RATE = 0.002


def _tag(kind: str, begin: bool) -> int:
    return CLASS_NAMES.index(("B-" if begin else "I-") + kind)


def _entity(rng: np.random.Generator, slot: str) -> tuple[list[str], str, list[str]]:
    """(tokens, type, per token the type it is easily confused with or "")."""
    if slot == "PER":
        if rng.random() < 0.15:
            first = str(rng.choice(AMBIGUOUS_FIRST_NAMES))
            return [first, str(rng.choice(LAST_NAMES))], "PER", ["LOC", ""]
        last = str(rng.choice(AMBIGUOUS_LAST_NAMES if rng.random() < 0.1 else LAST_NAMES))
        other = "LOC" if last in AMBIGUOUS_LAST_NAMES else ""
        if rng.random() < 0.8:
            return [str(rng.choice(FIRST_NAMES)), last], "PER", ["", other]
        return [last], "PER", [other]
    table = ORGANISATIONS if slot == "ORG" else PLACES
    tokens, namelike = table[int(rng.integers(len(table)))]
    tokens = [t for t in tokens if t != "the"]
    return list(tokens), slot, ["PER" if namelike else ""] * len(tokens)


def _sentence(rng: np.random.Generator):
    """Tokens, true tags, and per-token confusable type (or "")."""
    tokens: list[str] = []
    tags: list[int] = []
    confusable: list[str] = []
    for word in str(rng.choice(TEMPLATES)).split(" "):
        if word.startswith("{"):
            entity, kind, other = _entity(rng, word[1:-1])
            tokens += entity
            tags += [_tag(kind, n == 0) for n in range(len(entity))]
            confusable += other
        else:
            tokens.append(word)
            tags.append(0)
            confusable.append("")
    return tokens, np.array(tags, np.int64), confusable


def _entities(tags: np.ndarray) -> list[tuple[int, int, str]]:
    out = []
    for j, tag in enumerate(tags.tolist()):
        if tag == 0:
            continue
        name = CLASS_NAMES[tag]
        if name.startswith("B-"):
            out.append([j, j + 1, name[2:]])
        else:
            out[-1][1] = j + 1
    return [tuple(e) for e in out]


def _write(given: np.ndarray, start: int, end: int, kind: str) -> None:
    given[start:end] = [_tag(kind, n == 0) for n in range(end - start)]


def _plant(rng, words, tags, confusable, planted, sentence):
    """Given tags with planted mistakes; appends (sentence, start, end, kind) to planted."""
    given = tags.copy()
    n = len(tags)
    for start, end, kind in _entities(tags):
        other = next((c for c in confusable[start:end] if c), "")
        wrong_type = other or str(rng.choice([t for t in TYPES if t != kind]))
        p_type = P_TYPE_AMBIGUOUS if other else P_TYPE
        u = rng.random()
        can_extend = (start > 0 and tags[start - 1] == 0) or (end < n and tags[end] == 0)
        if u < P_MISSED:
            given[start:end] = 0
            planted.append((sentence, start, end, "missed"))
        elif u < P_MISSED + p_type:
            _write(given, start, end, wrong_type)
            planted.append((sentence, start, end, "type"))
        elif u < P_MISSED + p_type + P_BOUNDARY + P_BOUNDARY_TYPE and (
            end - start > 1 or can_extend
        ):
            new_kind = kind if u < P_MISSED + p_type + P_BOUNDARY else wrong_type
            label = "boundary" if new_kind == kind else "boundary+type"
            if end - start > 1 and (not can_extend or rng.random() < 0.5):
                new_start, new_end = (start + 1, end) if rng.random() < 0.4 else (start, end - 1)
            elif (
                start > 0
                and tags[start - 1] == 0
                and (end >= n or tags[end] != 0 or rng.random() < 0.5)
            ):
                new_start, new_end = start - 1, end
            else:
                new_start, new_end = start, end + 1
            given[start:end] = 0
            _write(given, new_start, new_end, new_kind)
            planted.append((sentence, min(start, new_start), max(end, new_end), label))
        elif u < P_MISSED + p_type + P_BOUNDARY + P_BOUNDARY_TYPE + P_MALFORMED:
            if end - start > 1 and rng.random() < 0.5:
                j = int(rng.integers(start + 1, end))
                given[j] = _tag(wrong_type, False)
            else:
                given[start] = _tag(kind, False)
            planted.append((sentence, start, end, "malformed"))
    if rng.random() < P_SPURIOUS:
        free = [
            j
            for j in range(1, n - 1)
            if tags[j - 1 : j + 2].tolist() == [0, 0, 0] and words[j].isalpha()
        ]
        if free:
            j = int(rng.choice(free))
            given[j] = _tag(str(rng.choice(TYPES)), True)
            planted.append((sentence, j, j + 1, "spurious"))
    return given


def _model_probs(rng, tags: np.ndarray, confusable: list[str]) -> np.ndarray:
    """Softmax of noisy logits around the true tags (one sentence)."""
    n, K = len(tags), len(CLASS_NAMES)
    inside = tags > 0
    edge = np.zeros(n, bool)  # first / last token of an entity, and the words next to one
    for start, end, _ in _entities(tags):
        edge[[start, end - 1]] = True
        edge[max(start - 1, 0)] = True
        edge[min(end, n - 1)] = True
    margin = np.where(edge, rng.normal(5.0, 1.5, n), rng.normal(7.0, 1.2, n))
    logits = rng.normal(0.0, 0.5, (n, K))
    logits[np.arange(n), tags] += margin
    for j in range(n):
        name = CLASS_NAMES[tags[j]]
        if inside[j] and confusable[j]:  # a name that is also a place or a firm
            logits[j, CLASS_NAMES.index(name[:2] + confusable[j])] += rng.normal(
                margin[j] - 2.0, 1.5
            )
        if inside[j] and edge[j]:  # B-X / I-X confusion at the edges
            logits[j, _tag(name[2:], name[0] == "I")] += rng.normal(1.5, 1.5)
        if not inside[j] and edge[j]:  # the word next to an entity may belong to it
            neighbour = tags[j + 1] if j + 1 < n and tags[j + 1] else tags[j - 1] if j else 0
            if neighbour:
                logits[j, _tag(CLASS_NAMES[neighbour][2:], False)] += rng.normal(2.0, 1.5)
    wrong = np.flatnonzero(rng.random(n) < MODEL_ERROR_RATE)
    logits[wrong, rng.integers(0, K, wrong.size)] += 9.0
    logits -= logits.max(axis=1, keepdims=True)
    probs = np.exp(logits)
    probs /= probs.sum(axis=1, keepdims=True)
    return np.clip(np.round(probs, 4), 0.0001, 1.0).astype("<f4")


def build_example(seed: int = SEED, n_sentences: int = N_SENTENCES) -> dict[str, np.ndarray]:
    """Build the tagged example as flat arrays.

    Parameters
    ----------
    seed : int
        Seed of the generator that drives every choice.
    n_sentences : int
        Number of sentences.

    Returns
    -------
    dict of str to numpy.ndarray
        ``tokens`` (UTF-8 bytes), ``labels`` (int8 given tags, mistakes planted),
        ``true_labels`` (int8), ``probs`` (float32, (T, 7)), ``offsets`` (int64),
        ``planted`` (int64 (n, 4): sentence, start, end, kind index into ``KINDS``).

    Examples
    --------
    >>> arrays = build_example(seed=1, n_sentences=5)
    >>> arrays["probs"].shape == (arrays["labels"].size, 7)
    True
    """
    rng = np.random.default_rng(seed)
    tokens, given, true, probs, lengths, planted = [], [], [], [], [], []
    for i in range(n_sentences):
        words, tags, confusable = _sentence(rng)
        tokens += words
        true.append(tags)
        given.append(_plant(rng, words, tags, confusable, planted, i))
        probs.append(_model_probs(rng, tags, confusable))
        lengths.append(len(words))
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype("<i8")
    rows = [(i, s, e, KINDS.index(k)) for i, s, e, k in planted]
    return {
        "tokens": np.array([t.encode("utf-8") for t in tokens], dtype=np.bytes_),
        "labels": np.concatenate(given).astype("<i1"),
        "true_labels": np.concatenate(true).astype("<i1"),
        "probs": np.concatenate(probs),
        "offsets": offsets,
        "planted": np.array(rows, dtype="<i8").reshape(-1, 4),
    }


def main(argv: list[str] | None = None) -> int:
    """Regenerate the bundled tagged example; return the exit status.

    Parameters
    ----------
    argv : list of str, optional
        ``[OUT_DIR]``; by default the spanfast/data package directory.

    Returns
    -------
    int
        0 on success.
    """
    argv = sys.argv[1:] if argv is None else argv
    out_dir = Path(argv[0]) if argv else Path(__file__).resolve().parent
    arrays = build_example()
    write_npz(out_dir / FILENAME, arrays)
    kinds = np.bincount(arrays["planted"][:, 3], minlength=len(KINDS))
    print(
        f"wrote {out_dir / FILENAME}: {arrays['offsets'].size - 1} sentences, "
        f"{arrays['labels'].size} tokens, planted "
        + ", ".join(f"{k} {n}" for k, n in zip(KINDS, kinds.tolist()))
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
