"""Span classification (one span class, K = 2): spanfast vs cleanlab 2.9.0.

``input_format='ragged'`` feeds spanfast a ``spanfast.Ragged`` built from the
flat arrays; cleanlab only takes lists, so that combination is skipped.
"""

from . import _data, _registry
from ._common import Dataset


class FindLabelIssues(Dataset):
    kind = "span"
    params = (_data.IMPLEMENTATIONS, ("list", "ragged"), _data.SIZES, _data.SHAPES)
    param_names = ("implementation", "input_format", "n_tokens", "shape")

    def setup(self, paths, implementation, input_format, n_tokens, shape):
        self.load_inputs(paths, implementation, input_format, n_tokens, shape)
        self.find_label_issues = _registry.function("span", implementation, "find_label_issues")
        self.find_label_issues(*self.tiny)

    def time_find_label_issues(self, paths, implementation, input_format, n_tokens, shape):
        self.find_label_issues(self.labels, self.pred_probs)


class LabelQualityScores(Dataset):
    kind = "span"
    params = (
        _data.IMPLEMENTATIONS,
        ("list", "ragged"),
        ("min", "softmin"),
        _data.SIZES,
        _data.SHAPES,
    )
    param_names = ("implementation", "input_format", "sentence_score_method", "n_tokens", "shape")

    def setup(self, paths, implementation, input_format, method, n_tokens, shape):
        self.load_inputs(paths, implementation, input_format, n_tokens, shape)
        self.get_label_quality_scores = _registry.function(
            "span", implementation, "get_label_quality_scores"
        )
        self.kwargs = {"sentence_score_method": method}
        if method == "softmin":
            self.kwargs["sentence_score_kwargs"] = {"temperature": 0.05}
        self.get_label_quality_scores(*self.tiny, **self.kwargs)

    def time_get_label_quality_scores(
        self, paths, implementation, input_format, method, n_tokens, shape
    ):
        self.get_label_quality_scores(self.labels, self.pred_probs, **self.kwargs)
