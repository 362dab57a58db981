"""Token classification at K = 9 (CoNLL BIO tags): spanfast vs cleanlab 2.9.0.

cleanlab runs with its defaults, as users get them: ``filter_by=
'prune_by_noise_rate'`` and ``n_jobs=None``, which without psutil means
``multiprocessing.cpu_count()`` worker processes (2 on the reference machine);
``low_memory=True`` goes through ``find_label_issues_batched`` (n_jobs=1).
"""

from . import _data, _registry
from ._common import Dataset


class FindLabelIssues(Dataset):
    kind = "token"
    params = (_data.IMPLEMENTATIONS, ("list", "ragged"), _data.SIZES, _data.SHAPES)
    param_names = ("implementation", "input_format", "n_tokens", "shape")

    def setup(self, paths, implementation, input_format, n_tokens, shape):
        self.load_inputs(paths, implementation, input_format, n_tokens, shape)
        self.find_label_issues = _registry.function(
            "token_filter", implementation, "find_label_issues"
        )
        self.find_label_issues(*self.tiny)
        self.find_label_issues(*self.tiny, low_memory=True)

    def time_find_label_issues(self, paths, implementation, input_format, n_tokens, shape):
        self.find_label_issues(self.labels, self.pred_probs)

    def time_find_label_issues_low_memory(
        self, paths, implementation, input_format, n_tokens, shape
    ):
        self.find_label_issues(self.labels, self.pred_probs, low_memory=True)


class LabelQualityScores(Dataset):
    kind = "token"
    params = (_data.IMPLEMENTATIONS, ("list", "ragged"), _data.SIZES, _data.SHAPES)
    param_names = ("implementation", "input_format", "n_tokens", "shape")

    def setup(self, paths, implementation, input_format, n_tokens, shape):
        self.load_inputs(paths, implementation, input_format, n_tokens, shape)
        self.get_label_quality_scores = _registry.function(
            "token_rank", implementation, "get_label_quality_scores"
        )
        self.get_label_quality_scores(*self.tiny)

    def time_get_label_quality_scores(self, paths, implementation, input_format, n_tokens, shape):
        self.get_label_quality_scores(self.labels, self.pred_probs)
