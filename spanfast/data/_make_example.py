"""Generate ``example_spans.npz``, the example span dataset bundled with spanfast.

The dataset is synthetic and says so: news- and biography-like sentences are
built from templates and word lists, every token that belongs to a person name
is a span token (label 1), a few percent of the token labels are then corrupted
the way human annotators get them wrong, and a per-token probability
``p(token in span)`` is drawn around the *true* labels the way a decent but
imperfect tagger would produce it.

Annotation mistakes planted (each recorded in ``planted``):

- missed span: every token of a person name labelled 0;
- truncated span: the first or last token of a multi-token name left out;
- extended span: the title before a name ("Dr.", "Senator") or the token after
  it ("'s", ",") labelled as part of the span;
- spurious span: an organisation or place that looks like a name
  ("Morgan Stanley", "Houston") labelled as a person;
- stray token: an isolated ordinary token labelled 1.

The model is confident on easy tokens, less so on ambiguous names ("Jordan",
"Washington"), middle initials, name particles ("van", "de") and name-like
organisations and places, and is confidently wrong on a few tokens, so that
confident learning finds many but not all planted mistakes, plus some false
alarms.

Run ``python -m spanfast.data._make_example [OUT_DIR]`` to regenerate the file
(by default next to this module). The output is byte-for-byte reproducible: one
seeded :class:`numpy.random.Generator`, probabilities rounded to 4 decimals,
and an uncompressed zip with fixed member dates, so neither the clock nor the
zlib build changes a byte.
"""

from __future__ import annotations

import argparse
import io
import sys
import zipfile
from pathlib import Path
from typing import TypeVar

import numpy as np

_T = TypeVar("_T")

SEED = 20_251_104
N_SENTENCES = 400
FILENAME = "example_spans.npz"

# ---------------------------------------------------------------------------
# Word lists
# ---------------------------------------------------------------------------

