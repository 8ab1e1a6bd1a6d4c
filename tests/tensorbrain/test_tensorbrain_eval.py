"""Filtered ranking: realistic ties, filtering, MRR and Hits@k."""

from __future__ import annotations

import numpy as np
import pytest

from neuromem.tensorbrain import FilterIndex, evaluate_ranking, rank_metrics, ranks_from_scores


def test_all_tied_scores_get_the_middle_rank():
    n = 9
    r = ranks_from_scores(np.zeros((3, n)), np.array([0, 4, 8]))
    assert np.allclose(r, (n + 1) / 2)


def test_filter_removes_other_true_answers():
    scores = np.array([[5.0, 4.0, 3.0, 2.0]])
    # target 2 is beaten by 0 and 1 raw; with 0 filtered, only 1 beats it
    assert ranks_from_scores(scores, np.array([2]))[0] == 3.0
    r = ranks_from_scores(scores, np.array([2]), np.array([0, 1]), np.array([0]))
    assert r[0] == 2.0
    # the target itself is never filtered
    r = ranks_from_scores(scores, np.array([2]), np.array([0, 2]), np.array([2, 0]))
    assert r[0] == 2.0


def test_ranks_match_brute_force():
    rng = np.random.default_rng(3)
    for _ in range(20):
        B, N = 7, 12
        s = rng.integers(0, 4, (B, N)).astype(float)  # many ties
        t = rng.integers(0, N, B)
        filt = [rng.choice(N, rng.integers(0, 4), replace=False) for _ in range(B)]
        ptr = np.concatenate([[0], np.cumsum([len(f) for f in filt])])
        idx = np.concatenate(filt).astype(np.int64) if ptr[-1] else np.zeros(0, np.int64)
        got = ranks_from_scores(s, t, ptr, idx)
        for b in range(B):
            keep = [k for k in range(N) if k == t[b] or k not in set(filt[b])]
            others = [k for k in keep if k != t[b]]
            better = sum(s[b, k] > s[b, t[b]] for k in others)
            tied = sum(s[b, k] == s[b, t[b]] for k in others)
            assert got[b] == pytest.approx(1 + better + tied / 2)


def test_bad_scores_and_targets():
    with pytest.raises(ValueError, match="scores: contains NaN"):
        ranks_from_scores(np.array([[np.nan, 1.0]]), np.array([0]))
    with pytest.raises(ValueError, match="target"):
        ranks_from_scores(np.zeros((1, 3)), np.array([3]))
    with pytest.raises(ValueError, match="scores"):
        ranks_from_scores(np.zeros(3), np.array([0]))


def test_rank_metrics_values():
    m = rank_metrics([1, 2, 4, 20])
    assert m["mrr"] == pytest.approx((1 + 0.5 + 0.25 + 0.05) / 4)
    assert m["hits1"] == 0.25 and m["hits3"] == 0.5 and m["hits10"] == 0.75
    with pytest.raises(ValueError, match="empty"):
        rank_metrics([])


def test_filter_index_lists():
    t = np.array([[0, 0, 1], [0, 0, 2], [1, 0, 2], [0, 1, 1]])
    fi = FilterIndex(t, 3, 2)
    ptr, idx = fi.filters(np.array([0, 1, 2]), np.array([0, 0, 0]), "tail")
    assert sorted(idx[ptr[0] : ptr[1]]) == [1, 2]
    assert list(idx[ptr[1] : ptr[2]]) == [2]
    assert ptr[3] == ptr[2]
    ptr, idx = fi.filters(np.array([2]), np.array([0]), "head")
    assert sorted(idx[ptr[0] : ptr[1]]) == [0, 1]


def test_evaluate_ranking_perfect_and_uniform_models():
    t = np.array([[0, 0, 1], [1, 0, 2], [2, 0, 0]])
    known = np.zeros((3, 1, 3), bool)
    known[t[:, 0], t[:, 1], t[:, 2]] = True

    def tail(s, p):
        return known[s, p, :].astype(float)

    def head(p, o):
        return known[:, p, o].T.astype(float)

    perfect = evaluate_ranking(tail, head, t, FilterIndex(t, 3, 1))
    assert perfect["mrr"] == 1.0 and perfect["hits1"] == 1.0
    flat = evaluate_ranking(
        lambda s, p: np.zeros((len(s), 3)), lambda p, o: np.zeros((len(o), 3)), t, None
    )
    assert flat["mrr"] == pytest.approx(0.5)  # every rank is (3 + 1) / 2
    with pytest.raises(ValueError, match="empty split"):
        evaluate_ranking(tail, head, np.zeros((0, 3), int), None)
