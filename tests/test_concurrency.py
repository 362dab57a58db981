"""The second core: kernels started on a worker thread (see core._concurrently)."""

from __future__ import annotations

import multiprocessing

import numpy as np

import spanfast


def test_a_forked_child_finds_issues_too():
    # The worker thread of the parent does not exist in a forked child; the child
    # must start its own instead of waiting on it forever.
    rng = np.random.default_rng(3)
    labels = [list(rng.integers(0, 2, 30)) for _ in range(40)]
    probs = [rng.random(30) for _ in range(40)]
    expected = spanfast.find_label_issues(labels, probs)  # starts the parent's worker
    with multiprocessing.get_context("fork").Pool(1) as pool:
        in_child = pool.apply_async(spanfast.find_label_issues, (labels, probs)).get(timeout=60)
    assert in_child == expected