FIRST_NAMES = (
    "Maria", "James", "Aisha", "Wei", "Olga", "Carlos", "Priya", "Kwame", "Sofia", "Daniel",
    "Yuki", "Ahmed", "Elena", "Thomas", "Fatima", "Lukas", "Rosa", "Mateo", "Ingrid", "Samuel",
    "Leila", "Hiroshi", "Chloe", "Ivan", "Nadia", "Oliver", "Amara", "Rafael", "Hannah", "Dmitri",
    "Zanele", "Pierre", "Mei", "Kofi", "Isabel", "Arjun", "Lena", "Tariq", "Emma", "Jonas",
    "Chiara", "Diego", "Anika", "Marcus", "Noor", "Felipe", "Astrid", "Bongani", "Ruth", "Kenji",
    "José", "Zoë", "Søren", "Ayşe",
)  # fmt: skip
# First names that are also places or common words: the model is unsure of them.
AMBIGUOUS_FIRST_NAMES = (
    "Jordan", "Austin", "Florence", "Victoria", "Charlotte", "Georgia", "Paris", "Dallas",
    "Sydney", "Chelsea", "Grace", "Hope",
)  # fmt: skip
LAST_NAMES = (
    "Okafor", "Schmidt", "Nakamura", "Garcia", "Ivanova", "Patel", "Mensah", "Rossi", "Chen",
    "Johansson", "Haddad", "Kowalski", "Silva", "Dubois", "Novak", "Mbeki", "Tanaka", "Fernandez",
    "Lindqvist", "Murphy", "Osei", "Kim", "Horvath", "Moreau", "Nguyen", "Abdullah", "Costa",
    "Fischer", "Adeyemi", "Kapoor", "Volkov", "Larsen", "O'Brien", "Yilmaz", "Santos", "Brennan",
    "Achebe", "Sato", "Müller", "Núñez", "Petrov", "Ferreira", "Kariuki", "Hughes", "Castillo",
)  # fmt: skip
AMBIGUOUS_LAST_NAMES = (
    "Washington", "Lincoln", "Houston", "Ford", "Morgan", "Jackson", "Young", "Price", "King",
    "Rich", "Bush", "Fairfax",
)  # fmt: skip
PARTICLE_LAST_NAMES = (("van", "Dijk"), ("de", "Souza"), ("van", "der", "Berg"), ("da", "Silva"))
TITLES = (
    "Dr.", "Mr.", "Ms.", "Mrs.", "Prof.", "Senator", "President", "Judge", "General", "Coach",
    "Minister", "Governor",
)  # fmt: skip
# (tokens, looks like a person name)
ORGANISATIONS = (
    (("Reuters",), False), (("the", "World", "Bank"), False), (("Ford", "Motor", "Company"), True),
    (("Morgan", "Stanley"), True), (("Goldman", "Sachs"), True), (("Johnson", "&", "Johnson"), True),
    (("Wells", "Fargo"), True), (("Harvard", "University"), True), (("the", "United", "Nations"), False),
    (("Toyota",), False), (("Microsoft",), False), (("Unilever",), False), (("the", "Red", "Cross"), False),
    (("Oxford", "University"), False), (("Nokia",), False), (("Samsung", "Electronics"), False),
    (("the", "European", "Central", "Bank"), False), (("Airbus",), False), (("Dell", "Technologies"), True),
    (("Walt", "Disney"), True), (("Siemens",), False), (("Safaricom",), False), (("Petrobras",), False),
    (("the", "Ministry", "of", "Health"), False), (("Stanford", "University"), True),
    (("Lloyds", "Bank"), True), (("the", "Bank", "of", "England"), False), (("Tata", "Motors"), False),
)  # fmt: skip
PLACES = (
    (("Paris",), True), (("New", "York"), False), (("Nairobi",), False), (("São", "Paulo"), False),
    (("Washington",), True), (("Houston",), True), (("Lagos",), False), (("Berlin",), False),
    (("Mumbai",), False), (("Tokyo",), False), (("Buenos", "Aires"), False), (("Austin",), True),
    (("Florence",), True), (("Cape", "Town"), False), (("Seoul",), False), (("Toronto",), False),
    (("Lincoln",), True), (("Charlotte",), True), (("Istanbul",), False), (("Melbourne",), False),
    (("Jakarta",), False), (("Stockholm",), False), (("Accra",), False), (("Montréal",), False),
)  # fmt: skip
ROLES = (
    ("chief", "executive"), ("spokeswoman",), ("finance", "minister"), ("head", "coach"),
    ("senior", "analyst"), ("founder",), ("chair",), ("lead", "researcher"), ("president",),
    ("chief", "economist"), ("general", "counsel"),
)  # fmt: skip
DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MONTHS = (
    "January", "February", "March", "April", "May", "June", "July", "August", "September",
    "October", "November", "December",
)  # fmt: skip
ACTIONS = (
    ("cut", "jobs"), ("raise", "prices"), ("open", "a", "new", "plant"), ("step", "down"),
    ("expand", "into", "Asia"), ("delay", "the", "launch"), ("buy", "back", "shares"),
    ("review", "its", "strategy"), ("hire", "more", "engineers"),
)  # fmt: skip
TOPICS = (
    ("trade",), ("climate", "policy"), ("the", "merger"), ("new", "tariffs"), ("a", "recovery", "plan"),
    ("vaccine", "supplies"), ("interest", "rates"), ("the", "peace", "talks"), ("water", "rights"),
)  # fmt: skip
FIELDS = (("law",), ("medicine",), ("economics",), ("physics",), ("history",), ("engineering",))
ADJECTIVES = ("optimistic", "cautious", "pleased", "disappointed", "confident", "surprised")
NOUNS = ("brother", "sister", "lawyer", "former", "coach", "deputy", "wife", "husband", "agent")
EVENTS = (("protest",), ("festival",), ("rally",), ("book", "fair"), ("marathon",), ("concert",))
PAST_VERBS = ("founded", "joined", "left", "advised", "sued", "led", "rebuilt")

TEMPLATES = (
    "{PER} , {ROLE} of {ORG} , said {DATE} that the company would {ACTION} .",
    "{TITLE_PER} was born in {PLACE} in {YEAR} and studied {FIELD} before joining {ORG} .",
    "{PER} met {TITLE_PER} in {PLACE} {DATE} to discuss {TOPIC} .",
    "According to {ORG} , {PER} will {ACTION} {DATE} .",
    '" We are {ADJ} about the results , " {PER} told reporters in {PLACE} .',
    "Shares of {ORG} rose {NUM} percent {DATE} after {PER} , its {ROLE} , announced a deal on {TOPIC} .",
    "{PER} 's {NOUN} , {PER} , joined {ORG} in {YEAR} .",
    "The {EVENT} in {PLACE} drew about {NUM} people {DATE} .",
    "{PER} {PAST} {ORG} in {YEAR} ; {SAME_LAST} later moved to {PLACE} .",
    "{ORG} appointed {PER} as {ROLE} {DATE} , replacing {TITLE_PER} .",
    "In {PLACE} , {TITLE_PER} and {PER} signed an agreement on {TOPIC} .",
    "Police in {PLACE} said {NUM} people were injured {DATE} .",
    "A spokesperson for {ORG} declined to comment on reports that {PER} had resigned .",
    "{PER} , {AGE} , has written {NUM} books about {TOPIC} .",
    "{ORG} and {ORG} agreed {DATE} to share data on {TOPIC} .",
    "Asked about {TOPIC} , {SAME_TITLE_PER} said {ORG} was {ADJ} .",
)

