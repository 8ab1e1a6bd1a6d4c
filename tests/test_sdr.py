"""Tests of neuromem.sdr: code types, similarity, batch kernels and chance laws."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import special

from neuromem import sdr


# --------------------------------------------------------------------------- SDR
def test_sdr_sorts_and_validates():
    a = sdr.SDR([9, 1, 5], size=16)
    assert a.indices.tolist() == [1, 5, 9]
    assert a.n_active == 3 and len(a) == 3 and a.size == 16
    assert a.sparsity == pytest.approx(3 / 16)
    with pytest.raises(ValueError, match="indices must be unique"):
        sdr.SDR([1, 1, 2], size=4)
    with pytest.raises(ValueError, match=r"indices must lie in \[0, 4\)"):
        sdr.SDR([0, 4], size=4)
    with pytest.raises(ValueError, match=r"indices must lie"):
        sdr.SDR([-1, 2], size=4)
    with pytest.raises(TypeError, match="integer dtype"):
        sdr.SDR([0.5, 1.0], size=4)
    with pytest.raises(TypeError, match="integer dtype"):
        sdr.SDR(np.array([True, False]), size=4)
    with pytest.raises(ValueError, match="one-dimensional"):
        sdr.SDR([[0, 1]], size=4)
    with pytest.raises(TypeError, match="size must be an integer"):
        sdr.SDR([0], size=4.0)


def test_sdr_is_immutable():
    a = sdr.SDR([1, 2], size=4)
    with pytest.raises(ValueError):
        a.indices[0] = 3


def test_sdr_dense_roundtrip_and_errors():
    dense = np.array([0, 1, 0, 1, 1, 0], dtype=np.uint8)
    a = sdr.SDR.from_dense(dense)
    assert a.indices.tolist() == [1, 3, 4]
    assert np.array_equal(a.to_dense(dtype=np.uint8), dense)
    with pytest.raises(ValueError, match="binary"):
        sdr.SDR.from_dense([0, 2, 1])
    with pytest.raises(ValueError, match="NaN"):
        sdr.SDR.from_dense([0.0, np.nan])
    with pytest.raises(ValueError, match="one-dimensional"):
        sdr.SDR.from_dense(np.zeros((2, 2)))


def test_overlap_and_jaccard():
    a = sdr.SDR([1, 5, 9], 16)
    b = sdr.SDR([5, 9, 12, 13], 16)
    assert a.overlap(b) == 2 == sdr.overlap(b, a)
    assert a.jaccard(b) == pytest.approx(2 / 5)
    empty = sdr.SDR([], 16)
    assert empty.jaccard(sdr.SDR([], 16)) == 1.0
    assert empty.overlap(a) == 0
    with pytest.raises(ValueError, match="different sizes"):
        a.overlap(sdr.SDR([1], 8))
    with pytest.raises(TypeError, match="must be an SDR"):
        a.overlap([1, 5])


def test_random_sdr():
    rng = np.random.default_rng(0)
    a = sdr.SDR.random(100, 10, rng)
    assert a.n_active == 10 and a.size == 100
    with pytest.raises(ValueError, match="n_active must be <= size"):
        sdr.SDR.random(5, 6, rng)


# --------------------------------------------------------------------------- ModularCode
def test_modular_code_conversions():
    c = sdr.ModularCode([0, 3, 2, 1], K=4)
    assert (c.Q, c.K, c.size) == (4, 4, 16)
    flat = c.to_sdr()
    assert flat.indices.tolist() == [0, 7, 10, 13]
    assert sdr.ModularCode.from_sdr(flat, K=4) == c
    assert sdr.ModularCode.from_dense(c.to_dense()) == c
    assert sdr.ModularCode.from_dense(c.to_dense(flat=True), K=4) == c
    assert c.to_dense().sum(axis=1).tolist() == [1, 1, 1, 1]


def test_modular_code_errors():
    with pytest.raises(ValueError, match="K must be >= 2"):
        sdr.ModularCode([0, 0], K=1)
    with pytest.raises(ValueError, match=r"winners must lie in \[0, K=3\)"):
        sdr.ModularCode([0, 3], K=3)
    with pytest.raises(ValueError, match="non-empty"):
        sdr.ModularCode([], K=3)
    with pytest.raises(TypeError, match="integer dtype"):
        sdr.ModularCode([0.0, 1.0], K=3)
    with pytest.raises(ValueError, match="exactly one active cell in each module"):
        sdr.ModularCode.from_sdr(sdr.SDR([0, 1], 8), K=4)
    with pytest.raises(ValueError, match="exactly one active cell"):
        sdr.ModularCode.from_dense(np.array([[1, 1, 0], [0, 0, 1]]))
    with pytest.raises(ValueError, match="K is required"):
        sdr.ModularCode.from_dense(np.array([1, 0, 0, 1]))
    a = sdr.ModularCode([0, 1], K=3)
    with pytest.raises(ValueError, match="different shapes"):
        a.similarity(sdr.ModularCode([0, 1, 2], K=3))


def test_code_similarity():
    a = sdr.ModularCode([0, 3, 2, 1], K=4)
    b = sdr.ModularCode([0, 3, 1, 1], K=4)
    assert sdr.code_similarity(a, b) == 0.75
    assert a.overlap(b) == 3
    # Jaccard of the flat codes: 3 shared of 5 distinct cells
    assert sdr.jaccard(a, b) == pytest.approx(3 / 5)
    with pytest.raises(TypeError, match="ModularCode"):
        sdr.code_similarity(a.to_sdr(), b)


# --------------------------------------------------------------------------- batch kernels
def _random_sdrs(rng, n, size):
    return [sdr.SDR.random(size, int(rng.integers(0, size + 1)), rng) for _ in range(n)]


def test_pairwise_overlap_matches_pair_function():
    rng = np.random.default_rng(3)
    a = _random_sdrs(rng, 7, 40)
    b = _random_sdrs(rng, 5, 40)
    m = sdr.pairwise_overlap(a, b)
    assert m.shape == (7, 5)
    expected = np.array([[x.overlap(y) for y in b] for x in a])
    assert np.array_equal(m, expected)
    j = sdr.pairwise_jaccard(a, b)
    assert np.allclose(j, [[x.jaccard(y) for y in b] for x in a])
    # self matrix: diagonal is each code's size
    s = sdr.pairwise_overlap(a)
    assert np.array_equal(np.diag(s), [x.n_active for x in a])
    assert np.array_equal(s, s.T)


def test_pairwise_overlap_dense_input_equals_matrix_product():
    rng = np.random.default_rng(4)
    dense = rng.random((6, 30)) < 0.3
    m = sdr.pairwise_overlap(dense)
    d = dense.astype(int)
    assert np.array_equal(m, d @ d.T)
    with pytest.raises(ValueError, match="2-D"):
        sdr.pairwise_overlap(np.zeros(5, dtype=bool))
    with pytest.raises(ValueError, match="different code sizes"):
        sdr.pairwise_overlap(dense, np.zeros((2, 31), dtype=bool))


def test_pairwise_code_similarity():
    rng = np.random.default_rng(5)
    codes = [sdr.ModularCode.random(12, 5, rng) for _ in range(9)]
    m = sdr.pairwise_code_similarity(codes)
    expected = np.array([[x.similarity(y) for y in codes] for x in codes])
    assert np.allclose(m, expected)
    assert np.allclose(np.diag(m), 1.0)
    w = np.stack([c.winners for c in codes])
    assert np.allclose(sdr.pairwise_code_similarity(w, K=5), m)
    with pytest.raises(ValueError, match=r"winners must lie in \[0, K=4\)"):
        sdr.pairwise_code_similarity(w, K=4)
    with pytest.raises(ValueError, match="different Q"):
        sdr.pairwise_code_similarity(w, w[:, :3])
    with pytest.raises(TypeError, match="integer winners"):
        sdr.pairwise_code_similarity(w.astype(float))


@settings(max_examples=60, deadline=None)
@given(
    size=st.integers(1, 60),
    data=st.data(),
)
def test_property_overlap_bounds_and_symmetry(size, data):
    a_idx = data.draw(st.sets(st.integers(0, size - 1), max_size=size))
    b_idx = data.draw(st.sets(st.integers(0, size - 1), max_size=size))
    a = sdr.SDR(sorted(a_idx), size)
    b = sdr.SDR(sorted(b_idx), size)
    ov = a.overlap(b)
    assert ov == len(a_idx & b_idx)
    assert ov == b.overlap(a)
    assert 0 <= ov <= min(a.n_active, b.n_active)
    j = a.jaccard(b)
    assert 0.0 <= j <= 1.0
    if a_idx == b_idx:
        assert j == 1.0
    assert sdr.SDR.from_dense(a.to_dense()) == a


@settings(max_examples=60, deadline=None)
@given(q=st.integers(1, 20), k=st.integers(2, 9), data=st.data())
def test_property_modular_roundtrip(q, k, data):
    winners = data.draw(st.lists(st.integers(0, k - 1), min_size=q, max_size=q))
    c = sdr.ModularCode(winners, K=k)
    assert sdr.ModularCode.from_sdr(c.to_sdr(), K=k) == c
    assert c.to_sdr().n_active == q
    assert c.similarity(c) == 1.0


# --------------------------------------------------------------------------- analytic laws
def test_overlap_pmf_matches_combinatorics():
    size, a, b = 20, 5, 7
    pmf = sdr.overlap_pmf(size, a, b)
    exact = [
        special.comb(a, k, exact=True)
        * special.comb(size - a, b - k, exact=True)
        / special.comb(size, b, exact=True)
        for k in range(min(a, b) + 1)
    ]
    assert np.allclose(pmf, exact)
    assert pmf.sum() == pytest.approx(1.0)
    assert sdr.expected_overlap(size, a, b) == pytest.approx((np.arange(pmf.size) * pmf).sum())
    assert sdr.prob_overlap_at_least(0, size, a, b) == pytest.approx(1.0)
    assert sdr.prob_overlap_at_least(2, size, a, b) == pytest.approx(pmf[2:].sum())


def test_modular_pmf_is_binomial():
    pmf = sdr.modular_overlap_pmf(6, 4)
    exact = [special.comb(6, k) * 0.25**k * 0.75 ** (6 - k) for k in range(7)]
    assert np.allclose(pmf, exact)
    assert sdr.expected_modular_overlap(6, 4) == pytest.approx(1.5)
    assert sdr.prob_modular_overlap_at_least(1, 6, 4) == pytest.approx(1 - 0.75**6)


def test_analytic_argument_errors():
    with pytest.raises(ValueError, match="a must be <= size"):
        sdr.overlap_pmf(10, 11)
    with pytest.raises(ValueError, match="size must be >= 1"):
        sdr.expected_overlap(0, 0)
    with pytest.raises(ValueError, match="K must be >= 2"):
        sdr.modular_overlap_pmf(4, 1)
    with pytest.raises(ValueError, match="k must be >= 0"):
        sdr.prob_overlap_at_least(-1, 10, 2)


def test_measured_overlap_of_random_codes_follows_hypergeometric():
    """The Monte-Carlo mean of random-pair overlaps lies within 4 standard errors."""
    rng = np.random.default_rng(11)
    size, n_active, n = 200, 20, 4000
    codes_a = [sdr.SDR.random(size, n_active, rng) for _ in range(n)]
    codes_b = [sdr.SDR.random(size, n_active, rng) for _ in range(n)]
    ia, la, _ = sdr.stack_sdrs(codes_a)
    ib, lb, _ = sdr.stack_sdrs(codes_b)
    ov = sdr.paired_overlap(ia, la, ib, lb)
    pmf = sdr.overlap_pmf(size, n_active)
    k = np.arange(pmf.size)
    var = (k**2 * pmf).sum() - ((k * pmf).sum()) ** 2
    assert abs(ov.mean() - sdr.expected_overlap(size, n_active)) < 4 * np.sqrt(var / n)


# --------------------------------------------------------------------------- issue 17
def test_paired_overlap_refuses_lengths_beyond_the_row_width():
    # length 4 on rows of width 2 read past the row (the old answer was [2, 2]; truth [1, 2])
    a = np.array([[1, 5], [3, 4]])
    b = np.array([[5, 9], [3, 4]])
    assert sdr.paired_overlap(a, [2, 2], b, [2, 2]).tolist() == [1, 2]
    with pytest.raises(ValueError, match=r"len_a\[0\] = 4 is outside \[0, 2\]"):
        sdr.paired_overlap(a, [4, 2], b, [2, 2])
    with pytest.raises(ValueError, match=r"len_b\[1\] = -1"):
        sdr.paired_overlap(a, [2, 2], b, [2, -1])


def test_paired_overlap_refuses_short_lengths_unsorted_rows_and_bad_types():
    a = np.array([[1, 5], [3, 4]])
    with pytest.raises(ValueError, match="len_a must hold one length per row of ind_a"):
        sdr.paired_overlap(a, [2], a, [2, 2])
    with pytest.raises(ValueError, match="ind_a and ind_b must have the same number of rows"):
        sdr.paired_overlap(a, [2, 2], a[:1], [2])
    with pytest.raises(ValueError, match="ind_b: row 1 is not sorted"):
        sdr.paired_overlap(a, [2, 2], np.array([[1, 5], [4, 3]]), [2, 2])
    with pytest.raises(ValueError, match="ind_a: row 0 is not sorted"):
        sdr.paired_overlap(np.array([[5, 5]]), [2], a[:1], [2])
    with pytest.raises(ValueError, match="ind_a: row 0 holds a negative index"):
        sdr.paired_overlap(np.array([[-1, 5]]), [2], a[:1], [2])
    with pytest.raises(TypeError, match="ind_a must be an integer array"):
        sdr.paired_overlap(a.astype(float), [2, 2], a, [2, 2])
    with pytest.raises(TypeError, match="len_b must be an integer array"):
        sdr.paired_overlap(a, [2, 2], a, [2.0, 2.5])
    with pytest.raises(ValueError, match="ind_a must be 2-D"):
        sdr.paired_overlap([1, 2], [2], a, [2, 2])
    # padding after the active part is free, and a shorter length ignores the rest
    assert sdr.paired_overlap(np.array([[1, 5, -1]]), [2], np.array([[9, 5]]), [1]).tolist() == [0]


@given(st.integers(1, 40), st.data())
@settings(max_examples=30, deadline=None, derandomize=True)
def test_property_paired_overlap_equals_set_intersection(size, data):
    rows_a, rows_b = [], []
    for _ in range(data.draw(st.integers(1, 5))):
        rows_a.append(sorted(data.draw(st.sets(st.integers(0, size - 1), max_size=size))))
        rows_b.append(sorted(data.draw(st.sets(st.integers(0, size - 1), max_size=size))))
    ia, la, _ = sdr.stack_sdrs([sdr.SDR(r, size) for r in rows_a])
    ib, lb, _ = sdr.stack_sdrs([sdr.SDR(r, size) for r in rows_b])
    got = sdr.paired_overlap(ia, la, ib, lb)
    assert got.tolist() == [len(set(x) & set(y)) for x, y in zip(rows_a, rows_b)]


def test_overlap_pmf_of_huge_codes_is_fast_and_normalised():
    import time

    from scipy import stats

    t0 = time.perf_counter()
    p = sdr.overlap_pmf(10**12, 10**6)  # scipy's per-point pmf needs hours here
    assert time.perf_counter() - t0 < 10
    assert p.shape == (10**6 + 1,)
    assert p.sum() == pytest.approx(1.0, abs=1e-12)
    # mean a b / size = 1: close to Poisson(1)
    assert p[:3] == pytest.approx([np.exp(-1), np.exp(-1), np.exp(-1) / 2], rel=1e-5)
    for size, a, b in ((1024, 32, 32), (100, 60, 70), (50, 10, 45), (10, 10, 10), (5, 0, 3)):
        want = stats.hypergeom(size, a, b).pmf(np.arange(min(a, b) + 1))
        np.testing.assert_allclose(sdr.overlap_pmf(size, a, b), want, rtol=1e-9, atol=1e-15)


def test_sizes_beyond_memory_are_refused_with_the_estimate(monkeypatch):
    monkeypatch.setenv("NEUROMEM_MEMORY_LIMIT", "64M")
    with pytest.raises(ValueError, match=r"a=100000000, b=100000000.*needs about .* GiB; "):
        sdr.overlap_pmf(10**12, 10**8)
    with pytest.raises(ValueError, match=r"Q=100000000 .*this machine has 64 MiB"):
        sdr.modular_overlap_pmf(10**8, 4)
    with pytest.raises(ValueError, match=r"size=1000000000 \(to_dense\)"):
        sdr.SDR([1], 10**9).to_dense()
    with pytest.raises(ValueError, match=r"n_active=100000000 \(SDR.random\)"):
        sdr.SDR.random(10**12, 10**8, rng=0)
    with pytest.raises(ValueError, match=r"Q=100000000 \(ModularCode.random\)"):
        sdr.ModularCode.random(10**8, 4, rng=0)
    assert sdr.overlap_pmf(1000, 10).shape == (11,)
