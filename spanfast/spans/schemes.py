"""Tag schemes: which class is which tag, and which tag may follow which.

A scheme turns the K classes of token classification into tags: a *role*
(outside, begin, inside, end, single) and an entity *type* per class. From the
roles one K+1 x K table says, for a previous tag (row K: the sentence start)
and a tag, whether the tag continues the previous tag's entity. Every span
formation rule of :mod:`spanfast.spans` is a read of that table, for all
tokens at once.

Schemes (names are case-insensitive):

- ``"IO"``: span data (label 1 = inside the one span class). A span is a run
  of inside tokens; nothing is forbidden.
- ``"BIO"`` (also ``"IOB2"``): ``B-X`` begins an entity of type X, ``I-X``
  continues one; ``I-X`` after ``O``, at the sentence start or after a tag of
  another type is forbidden.
- ``"BIOES"`` (also ``"IOBES"``, and ``"BILOU"`` with L = E, U = S): as BIO,
  plus ``E-X`` ends an entity and ``S-X`` is a one-token entity; an entity must
  end with ``E-X`` (or be ``S-X``), and ``I-X`` / ``E-X`` may only follow
  ``B-X`` / ``I-X``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import InvalidInputError

OUTSIDE, BEGIN, INSIDE, END, SINGLE = 0, 1, 2, 3, 4

# scheme name -> (canonical name, prefix letter -> role)
_SCHEMES = {
    "io": ("IO", {"I": INSIDE}),
    "bio": ("BIO", {"B": BEGIN, "I": INSIDE}),
    "iob2": ("BIO", {"B": BEGIN, "I": INSIDE}),
    "bioes": ("BIOES", {"B": BEGIN, "I": INSIDE, "E": END, "S": SINGLE}),
    "iobes": ("BIOES", {"B": BEGIN, "I": INSIDE, "E": END, "S": SINGLE}),
    "bilou": ("BILOU", {"B": BEGIN, "I": INSIDE, "L": END, "U": SINGLE}),
}
SCHEME_NAMES = ("IO", "BIO", "IOB2", "BIOES", "IOBES", "BILOU")


@dataclass(frozen=True, eq=False)
class Tags:
    """The tags of K classes under a scheme.

    Attributes
    ----------
    scheme : str
        Canonical scheme name (``"IO"``, ``"BIO"``, ``"BIOES"``, ``"BILOU"``).
    role : (K,) int8 array
        ``OUTSIDE``, ``BEGIN``, ``INSIDE``, ``END`` or ``SINGLE`` per class.
    entity_type : (K,) int64 array
        Entity type per class, 1..n_types (0 for outside).
    type_names : tuple
        ``type_names[t - 1]`` names entity type t (a class id when no names are known).
    continues : (K + 1, K) bool array
        ``continues[prev, tag]``: ``tag`` continues the entity of ``prev`` (row K is
        the sentence start, which nothing continues).
    legal_begin : (K,) bool array
        An entity may begin with this tag (false for ``I-X`` and ``E-X`` outside IO:
        a tag of those that continues nothing is forbidden).
    legal_end : (K,) bool array
        An entity may end with this tag (false for ``B-X`` and ``I-X`` in BIOES).
    outside : int
        The class of ``O`` (-1 when the scheme has none).
    """

    scheme: str
    role: np.ndarray
    entity_type: np.ndarray
    type_names: tuple
    continues: np.ndarray
    legal_begin: np.ndarray
    legal_end: np.ndarray
    outside: int

    @property
    def n_classes(self) -> int:
        return int(self.role.shape[0])


def _tables(scheme: str, role: np.ndarray, entity_type: np.ndarray) -> tuple:
    K = role.shape[0]
    prev_role = np.append(role, OUTSIDE)[:, None]  # row K: the sentence start
    prev_type = np.append(entity_type, 0)[:, None]
    same_type = (prev_type == entity_type[None, :]) & (entity_type[None, :] > 0)
    continuing = (role == INSIDE) | (role == END)
    if scheme == "IO":
        continues = same_type & (role[None, :] == INSIDE)
        legal_begin = np.ones(K, bool)
        legal_end = np.ones(K, bool)
    else:
        open_before = (prev_role == BEGIN) | (prev_role == INSIDE)
        continues = same_type & open_before & continuing[None, :]
        legal_begin = ~continuing
        legal_end = np.ones(K, bool) if scheme == "BIO" else ~((role == BEGIN) | (role == INSIDE))
    continues[K, :] = False
    return continues, legal_begin, legal_end


def span_tags(class_names: Any = None) -> Tags:
    """The two classes of span data: 0 outside, 1 inside the span class."""
    name = 1 if class_names is None else class_names[1]
    role = np.array([OUTSIDE, INSIDE], np.int8)
    entity_type = np.array([0, 1], np.int64)
    continues, legal_begin, legal_end = _tables("IO", role, entity_type)
    return Tags("IO", role, entity_type, (name,), continues, legal_begin, legal_end, 0)


def _parse(name: Any, letters: dict[str, int]) -> tuple[int, str] | None:
    """(role, type name) of a tag name, None when it does not parse."""
    if not isinstance(name, str):
        return None
    if name == "O":
        return OUTSIDE, ""
    prefix, dash, type_name = name.partition("-")
    if not dash or prefix not in letters or not type_name:
        return None
    return letters[prefix], type_name


def _guess_scheme(class_names: list) -> str | None:
    """The scheme the names' prefixes point to (a name that does not parse is then
    reported by the parse, with its index); None when no name looks like a tag."""
    prefixes = {n.partition("-")[0] for n in class_names if isinstance(n, str) and "-" in n}
    if prefixes & {"L", "U"}:
        return "bilou"
    if prefixes & {"E", "S"}:
        return "bioes"
    if prefixes & {"B", "I"}:
        return "bio"
    return None


def check_scheme(scheme: Any) -> str | None:
    """The key of a scheme name (None stays None); InvalidInputError when unknown."""
    if scheme is None:
        return None
    if not isinstance(scheme, str) or scheme.lower() not in _SCHEMES:
        raise InvalidInputError(
            f"scheme={scheme!r} is not a known tag scheme; use one of {', '.join(SCHEME_NAMES)}.",
            field="scheme",
        )
    return scheme.lower()


def token_tags(class_names: Any, scheme: str | None) -> Tags:
    """The tags of token classification classes named ``class_names`` ("O", "B-PER", ...).

    ``scheme`` (a key from :func:`check_scheme`) or, when None, read from the names.
    Raises InvalidInputError (field ``"class_names"``) naming the first class whose
    name does not parse.
    """
    names = list(class_names)
    key = scheme if scheme is not None else _guess_scheme(names)
    if key is None:
        raise InvalidInputError(
            f"class_names {names[:6]!r}{' ...' if len(names) > 6 else ''} are not tags of a "
            f"known scheme; name them like 'O', 'B-PER', 'I-PER' or give scheme= "
            f"({', '.join(SCHEME_NAMES)}).",
            field="class_names",
        )
    canonical, letters = _SCHEMES[key]
    role = np.empty(len(names), np.int8)
    entity_type = np.zeros(len(names), np.int64)
    type_names: list[str] = []
    outside = -1
    for k, name in enumerate(names):
        parsed = _parse(name, letters)
        if parsed is None:
            allowed = ", ".join(f"'{letter}-TYPE'" for letter in letters)
            raise InvalidInputError(
                f"class_names[{k}] = {name!r} is not a tag of the {canonical} scheme "
                f"(expected 'O' or {allowed}).",
                field="class_names",
            )
        role[k], type_name = parsed
        if role[k] == OUTSIDE:
            outside = k
            continue
        if type_name not in type_names:
            type_names.append(type_name)
        entity_type[k] = type_names.index(type_name) + 1
    continues, legal_begin, legal_end = _tables(canonical, role, entity_type)
    return Tags(
        canonical, role, entity_type, tuple(type_names), continues, legal_begin, legal_end, outside
    )
