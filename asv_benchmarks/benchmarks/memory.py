"""Peak memory of find_label_issues and get_label_quality_scores at 1M tokens.

asv's ``peakmem_`` value is the process's maximum resident set size, which
would otherwise include whatever setup touched (loading the arrays and
building the input lists transiently needs two copies of the data). So setup
ends by releasing free heap to the OS and resetting the kernel's RSS
high-water mark (``/proc/self/clear_refs``, Linux >= 4.0); the value reported
is then "RSS after setup + the extra the call needs at its peak", and
``peakmem_baseline`` (setup only) is the number to subtract:

    extra = peakmem_<operation> - peakmem_baseline

cleanlab's default find_label_issues forks ``n_jobs`` worker processes whose
memory is not counted here (RUSAGE_SELF), so its figures are a lower bound.
"""

import ctypes
import gc

from spanfast.testing.registry import ENTRIES

from . import _data
from ._common import Dataset


def reset_peak_rss() -> None:
    """Make the current RSS the new peak (best effort; Linux only)."""
    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass
    try:
        with open("/proc/self/clear_refs", "w") as clear_refs:
            clear_refs.write("5")
    except OSError:
        pass


class PeakMemory(Dataset):
    params = (
        _data.IMPLEMENTATIONS,
        ("list", "ragged"),
        ("span", "token"),
        (max(_data.SIZES),),  # the largest size of the run (1M unless told)
    )
    param_names = ("implementation", "input_format", "kind", "n_tokens")
    timeout = 300.0

    def setup(self, paths, implementation, input_format, kind, n_tokens):
        self.kind = kind
        self.load_inputs(paths, implementation, input_format, n_tokens, "sentences")
        find = "span.find_label_issues" if kind == "span" else "filter.find_label_issues"
        scores = "span" if kind == "span" else "rank"
        self.find_label_issues = ENTRIES[find].function(implementation)
        self.get_label_quality_scores = ENTRIES[f"{scores}.get_label_quality_scores"].function(
            implementation
        )
        self.find_label_issues(*self.tiny)
        self.get_label_quality_scores(*self.tiny)
        del self.tiny
        reset_peak_rss()

    def peakmem_baseline(self, paths, implementation, input_format, kind, n_tokens):
        pass

    def peakmem_find_label_issues(self, paths, implementation, input_format, kind, n_tokens):
        self.find_label_issues(self.labels, self.pred_probs)

    def peakmem_get_label_quality_scores(self, paths, implementation, input_format, kind, n_tokens):
        self.get_label_quality_scores(self.labels, self.pred_probs)

    def peakmem_find_and_scores(self, paths, implementation, input_format, kind, n_tokens):
        issues = self.find_label_issues(self.labels, self.pred_probs)
        sentence_scores, token_scores = self.get_label_quality_scores(self.labels, self.pred_probs)
        return len(issues) + len(sentence_scores) + len(token_scores)