# Model logit of p(token in span) per token kind: (mean, standard deviation).
LOGIT_BY_KIND = {
    "PER": (3.6, 1.2),
    "PER_AMBIGUOUS": (1.0, 1.4),
    "PER_INITIAL": (1.8, 1.3),
    "PER_PARTICLE": (0.6, 1.4),
    "TITLE": (-2.4, 1.2),
    "NAMELIKE": (-1.4, 1.5),
    "ENTITY": (-3.8, 1.1),
    "CAPITALISED": (-4.4, 1.0),
    "WORD": (-6.4, 1.0),
    "PUNCT": (-7.2, 0.8),
}
SPAN_KINDS = ("PER", "PER_AMBIGUOUS", "PER_INITIAL", "PER_PARTICLE")
MODEL_ERROR_RATE = 0.003  # tokens on which the model is confidently wrong

# Probabilities of each kind of planted annotation mistake.
P_MISSED_SPAN = 0.09  # per person name
P_TRUNCATED_SPAN = 0.12  # per multi-token person name
P_EXTENDED_SPAN = 0.10  # per person name
P_SPURIOUS_SPAN = 0.20  # per name-like organisation or place
P_STRAY_TOKEN = 0.004  # per ordinary token


class _Sentence:
    """Tokens of one sentence with, per token, its kind and entity id."""

    def __init__(self) -> None:
        self.tokens: list[str] = []
        self.kinds: list[str] = []
        self.person_id: list[int] = []  # index of the person name, -1 outside names
        self.namelike_id: list[int] = []  # index of a name-like entity, -1 elsewhere
        self.n_persons = 0
        self.n_namelike = 0
        self.last_person_tokens: tuple[tuple[str, str], ...] = ()

    def add(self, token: str, kind: str, person: int = -1, namelike: int = -1) -> None:
        self.tokens.append(token)
        self.kinds.append(kind)
        self.person_id.append(person)
        self.namelike_id.append(namelike)


def _pick(rng: np.random.Generator, options: tuple[_T, ...]) -> _T:
    return options[int(rng.integers(len(options)))]


def _word_kind(token: str) -> str:
    if not any(ch.isalnum() for ch in token):
        return "PUNCT"
    return "CAPITALISED" if token[0].isupper() else "WORD"


def _person(rng: np.random.Generator) -> tuple[tuple[str, str], ...]:
    """Return a person name as (token, kind) pairs."""
    first = (
        (_pick(rng, AMBIGUOUS_FIRST_NAMES), "PER_AMBIGUOUS")
        if rng.random() < 0.12
        else (_pick(rng, FIRST_NAMES), "PER")
    )
    u = rng.random()
    if u < 0.10:
        last: tuple[tuple[str, str], ...] = ((_pick(rng, AMBIGUOUS_LAST_NAMES), "PER_AMBIGUOUS"),)
    elif u < 0.16:
        particle = _pick(rng, PARTICLE_LAST_NAMES)
        last = tuple((t, "PER_PARTICLE" if t.islower() else "PER") for t in particle)
    else:
        last = ((_pick(rng, LAST_NAMES), "PER"),)
    shape = rng.random()
    if shape < 0.10:
        initial = (chr(ord("A") + int(rng.integers(26))) + ".", "PER_INITIAL")
        return (first, initial, *last)
    if shape < 0.16:
        return (first,)
    if shape < 0.26:
        return last
    return (first, *last)


def _add_person(sentence: _Sentence, name: tuple[tuple[str, str], ...]) -> None:
    person = sentence.n_persons
    sentence.n_persons += 1
    for token, kind in name:
        sentence.add(token, kind, person=person)
    sentence.last_person_tokens = name


def _add_entity(sentence: _Sentence, entity: tuple[tuple[str, ...], bool]) -> None:
    tokens, namelike = entity
    namelike_id = -1
    if namelike:
        namelike_id = sentence.n_namelike
        sentence.n_namelike += 1
    for token in tokens:
        if not token[0].isupper():
            sentence.add(token, _word_kind(token))
        elif namelike:
            sentence.add(token, "NAMELIKE", namelike=namelike_id)
        else:
            sentence.add(token, "ENTITY")


