"""More cores: every thread count and block size gives the one-thread, one-block answer."""

from __future__ import annotations

import threading
import time
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_plans import _data

from spanfast import _threads, options, plans
from spanfast.results import find_issues
from spanfast.span_classification import find_label_issues as span_find
from spanfast.token_classification.filter import find_label_issues as token_find


def _run(checked, filter_by: str, n_jobs: int, block_tokens: int, monkeypatch) -> np.ndarray:
    monkeypatch.setattr(plans, "BLOCK_TOKENS", block_tokens)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return plans.run_in_memory(plans.plan_for(filter_by), checked, n_jobs=n_jobs)


@settings(deadline=None, max_examples=60)
@given(
    seed=st.integers(0, 2**32 - 1),
    n_tokens=st.integers(3, 2000),
    n_classes=st.integers(2, 6),
    dtype=st.sampled_from([np.float32, np.float64]),
    span=st.booleans(),
    filter_by=st.sampled_from(options.FILTER_BY),
    block_tokens=st.integers(1, 700),
)
def test_every_thread_count_and_block_size_gives_the_unsplit_answer(
    seed, n_tokens, n_classes, dtype, span, filter_by, block_tokens
):
    checked = _data(seed, n_tokens, n_classes, dtype, span)
    if np.unique(checked.labels).size < 2:
        return
    with pytest.MonkeyPatch.context() as monkeypatch:
        expected = _run(checked, filter_by, 1, 10**9, monkeypatch)
        for n_jobs in (1, 2, 4, 8):  # 8: span class sums in blocks too
            got = _run(checked, filter_by, n_jobs, block_tokens, monkeypatch)
            assert got.dtype == expected.dtype
            np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("filter_by", options.FILTER_BY)
def test_public_functions_agree_across_thread_counts(filter_by, monkeypatch):
    """Through the façades too (their own two-core paths included), many blocks."""
    rng = np.random.default_rng(7)
    lengths = rng.integers(1, 30, 300)
    offsets = np.concatenate([[0], np.cumsum(lengths)])
    T, K = int(offsets[-1]), 5
    probs = rng.dirichlet(np.full(K, 0.3), T)
    labels = np.where(rng.random(T) < 0.15, rng.integers(0, K, T), probs.argmax(axis=1))
    nested_labels = [labels[a:b].tolist() for a, b in zip(offsets[:-1], offsets[1:])]
    nested_probs = [probs[a:b] for a, b in zip(offsets[:-1], offsets[1:])]
    monkeypatch.setattr(plans, "BLOCK_TOKENS", 97)
    answers = [
        token_find(nested_labels, nested_probs, filter_by=filter_by, n_jobs=n_jobs)
        for n_jobs in (1, 2, 4)
    ]
    assert answers[0] == answers[1] == answers[2]
    table = find_issues(nested_labels, nested_probs, filter_by=filter_by)  # all cores
    monkeypatch.setattr(plans, "BLOCK_TOKENS", 10**9)
    assert token_find(nested_labels, nested_probs, filter_by=filter_by, n_jobs=1) == answers[0]
    assert find_issues(nested_labels, nested_probs, filter_by=filter_by) == table


def test_span_find_is_the_same_with_many_blocks(monkeypatch):
    rng = np.random.default_rng(3)
    probs = [rng.random(rng.integers(1, 25)) for _ in range(400)]
    labels = [(p > 0.5).astype(int) ^ (rng.random(p.shape[0]) < 0.1) for p in probs]
    one_block = span_find(labels, probs)
    monkeypatch.setattr(plans, "BLOCK_TOKENS", 61)
    assert span_find(labels, probs) == one_block


@pytest.mark.parametrize(("span", "n_classes"), [(False, 4), (False, 2), (True, 2)])
def test_class_sums_run_in_blocks_when_threads_are_free(span, n_classes, monkeypatch):
    from spanfast import _steps

    checked = _data(11, 3000, n_classes, np.float32, span)
    blocked = []
    prepare = _steps.ClassMeans.prepare_blocks

    def spy(self, blocks, state, n_jobs):
        blocked.append((n_jobs, len(blocks)))
        return prepare(self, blocks, state, n_jobs)

    monkeypatch.setattr(_steps.ClassMeans, "prepare_blocks", spy)
    expected = _run(checked, "confident_learning", 1, 10**9, monkeypatch)
    for n_jobs in (1, 2, 4):
        got = _run(checked, "confident_learning", n_jobs, 256, monkeypatch)
        np.testing.assert_array_equal(got, expected)
    # One thread: the whole-batch walk; span data from 4 threads (see ClassMeans.in_blocks).
    assert blocked == ([(4, 12)] if span else [(2, 12), (4, 12)])


def test_thread_count_follows_n_jobs_and_is_one_off_the_main_thread():
    assert _threads.thread_count(3) == 3
    assert _threads.thread_count(None) == _threads.available_cores()
    seen = []
    worker = threading.Thread(target=lambda: seen.append(_threads.thread_count(None)))
    worker.start()
    worker.join()
    assert seen == [1]  # a user's or Dask's worker thread: no threads of our own
    assert _threads.thread_count(2) == 2  # unless asked for


def test_in_blocks_keeps_block_order_whoever_finishes_first():
    def slow_first(block: int) -> int:
        if block < 3:
            time.sleep(0.05)  # the calling thread's blocks finish last
        return block * 10

    assert _threads.in_blocks(4, slow_first, list(range(11))) == [b * 10 for b in range(11)]
    assert _threads.in_blocks(1, slow_first, list(range(5))) == [0, 10, 20, 30, 40]
    assert _threads.in_blocks(8, slow_first, [1]) == [10]


def test_in_blocks_raises_a_blocks_error():
    def failing(block: int) -> int:
        if block == 5:
            raise ValueError("block 5")
        return block

    with pytest.raises(ValueError, match="block 5"):
        _threads.in_blocks(3, failing, list(range(8)))
