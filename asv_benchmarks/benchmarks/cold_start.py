"""What a user waits for in a fresh interpreter (``timeraw_``: one new process per sample).

Start-up is import + the first span or token (K = 9) ``find_label_issues`` on a
~7K-token dataset (nested lists, cleanlab's input), timed side by side for
spanfast and cleanlab, with spanfast's kernel cache in three states:

``ColdStart`` — warm: setup runs the same code once in a subprocess first, so
numba's on-disk cache holds what the call needs (every later process on a machine).
Also ``import`` alone.

``EmptyCacheStart`` — empty: ``NUMBA_CACHE_DIR`` is a fresh empty directory in
every sample (a new container, CI job or cluster worker without a prepared
cache). cleanlab has no cache; it is timed the same way.

``PrecompiledStart`` — the cache filled by ``python -m spanfast precompile`` in
setup (a container image built with it). spanfast only.

The dataset is built in the child's untimed setup code, which also imports
numpy, so the timed part is the library's import and its first call.

``ColdCompile`` — the first run on a machine: ``NUMBA_CACHE_DIR`` points at a
fresh empty directory in every sample, and the timed code imports spanfast and
calls every public operation in every mode, so every kernel is compiled.
"""

import os
import shutil
import subprocess
import sys
import tempfile
import textwrap

import numpy as np

from . import _data

COLD_START_TOKENS = 7_000

IMPORT_STATEMENTS = {
    "spanfast": "import spanfast",
    "cleanlab": "from cleanlab.experimental import span_classification",
}

TOKEN_STATEMENTS = {
    "spanfast": """
        from spanfast.token_classification.filter import find_label_issues
        find_label_issues(labels, pred_probs)
        """,
    "cleanlab": """
        from cleanlab.token_classification.filter import find_label_issues
        find_label_issues(labels, pred_probs)
        """,
}

SPAN_STATEMENTS = {
    "spanfast": """
        from spanfast.span_classification import find_label_issues
        find_label_issues(labels, pred_probs)
        """,
    "cleanlab": """
        from cleanlab.experimental.span_classification import find_label_issues
        find_label_issues(labels, pred_probs)
        """,
}

LOAD_LISTS = """
    import os
    os.environ.pop("SPANFAST_INTERPRET_BELOW", None)  # as a user has it: small calls interpreted
    import numpy as np
    arrays = np.load({path!r})
    cut = arrays["offsets"][1:-1]
    labels = [sentence.tolist() for sentence in np.split(arrays["{kind}_labels"], cut)]
    pred_probs = [sentence.copy() for sentence in np.split(arrays["{kind}_probs"], cut)]
    """

USE_NUMBA_CACHE = """
    import os
    os.environ["NUMBA_CACHE_DIR"] = {path!r}  # read when numba is first imported
    """

FRESH_NUMBA_CACHE = """
    import atexit, os, shutil, tempfile
    numba_cache_dir = tempfile.mkdtemp(prefix="spanfast-cold-compile-")
    atexit.register(shutil.rmtree, numba_cache_dir, True)
    os.environ["NUMBA_CACHE_DIR"] = numba_cache_dir  # read when numba is first imported
    """

# Every public operation in every mode that selects different kernels, on a
# tiny dataset: span and token (K = 9), lists and Ragged, the seven filter_by
# methods, the three ranking scores, low_memory, min and softmin pooling.
COMPILE_EVERYTHING = """
    import spanfast
    from spanfast import span_classification as span
    from spanfast.token_classification import filter as token_filter, rank as token_rank

    span_ragged = (spanfast.Ragged(span_flat_labels, offsets), spanfast.Ragged(span_flat_probs, offsets))
    for span_input in ((span_labels, span_probs), span_ragged):
        span.find_label_issues(*span_input)
        span.get_label_quality_scores(*span_input)
        span.get_label_quality_scores(*span_input, sentence_score_method="softmin")

    token_ragged = (spanfast.Ragged(token_flat_labels, offsets), spanfast.Ragged(token_flat_probs, offsets))
    scores = ("self_confidence", "normalized_margin", "confidence_weighted_entropy")
    for token_input in ((token_labels, token_probs), token_ragged):
        for filter_by in ("prune_by_noise_rate", "prune_by_class", "both", "confident_learning",
                          "predicted_neq_given", "low_normalized_margin", "low_self_confidence"):
            token_filter.find_label_issues(*token_input, filter_by=filter_by)
        for score in scores:
            token_filter.find_label_issues(*token_input, return_indices_ranked_by=score)
            token_filter.find_label_issues(*token_input, return_indices_ranked_by=score, low_memory=True)
            for pooling in ("min", "softmin"):
                token_rank.get_label_quality_scores(
                    *token_input, token_score_method=score, sentence_score_method=pooling
                )
    """

LOAD_BOTH_KINDS = """
    import numpy as np
    arrays = np.load({path!r})
    offsets = arrays["offsets"]
    cut = offsets[1:-1]
    span_flat_labels, span_flat_probs = arrays["span_labels"], arrays["span_probs"]
    token_flat_labels, token_flat_probs = arrays["token_labels"], arrays["token_probs"]
    span_labels = [s.tolist() for s in np.split(span_flat_labels, cut)]
    span_probs = [s.copy() for s in np.split(span_flat_probs, cut)]
    token_labels = [s.tolist() for s in np.split(token_flat_labels, cut)]
    token_probs = [s.copy() for s in np.split(token_flat_probs, cut)]
    """


