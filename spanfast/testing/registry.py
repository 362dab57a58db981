"""The one table pairing every public spanfast function with its cleanlab 2.9.0 twin.

Each :class:`Entry` says, for one public spanfast function:

* ``spanfast`` / ``cleanlab``: the dotted paths of the two functions (resolved
  lazily: importing this module imports neither library);
* ``adapter``: how to turn one generated :class:`~spanfast.testing.data.Dataset`
  into each library's arguments, for an input ``form`` (``"lists"``: nested
  lists of ints and a list of per-sentence arrays, what cleanlab takes;
  ``"np_labels"``: labels as a list of int arrays; ``"ragged"``: spanfast gets
  :class:`spanfast.Ragged`, cleanlab still gets lists);
* ``data``: which dataset the adapter takes (``"span"``: one probability per
  token; ``"token"``: a (T, K) probability matrix);
* ``compare``: how the two answers must agree (:data:`COMPARE_MODES`);
* ``cases``: keyword arguments to try (the oracle test draws one);
* ``timings``: which asv benchmarks time it side by side with cleanlab.

Read by ``tests/test_signatures.py`` (``inspect.signature`` equal to cleanlab's),
``tests/test_oracle_table.py`` (every entry against cleanlab on random data) and
``asv_benchmarks/benchmarks`` (what to time).

Examples
--------
>>> entry = ENTRIES["span.find_label_issues"]
>>> entry.compare, entry.cleanlab
('ties', 'cleanlab.experimental.span_classification.find_label_issues')
>>> from spanfast.testing import data
>>> dataset = data.make_dataset(seed=0, n_sentences=3).as_span()
>>> args, kwargs = entry.arguments(dataset, "cleanlab", "lists")
>>> [type(arg).__name__ for arg in args], kwargs
(['list', 'list'], {})
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import numpy as np

from ..options import FILTER_BY, RANK_BY
from . import data as _data

IMPLEMENTATIONS = ("spanfast", "cleanlab")
INPUT_FORMS = ("lists", "np_labels", "ragged")

#: How a spanfast answer must agree with cleanlab's.
COMPARE_MODES = {
    "exact": "equal values of equal types (arrays: same dtype and values; frames: equal)",
    "ties": "exact once cleanlab breaks ties by position (its argsorts made stable), "
    "spanfast's documented rule; cleanlab's own unstable order differs only in tie groups",
    "roundoff": "same structure and dtypes; floats equal to the dtype's round-off "
    "(rtol 1e-12 for float64, 1e-6 for float32)",
    "printed": "the same text on stdout/stderr and an equal return value",
}

Arguments = tuple[tuple, dict]
Adapter = Callable[[_data.Dataset, str, str, dict], Arguments]


@dataclass(frozen=True)
class Timing:
    """One asv benchmark method: ``<suite>.<cls>.<method>``, calling the entry with ``kwargs``
    (and, with ``param``, once per value of an extra asv parameter)."""

    suite: str
    cls: str
    method: str
    kwargs: Mapping[str, Any] = field(default_factory=dict)
    param: tuple[str, Mapping[str, Mapping[str, Any]]] | None = None


@dataclass(frozen=True)
class Entry:
    """One public spanfast function and its cleanlab 2.9.0 twin (see the module docstring)."""

    spanfast: str
    cleanlab: str
    data: str
    adapter: Adapter
    compare: str
    cases: tuple[Mapping[str, Any], ...] = ({},)
    forms: tuple[str, ...] = ("lists",)
    timings: tuple[Timing, ...] = field(default=())

    def __post_init__(self) -> None:
        assert self.compare in COMPARE_MODES, self.compare
        assert self.data in ("span", "token"), self.data
        assert set(self.forms) <= set(INPUT_FORMS), self.forms

    @property
    def name(self) -> str:
        """Short name: ``span.find_label_issues``, ``filter.find_label_issues``,
        ``utils.mapping``; ``find_label_issues`` for the top-level re-exports."""
        name = self.spanfast.removeprefix("spanfast.").removeprefix("token_classification.")
        return name.replace("span_classification.", "span.")

    def function(self, implementation: str) -> Callable:
        """The spanfast or the cleanlab function (imports it)."""
        return resolve(self.spanfast if implementation == "spanfast" else self.cleanlab)

    def arguments(
        self, dataset: _data.Dataset, implementation: str, form: str = "lists", case=None
    ) -> Arguments:
        """``(args, kwargs)`` for calling ``function(implementation)`` on ``dataset``."""
        return self.adapter(dataset, implementation, form, dict(case or {}))


def resolve(dotted_path: str) -> Callable:
    """Import ``package.module.attr`` and return ``attr`` (tries the longest module prefix)."""
    parts = dotted_path.split(".")
    for split in range(len(parts) - 1, 0, -1):
        module_name = ".".join(parts[:split])
        try:
            obj = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            # This prefix (or a package above it) is not a module: try a shorter prefix.
            if exc.name and (module_name == exc.name or module_name.startswith(exc.name + ".")):
                continue
            raise
        for attr in parts[split:]:
            obj = getattr(obj, attr)
        return obj
    raise ImportError(f"cannot resolve {dotted_path!r}")


# --------------------------------------------------------------------------------------
# Input adapters: (dataset, implementation, form, case kwargs) -> (args, kwargs)
# --------------------------------------------------------------------------------------


def labels_and_probs(dataset: _data.Dataset, implementation: str, form: str) -> tuple:
    """The ``(labels, pred_probs)`` pair in ``form`` (cleanlab gets lists for ``ragged``).

    Span data is the same per-sentence lists of probabilities for both libraries
    (cleanlab stacks ``[1 - p, p]`` itself); token data is a list of (n_i, K) arrays.
    """
    if form == "ragged" and implementation == "spanfast":
        from spanfast import Ragged

        return (
            Ragged(dataset.flat_labels.copy(), dataset.offsets.copy()),
            Ragged(dataset.flat_probs.copy(), dataset.offsets.copy()),
        )
    labels = dataset.labels_np() if form == "np_labels" else dataset.labels_nested()
    return labels, dataset.probs_list()


def _labels_probs_adapter(dataset, implementation, form, case) -> Arguments:
    return labels_and_probs(dataset, implementation, form), case


def _token_filter_adapter(dataset, implementation, form, case) -> Arguments:
    if not case.get("low_memory"):
        # Worker processes change nothing in cleanlab's answer and cost a pool per call.
        case.setdefault("n_jobs", 1)
    return labels_and_probs(dataset, implementation, form), case


def _quality_scores_adapter(dataset, implementation, form, case) -> Arguments:
    if case.pop("with_tokens", False):
        case["tokens"] = dataset.tokens()
    return labels_and_probs(dataset, implementation, form), case


def planted_issues(dataset: _data.Dataset, limit: int = 40) -> list[tuple[int, int]]:
    """``(sentence, token)`` pairs whose label is not the most likely class (at most ``limit``)."""
    probs = dataset.token_flat_probs()
    flat = np.flatnonzero(probs.argmax(axis=1) != dataset.flat_labels)[:limit]
    sentence = np.searchsorted(dataset.offsets, flat, side="right") - 1
    # Never empty: cleanlab 2.9.0's summaries raise IndexError on no issues, where
    # spanfast prints nothing (a deliberate difference, tested in test_summary.py).
    return [(int(i), int(t - dataset.offsets[i])) for i, t in zip(sentence, flat)] or [(0, 0)]


def _issues_display_adapter(dataset, implementation, form, case) -> Arguments:
    kwargs = {}
    given = case.pop("given", ())
    if "labels" in given:
        kwargs["labels"] = dataset.labels_nested()
    if "pred_probs" in given:
        if dataset.is_span and implementation == "cleanlab":
            # cleanlab's span display_issues passes span probabilities on to the token
            # summary, whose argmax of one probability is always class 0; spanfast reads
            # them as [1 - p, p], which is cleanlab given the stacked per-sentence arrays.
            kwargs["pred_probs"] = _data.split(dataset.token_flat_probs(), dataset.offsets)
        else:
            kwargs["pred_probs"] = dataset.probs_list()
    if case.pop("class_names", False):
        kwargs["class_names"] = [f"CLASS{k}" for k in range(dataset.K)]
    if case.pop("exclude", False):
        kwargs["exclude"] = [(0, 1)]  # (given, predicted) pairs not shown
    return (planted_issues(dataset), dataset.tokens()), kwargs | case


def _filter_by_token_adapter(dataset, implementation, form, case) -> Arguments:
    issues = planted_issues(dataset)
    tokens = dataset.tokens()
    token = tokens[issues[0][0]][issues[0][1]] if issues else "Paris"
    return (token, issues, tokens), case


def _self_confidence_lists(dataset: _data.Dataset) -> list[np.ndarray]:
    probs = dataset.token_flat_probs()
    return _data.split(probs[np.arange(dataset.n_tokens), dataset.flat_labels], dataset.offsets)


def _issues_from_scores_adapter(dataset, implementation, form, case) -> Arguments:
    token_scores = _self_confidence_lists(dataset)
    sentence_scores = np.array([s.min() if len(s) else 1.0 for s in token_scores])
    if case.pop("with_token_scores", False):
        case["token_scores"] = token_scores
    else:
        # A clean last sentence: when every sentence is below the threshold cleanlab 2.9.0
        # reads past the end (IndexError), spanfast returns them all (a deliberate
        # difference, tested in test_oracle_token_rank.py).
        sentence_scores = np.append(sentence_scores, 1.0)
    return (sentence_scores,), case


def _softmin_adapter(dataset, implementation, form, case) -> Arguments:
    return (_self_confidence_lists(dataset),), case


def _sentences(dataset: _data.Dataset) -> list[str]:
    from spanfast.token_classification.utils import get_sentence  # same in both libraries

    return [get_sentence(words) for words in dataset.tokens()]


def _get_sentence_adapter(dataset, implementation, form, case) -> Arguments:
    return (dataset.tokens()[0],), case


def _filter_sentence_adapter(dataset, implementation, form, case) -> Arguments:
    if case.pop("condition", False):
        case["condition"] = lambda sentence: "York" in sentence
    return (_sentences(dataset),), case


def _process_token_adapter(dataset, implementation, form, case) -> Arguments:
    return (dataset.tokens()[0][0],), case


def _class_map(dataset: _data.Dataset) -> list[int]:
    """A deterministic many-to-one map of the K classes (like B-/I- tags to entities)."""
    return [k // 2 for k in range(dataset.K)]


def _mapping_adapter(dataset, implementation, form, case) -> Arguments:
    return (dataset.flat_labels[: dataset.offsets[1]].tolist(), _class_map(dataset)), case


def _merge_probs_adapter(dataset, implementation, form, case) -> Arguments:
    return (dataset.flat_probs[: dataset.offsets[1]].copy(), _class_map(dataset)), case


def _color_sentence_adapter(dataset, implementation, form, case) -> Arguments:
    words = dataset.tokens()[0]
    return (" ".join(words), words[0]), case


def _replace_sentence_adapter(dataset, implementation, form, case) -> Arguments:
    words = dataset.tokens()[0]
    return (" ".join(words), words[0], "[" + words[0] + "]"), case


# --------------------------------------------------------------------------------------
# The table
# --------------------------------------------------------------------------------------

_SF_SPAN = "spanfast.span_classification"
_SF_TOKEN = "spanfast.token_classification"
_CL_SPAN = "cleanlab.experimental.span_classification"
_CL_TOKEN = "cleanlab.token_classification"
_CL_UTILS = "cleanlab.internal.token_classification_utils"

_ALL_FORMS = INPUT_FORMS
_SOFTMIN = {"sentence_score_method": "softmin", "sentence_score_kwargs": {"temperature": 0.05}}
_QUALITY_CASES = (
    {},
    {"sentence_score_method": "softmin"},
    _SOFTMIN,
    {"token_score_method": "normalized_margin", "with_tokens": True},
    {"token_score_method": "confidence_weighted_entropy", "sentence_score_method": "softmin"},
)
_DISPLAY_CASES = (
    {},
    {"given": ("labels",), "top": 3},
    {"given": ("pred_probs",)},
    {"given": ("labels", "pred_probs"), "class_names": True},
    {"given": ("labels", "pred_probs"), "class_names": True, "exclude": True},
)
_DISPLAY_CASES_TOKEN = (*_DISPLAY_CASES, {"given": ("labels",), "class_names": True})


def _span_entry(function: str, **fields) -> Entry:
    return Entry(f"{_SF_SPAN}.{function}", f"{_CL_SPAN}.{function}", "span", **fields)


_SPAN_FIND = dict(
    adapter=_labels_probs_adapter,
    compare="ties",
    forms=_ALL_FORMS,
)
_SPAN_SCORES = dict(
    adapter=_quality_scores_adapter,
    compare="roundoff",
    cases=_QUALITY_CASES,
    forms=_ALL_FORMS,
)
_SPAN_DISPLAY = dict(adapter=_issues_display_adapter, compare="printed", cases=_DISPLAY_CASES)

_ENTRY_LIST = [
    _span_entry(
        "find_label_issues",
        **_SPAN_FIND,
        timings=(Timing("span", "FindLabelIssues", "time_find_label_issues"),),
    ),
    _span_entry(
        "get_label_quality_scores",
        **_SPAN_SCORES,
        timings=(
            Timing(
                "span",
                "LabelQualityScores",
                "time_get_label_quality_scores",
                param=(
                    "sentence_score_method",
                    {"min": {}, "softmin": _SOFTMIN},
                ),
            ),
        ),
    ),
    _span_entry("display_issues", **_SPAN_DISPLAY),
    # the top-level re-exports: the same functions
    Entry("spanfast.find_label_issues", f"{_CL_SPAN}.find_label_issues", "span", **_SPAN_FIND),
    Entry(
        "spanfast.get_label_quality_scores",
        f"{_CL_SPAN}.get_label_quality_scores",
        "span",
        **_SPAN_SCORES,
    ),
    Entry("spanfast.display_issues", f"{_CL_SPAN}.display_issues", "span", **_SPAN_DISPLAY),
    Entry(
        f"{_SF_TOKEN}.filter.find_label_issues",
        f"{_CL_TOKEN}.filter.find_label_issues",
        "token",
        _token_filter_adapter,
        "ties",
        cases=(
            *({"filter_by": method} for method in FILTER_BY),
            *({"return_indices_ranked_by": score} for score in RANK_BY),
            *({"low_memory": True, "return_indices_ranked_by": score} for score in RANK_BY),
            {"filter_by": "both", "frac_noise": 0.5, "min_examples_per_class": 3},
        ),
        forms=_ALL_FORMS,
        timings=(
            Timing("token", "FindLabelIssues", "time_find_label_issues"),
            Timing(
                "token",
                "FindLabelIssues",
                "time_find_label_issues_low_memory",
                {"low_memory": True},
            ),
        ),
    ),
    Entry(
        f"{_SF_TOKEN}.rank.get_label_quality_scores",
        f"{_CL_TOKEN}.rank.get_label_quality_scores",
        "token",
        _quality_scores_adapter,
        "roundoff",
        cases=_QUALITY_CASES,
        forms=_ALL_FORMS,
        timings=(Timing("token", "LabelQualityScores", "time_get_label_quality_scores"),),
    ),
    Entry(
        f"{_SF_TOKEN}.rank.issues_from_scores",
        f"{_CL_TOKEN}.rank.issues_from_scores",
        "token",
        _issues_from_scores_adapter,
        "ties",
        cases=(
            {},
            {"threshold": 0.5},
            {"threshold": 0.9, "with_token_scores": True},
            {"with_token_scores": True},
        ),
    ),
    Entry(
        f"{_SF_TOKEN}.rank._softmin_sentence_score",
        f"{_CL_TOKEN}.rank._softmin_sentence_score",
        "token",
        _softmin_adapter,
        "roundoff",
        cases=tuple({"temperature": t} for t in (0.05, 0.5, 10.0)),
    ),
    Entry(
        f"{_SF_TOKEN}.summary.display_issues",
        f"{_CL_TOKEN}.summary.display_issues",
        "token",
        _issues_display_adapter,
        "printed",
        cases=_DISPLAY_CASES_TOKEN,
    ),
    Entry(
        f"{_SF_TOKEN}.summary.common_label_issues",
        f"{_CL_TOKEN}.summary.common_label_issues",
        "token",
        _issues_display_adapter,
        "exact",  # the DataFrame; the printed ranking's ties are test_summary.py's
        cases=(
            {},
            {"given": ("labels", "pred_probs"), "top": 3},
            {"given": ("labels", "pred_probs"), "class_names": True, "verbose": False},
            {"given": ("labels", "pred_probs"), "exclude": True},
        ),
    ),
    Entry(
        f"{_SF_TOKEN}.summary.filter_by_token",
        f"{_CL_TOKEN}.summary.filter_by_token",
        "token",
        _filter_by_token_adapter,
        "exact",
    ),
    Entry(
        f"{_SF_TOKEN}.utils.get_sentence",
        f"{_CL_UTILS}.get_sentence",
        "token",
        _get_sentence_adapter,
        "exact",
    ),
    Entry(
        f"{_SF_TOKEN}.utils.filter_sentence",
        f"{_CL_UTILS}.filter_sentence",
        "token",
        _filter_sentence_adapter,
        "exact",
        cases=({}, {"condition": True}),
    ),
    Entry(
        f"{_SF_TOKEN}.utils.process_token",
        f"{_CL_UTILS}.process_token",
        "token",
        _process_token_adapter,
        "exact",
        cases=({}, {"replace": [("#", ""), ("a", "A")]}),
    ),
    Entry(f"{_SF_TOKEN}.utils.mapping", f"{_CL_UTILS}.mapping", "token", _mapping_adapter, "exact"),
    Entry(
        f"{_SF_TOKEN}.utils.merge_probs",
        f"{_CL_UTILS}.merge_probs",
        "token",
        _merge_probs_adapter,
        "roundoff",
    ),
    Entry(
        f"{_SF_TOKEN}.utils.color_sentence",
        f"{_CL_UTILS}.color_sentence",
        "token",
        _color_sentence_adapter,
        "exact",
    ),
    Entry(
        f"{_SF_TOKEN}.utils._replace_sentence",
        f"{_CL_UTILS}._replace_sentence",
        "token",
        _replace_sentence_adapter,
        "exact",
    ),
]

#: Every entry, keyed by :attr:`Entry.name`.
ENTRIES: Mapping[str, Entry] = MappingProxyType({entry.name: entry for entry in _ENTRY_LIST})
#: (spanfast path, cleanlab path) of every entry.
FUNCTION_PAIRS: list[tuple[str, str]] = [(e.spanfast, e.cleanlab) for e in _ENTRY_LIST]


def timings(suite: str) -> list[tuple[Entry, Timing]]:
    """Every asv benchmark method of ``suite`` (``"span"``, ``"token"``) with its entry."""
    return [(entry, t) for entry in _ENTRY_LIST for t in entry.timings if t.suite == suite]