def _date(rng: np.random.Generator) -> tuple[str, ...]:
    u = rng.random()
    if u < 0.3:
        return ("on", _pick(rng, DAYS))
    if u < 0.55:
        return ("on", _pick(rng, MONTHS), str(int(rng.integers(1, 29))))
    if u < 0.7:
        return ("in", _pick(rng, MONTHS))
    if u < 0.85:
        return ("last", "week")
    return ("earlier", "this", "year")


def _sentence(rng: np.random.Generator) -> _Sentence:
    sentence = _Sentence()
    for slot in _pick(rng, TEMPLATES).split(" "):
        if slot == "{PER}":
            _add_person(sentence, _person(rng))
        elif slot == "{TITLE_PER}":
            sentence.add(_pick(rng, TITLES), "TITLE")
            _add_person(sentence, _person(rng))
        elif slot == "{SAME_TITLE_PER}":
            sentence.add(_pick(rng, TITLES), "TITLE")
            last = ((_pick(rng, LAST_NAMES), "PER"),)
            _add_person(sentence, last)
        elif slot == "{SAME_LAST}":
            # Second mention of the sentence's person, by the last token of the name.
            _add_person(sentence, sentence.last_person_tokens[-1:])
        elif slot == "{ORG}":
            _add_entity(sentence, _pick(rng, ORGANISATIONS))
        elif slot == "{PLACE}":
            _add_entity(sentence, _pick(rng, PLACES))
        elif slot.startswith("{"):
            if slot == "{ROLE}":
                words: tuple[str, ...] = _pick(rng, ROLES)
            elif slot == "{DATE}":
                words = _date(rng)
            elif slot == "{YEAR}":
                words = (str(int(rng.integers(1948, 2024))),)
            elif slot == "{NUM}":
                words = (str(int(rng.integers(2, 90))),)
            elif slot == "{AGE}":
                words = (str(int(rng.integers(24, 88))),)
            elif slot == "{ACTION}":
                words = _pick(rng, ACTIONS)
            elif slot == "{TOPIC}":
                words = _pick(rng, TOPICS)
            elif slot == "{FIELD}":
                words = _pick(rng, FIELDS)
            elif slot == "{ADJ}":
                words = (_pick(rng, ADJECTIVES),)
            elif slot == "{NOUN}":
                words = (_pick(rng, NOUNS),)
            elif slot == "{EVENT}":
                words = _pick(rng, EVENTS)
            elif slot == "{PAST}":
                words = (_pick(rng, PAST_VERBS),)
            else:
                raise ValueError(f"unknown template slot {slot}")
            for word in words:
                sentence.add(word, _word_kind(word))
        else:
            sentence.add(slot, _word_kind(slot))
    return sentence


def _annotate(rng: np.random.Generator, sentence: _Sentence) -> np.ndarray:
    """Return the given (possibly wrong) labels of one sentence."""
    person_id = np.array(sentence.person_id, dtype=np.int64)
    namelike_id = np.array(sentence.namelike_id, dtype=np.int64)
    labels = (person_id >= 0).astype(np.int8)
    for person in range(sentence.n_persons):
        where = np.flatnonzero(person_id == person)
        u = rng.random()
        if u < P_MISSED_SPAN:
            labels[where] = 0
        elif u < P_MISSED_SPAN + P_TRUNCATED_SPAN and where.size > 1:
            labels[where[-1] if rng.random() < 0.6 else where[0]] = 0
        elif u < P_MISSED_SPAN + P_TRUNCATED_SPAN + P_EXTENDED_SPAN:
            before, after = where[0] - 1, where[-1] + 1
            if before >= 0 and sentence.kinds[before] == "TITLE":
                labels[before] = 1
            elif after < len(labels) and person_id[after] < 0:
                # Annotators drag a span over a following word more often than over
                # the punctuation after it.
                if sentence.kinds[after] != "PUNCT" or rng.random() < 0.3:
                    labels[after] = 1
    for entity in range(sentence.n_namelike):
        if rng.random() < P_SPURIOUS_SPAN:
            labels[namelike_id == entity] = 1
    ordinary = np.isin(np.array(sentence.kinds), ("WORD", "CAPITALISED"))
    stray = ordinary & (rng.random(len(labels)) < P_STRAY_TOKEN)
    labels[stray] = 1
    return labels