def write_npz(directory: str, n_tokens: int) -> str:
    path = os.path.join(directory, f"sentences-{n_tokens}.npz")
    np.savez(path, **_data.make_dataset(n_tokens, "sentences"))
    return path


def run_in_fresh_interpreter(statement: str, setup: str = "", env: dict | None = None) -> None:
    """Run ``setup`` then ``statement`` in a new interpreter; raise if it fails."""
    code = textwrap.dedent(setup) + "\n" + textwrap.dedent(statement)
    subprocess.run([sys.executable, "-c", code], check=True, env=env, capture_output=True)


class ColdStart:
    params = (_data.IMPLEMENTATIONS,)
    param_names = ("implementation",)
    number = 1
    repeat = (3, 10, 20.0)
    rounds = 1
    warmup_time = 0.0
    timeout = 300.0

    def setup(self, implementation):
        self.directory = tempfile.mkdtemp(prefix="spanfast-cold-start-")
        path = write_npz(self.directory, COLD_START_TOKENS)
        self.load_lists = LOAD_LISTS.format(path=path, kind="span")
        self.load_token_lists = LOAD_LISTS.format(path=path, kind="token")
        # fills numba's cache (and the OS page cache) for the timed runs
        run_in_fresh_interpreter(SPAN_STATEMENTS[implementation], self.load_lists)
        run_in_fresh_interpreter(TOKEN_STATEMENTS[implementation], self.load_token_lists)

    def teardown(self, implementation):
        shutil.rmtree(self.directory, ignore_errors=True)

    def timeraw_import(self, implementation):
        return IMPORT_STATEMENTS[implementation]

    def timeraw_import_and_span_find_label_issues(self, implementation):
        return SPAN_STATEMENTS[implementation], self.load_lists

    def timeraw_import_and_token_find_label_issues(self, implementation):
        return TOKEN_STATEMENTS[implementation], self.load_token_lists


class EmptyCacheStart:
    params = (_data.IMPLEMENTATIONS,)
    param_names = ("implementation",)
    number = 1
    repeat = (3, 5, 60.0)
    rounds = 1
    warmup_time = 0.0
    timeout = 300.0

    def setup(self, implementation):
        self.directory = tempfile.mkdtemp(prefix="spanfast-empty-cache-start-")
        path = write_npz(self.directory, COLD_START_TOKENS)
        self.setup_code = {
            kind: FRESH_NUMBA_CACHE + LOAD_LISTS.format(path=path, kind=kind)
            for kind in ("span", "token")
        }

    def teardown(self, implementation):
        shutil.rmtree(self.directory, ignore_errors=True)

    def timeraw_import_and_span_find_label_issues(self, implementation):
        return SPAN_STATEMENTS[implementation], self.setup_code["span"]

    def timeraw_import_and_token_find_label_issues(self, implementation):
        return TOKEN_STATEMENTS[implementation], self.setup_code["token"]


class PrecompiledStart:
    number = 1
    repeat = (3, 10, 20.0)
    rounds = 1
    warmup_time = 0.0
    timeout = 300.0

    def setup(self):
        self.directory = tempfile.mkdtemp(prefix="spanfast-precompiled-start-")
        path = write_npz(self.directory, COLD_START_TOKENS)
        cache = os.path.join(self.directory, "numba-cache")
        subprocess.run(
            [sys.executable, "-m", "spanfast", "precompile", "--quiet"],
            check=True,
            capture_output=True,
            env=dict(os.environ, NUMBA_CACHE_DIR=cache),
        )
        self.setup_code = {
            kind: USE_NUMBA_CACHE.format(path=cache) + LOAD_LISTS.format(path=path, kind=kind)
            for kind in ("span", "token")
        }

    def teardown(self):
        shutil.rmtree(self.directory, ignore_errors=True)

    def timeraw_import_and_span_find_label_issues(self):
        return SPAN_STATEMENTS["spanfast"], self.setup_code["span"]

    def timeraw_import_and_token_find_label_issues(self):
        return TOKEN_STATEMENTS["spanfast"], self.setup_code["token"]


class ColdCompile:
    number = 1
    repeat = (2, 3, 120.0)
    rounds = 1
    warmup_time = 0.0
    timeout = 600.0

    def setup(self):
        self.directory = tempfile.mkdtemp(prefix="spanfast-cold-compile-data-")
        path = write_npz(self.directory, 300)
        # The tiny data would run the kernels' Python bodies: compile them, as large data does.
        self.setup_code = (
            FRESH_NUMBA_CACHE
            + 'os.environ["SPANFAST_INTERPRET_BELOW"] = "0"\n'
            + LOAD_BOTH_KINDS.format(path=path)
        )

    def teardown(self):
        shutil.rmtree(self.directory, ignore_errors=True)

    def timeraw_compile_all_kernels(self):
        return COMPILE_EVERYTHING, self.setup_code