def _model_probs(rng: np.random.Generator, kinds: np.ndarray) -> np.ndarray:
    """Draw p(token in span) for every token from its kind (flat)."""
    mean = np.empty(kinds.size)
    sd = np.empty(kinds.size)
    for kind, (kind_mean, kind_sd) in LOGIT_BY_KIND.items():
        mean[kinds == kind] = kind_mean
        sd[kinds == kind] = kind_sd
    logits = mean + sd * rng.standard_normal(kinds.size)
    wrong = rng.random(kinds.size) < MODEL_ERROR_RATE
    logits[wrong] = -np.sign(logits[wrong]) * rng.uniform(1.5, 4.0, int(wrong.sum()))
    probs = 1.0 / (1.0 + np.exp(-logits))
    # Rounded like a model's exported scores; also makes the file robust to last-ulp
    # differences of exp() between platforms.
    return np.clip(np.round(probs, 4), 0.0001, 0.9999).astype("<f4")


def build_example(seed: int = SEED, n_sentences: int = N_SENTENCES) -> dict[str, np.ndarray]:
    """Build the example dataset as flat arrays.

    Parameters
    ----------
    seed : int
        Seed of the :class:`numpy.random.Generator` that drives every choice.
    n_sentences : int
        Number of sentences.

    Returns
    -------
    dict of str to numpy.ndarray
        ``tokens`` (UTF-8 bytes, one per token), ``labels`` (int8, given labels with
        the planted mistakes), ``probs`` (float32, model ``p(token in span)``),
        ``offsets`` (int64, ``n_sentences + 1``) and ``planted`` (bool, tokens whose
        given label differs from the true one).

    Examples
    --------
    >>> arrays = build_example(seed=1, n_sentences=5)
    >>> int(arrays["offsets"][-1]) == arrays["labels"].size == arrays["probs"].size
    True
    """
    rng = np.random.default_rng(seed)
    sentences = [_sentence(rng) for _ in range(n_sentences)]
    given = [_annotate(rng, sentence) for sentence in sentences]
    tokens = [token for sentence in sentences for token in sentence.tokens]
    kinds = np.array([kind for sentence in sentences for kind in sentence.kinds])
    true_labels = np.isin(kinds, SPAN_KINDS).astype(np.int8)
    labels = np.concatenate(given).astype("<i1")
    lengths = np.array([len(sentence.tokens) for sentence in sentences], dtype="<i8")
    offsets = np.concatenate([np.zeros(1, dtype="<i8"), np.cumsum(lengths, dtype="<i8")])
    return {
        "tokens": np.array([token.encode("utf-8") for token in tokens], dtype=np.bytes_),
        "labels": labels,
        "probs": _model_probs(rng, kinds),
        "offsets": offsets,
        "planted": labels != true_labels,
    }


def write_npz(path: str | Path, arrays: dict[str, np.ndarray]) -> None:
    """Write ``arrays`` as an ``.npz`` file that is identical on every run.

    :func:`numpy.savez` stamps zip members with the current time; this writes the
    same members uncompressed with a fixed date, fixed permissions and explicit
    little-endian dtypes. :func:`numpy.load` reads it like any ``.npz``.

    Parameters
    ----------
    path : str or pathlib.Path
        Destination file.
    arrays : dict of str to numpy.ndarray
        Arrays to store, in member order.
    """
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as archive:
        for name, array in arrays.items():
            member = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            member.create_system = 3  # Unix, whatever the platform writing it
            member.external_attr = 0o644 << 16
            buffer = io.BytesIO()
            np.lib.format.write_array(buffer, np.ascontiguousarray(array), allow_pickle=False)
            archive.writestr(member, buffer.getvalue())


def main(argv: list[str] | None = None) -> int:
    """Regenerate the bundled example file; return the exit status.

    Parameters
    ----------
    argv : list of str, optional
        Command-line arguments; ``sys.argv[1:]`` when omitted.

    Returns
    -------
    int
        0 on success.
    """
    parser = argparse.ArgumentParser(
        prog="python -m spanfast.data._make_example",
        description=f"Regenerate {FILENAME}, the example span dataset bundled with spanfast.",
    )
    parser.add_argument(
        "out_dir",
        nargs="?",
        type=Path,
        default=Path(__file__).resolve().parent,
        help="directory to write into (default: the spanfast/data package directory)",
    )
    args = parser.parse_args(argv)
    arrays = build_example()
    path = args.out_dir / FILENAME
    write_npz(path, arrays)
    offsets = arrays["offsets"]
    print(
        f"wrote {path}: {offsets.size - 1} sentences, {int(offsets[-1])} tokens, "
        f"{int(arrays['planted'].sum())} planted mistakes"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
