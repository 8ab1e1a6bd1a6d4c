"""Tensor models: analytic gradients, head/tail consistency, training, persistence, errors."""

from __future__ import annotations

import numpy as np
import pytest

from neuromem.errors import DataNotFoundError
from neuromem.tensorbrain import MODELS, Adam, TensorModel
from neuromem.tensorbrain.kernels import bilinear_query, bilinear_query_backward


def _numgrad_check(model, triples, smoothing, reg, rng, n_checks=12):
    _, grads = model.loss_and_grad(triples, smoothing, reg)
    worst = 0.0
    for k, p in model.params.items():
        flat = p.reshape(-1)
        for i in rng.choice(flat.size, min(n_checks, flat.size), replace=False):
            old = flat[i]
            h = 1e-6
            flat[i] = old + h
            lp, _ = model.loss_and_grad(triples, smoothing, reg)
            flat[i] = old - h
            lm, _ = model.loss_and_grad(triples, smoothing, reg)
            flat[i] = old
            num = (lp - lm) / (2 * h)
            worst = max(worst, abs(num - grads[k].reshape(-1)[i]) / max(1.0, abs(num)))
    return worst


@pytest.mark.parametrize("reciprocal", [False, True])
@pytest.mark.parametrize("kind", MODELS)
def test_gradients_match_finite_differences(kind, reciprocal):
    rng = np.random.default_rng(11)
    m = TensorModel(kind, 7, 3, dim=6, rel_dim=4, init_scale=0.5, seed=2, reciprocal=reciprocal)
    t = np.stack([rng.integers(0, 7, 6), rng.integers(0, 3, 6), rng.integers(0, 7, 6)], 1)
    assert _numgrad_check(m, t, 0.1, 0.05, rng) < 1e-6
    assert _numgrad_check(m, t, 0.0, 0.0, rng) < 1e-6


@pytest.mark.parametrize("transpose", [True, False])
def test_bilinear_kernel_against_einsum(transpose):
    rng = np.random.default_rng(0)
    e = rng.normal(size=(5, 4))
    mats = rng.normal(size=(3, 4, 4))
    rel = rng.integers(0, 3, 5)
    q = bilinear_query(e, mats, rel, transpose)
    ref = (
        np.einsum("bi,bij->bj", e, mats[rel])
        if transpose
        else np.einsum("bij,bj->bi", mats[rel], e)
    )
    assert np.allclose(q, ref)
    dq = rng.normal(size=q.shape)
    de = np.zeros_like(e)
    dm = np.zeros_like(mats)
    bilinear_query_backward(e, mats, rel, transpose, dq, de, dm)
    ref_de = (
        np.einsum("bij,bj->bi", mats[rel], dq)
        if transpose
        else np.einsum("bi,bij->bj", dq, mats[rel])
    )
    assert np.allclose(de, ref_de)


@pytest.mark.parametrize("kind", MODELS)
def test_head_and_tail_queries_score_the_same_triple(kind):
    m = TensorModel(kind, 9, 4, dim=8, rel_dim=5, init_scale=0.4, seed=5)
    m.params["b"][:] = np.arange(9) * 0.1
    rng = np.random.default_rng(1)
    t = np.stack([rng.integers(0, 9, 10), rng.integers(0, 4, 10), rng.integers(0, 9, 10)], 1)
    x = m.score_triples(t)
    tail = m.score_tail(t[:, 0], t[:, 1])[np.arange(10), t[:, 2]] - m.params["b"][t[:, 2]]
    head = m.score_head(t[:, 1], t[:, 2])[np.arange(10), t[:, 0]] - m.params["b"][t[:, 0]]
    assert np.allclose(tail, x) and np.allclose(head, x)
    p = m.predict_proba(t[:, 0], t[:, 1])
    assert np.allclose(p.sum(axis=1), 1.0)


@pytest.mark.parametrize("kind", MODELS)
def test_reciprocal_head_query_is_the_inverse_relations_tail_query(kind):
    m = TensorModel(kind, 9, 4, dim=8, rel_dim=5, init_scale=0.4, seed=5, reciprocal=True)
    assert m.params["R"].shape[0] == 8  # p and p^-1
    rng = np.random.default_rng(1)
    o, p = rng.integers(0, 9, 10), rng.integers(0, 4, 10)
    head = m.score_head(p, o)
    # the same numbers from a plain model holding the inverse relations as relations 4..7
    plain = TensorModel(kind, 9, 8, dim=8, rel_dim=5, seed=0)
    for k in m.params:
        plain.params[k][...] = m.params[k]
    assert np.allclose(head, plain.score_tail(o, p + 4))
    assert np.allclose(m.score_tail(o, p), plain.score_tail(o, p))
    # the head query no longer uses p's own parameters: changing them leaves it unchanged
    m.params["R"][:4] += 1.0
    assert np.allclose(m.score_head(p, o), head)
    assert not np.allclose(m.score_tail(o, p), plain.score_tail(o, p))
    with pytest.raises(TypeError, match="reciprocal: expected a bool"):
        TensorModel(kind, 3, 1, dim=4, reciprocal=1)


def _permutation_graph(n=16, n_rel=3, seed=0):
    rng = np.random.default_rng(seed)
    rows = []
    for p in range(n_rel):
        perm = rng.permutation(n)
        rows += [(s, p, perm[s]) for s in range(n)]
    return np.array(rows, dtype=np.int64)


@pytest.mark.parametrize(
    "kind, reciprocal",
    [("rescal", False), ("complex", False), ("tucker", False), ("rescal", True), ("complex", True)],
)
def test_training_memorises_a_graph(kind, reciprocal):
    t = _permutation_graph()
    m = TensorModel(kind, 16, 3, dim=16, rel_dim=8, seed=0, reciprocal=reciprocal)
    before = m.evaluate(t, t)["mrr"]
    losses = m.fit(t, epochs=150, batch_size=16, lr=0.02, smoothing=0.0, reg=0.0, seed=0)
    after = m.evaluate(t, t)
    assert losses[-1] < 0.5 * losses[0]
    assert before < 0.5  # chance MRR of 16 candidates is about 0.21
    assert after["mrr"] > 0.95, after


def test_distmult_is_symmetric():
    m = TensorModel("distmult", 6, 2, dim=4, seed=0)
    t = np.array([[1, 0, 3], [3, 0, 1]])
    x = m.score_triples(t)
    assert x[0] == pytest.approx(x[1])


def test_fit_time_budget_and_history():
    t = _permutation_graph(8, 2)
    m = TensorModel("distmult", 8, 2, dim=4, seed=0)
    out = m.fit(t, epochs=1000, time_budget=1e-9, seed=0)
    assert len(out) == 1 and m.history == out


@pytest.mark.parametrize("reciprocal", [False, True])
def test_save_load_roundtrip(tmp_path, reciprocal):
    m = TensorModel("tucker", 5, 2, dim=4, rel_dim=3, seed=1, reciprocal=reciprocal)
    path = m.save(tmp_path / "m.npz")
    m2 = TensorModel.load(path)
    assert m2.kind == "tucker" and m2.rel_dim == 3 and m2.reciprocal is reciprocal
    for k in m.params:
        assert np.array_equal(m.params[k], m2.params[k])
    assert np.array_equal(m.score_head([0, 1], [2, 3]), m2.score_head([0, 1], [2, 3]))
    with pytest.raises(DataNotFoundError):
        TensorModel.load(tmp_path / "absent.npz")
    np.savez(tmp_path / "other.npz", x=np.zeros(2))
    with pytest.raises(ValueError, match="not a neuromem tensor-model file"):
        TensorModel.load(tmp_path / "other.npz")


def test_version_1_files_load_as_non_reciprocal(tmp_path):
    m = TensorModel("complex", 5, 2, dim=4, seed=1)
    np.savez(tmp_path / "v1.npz", _meta=np.array([1, 5, 2, 4, 4]), _kind=np.array("complex"),
             **m.params)  # fmt: skip
    m2 = TensorModel.load(tmp_path / "v1.npz")
    assert m2.reciprocal is False and np.array_equal(m2.params["R"], m.params["R"])


def test_same_seed_same_parameters_whatever_the_blas_threads():
    """fit holds BLAS to one thread: a process-wide limit of 2 changes nothing. (Without
    the pin these shapes -- UMLS's 135 entities, batches of 128, dim 256 -- gave other
    parameters with 2 OpenBLAS threads on the development machine.)"""
    from threadpoolctl import threadpool_limits

    rng = np.random.default_rng(0)
    t = np.stack([rng.integers(0, 135, 600), rng.integers(0, 5, 600), rng.integers(0, 135, 600)], 1)
    runs = []
    for threads in (1, 2):
        with threadpool_limits(limits=threads, user_api="blas"):
            m = TensorModel("complex", 135, 5, dim=256, seed=3, reciprocal=True)
            m.fit(t, epochs=2, batch_size=128, seed=4)
        runs.append(m.params)
    for k in runs[0]:
        assert np.array_equal(runs[0][k], runs[1][k])


def test_bad_arguments():
    with pytest.raises(ValueError, match="kind: unknown model"):
        TensorModel("transe", 3, 1)
    with pytest.raises(ValueError, match="dim: ComplEx needs an even"):
        TensorModel("complex", 3, 1, dim=5)
    with pytest.raises(ValueError, match="n_entities"):
        TensorModel("rescal", 0, 1)
    m = TensorModel("rescal", 3, 1, dim=2)
    with pytest.raises(ValueError, match="anchor: ids must lie"):
        m.score_tail([5], [0])
    with pytest.raises(TypeError, match="integer ids"):
        m.score_tail([0.5], [0])
    with pytest.raises(ValueError, match="direction"):
        m.scores([0], [0], "left")
    with pytest.raises(ValueError, match="triples"):
        m.fit(np.zeros((0, 3), int))
    with pytest.raises(ValueError, match="smoothing"):
        m.fit(np.array([[0, 0, 1]]), smoothing=1.0)
    with pytest.raises(ValueError, match="relations"):
        m.fit(np.array([[0, 4, 1]]))


def test_adam_minimises_a_quadratic():
    x = {"w": np.array([3.0, -2.0])}
    opt = Adam(x, lr=0.1)
    for _ in range(500):
        opt.step({"w": 2 * x["w"]})
    assert np.all(np.abs(x["w"]) < 1e-2)
    with pytest.raises(ValueError, match="lr"):
        Adam(x, lr=0)


def _numgrad_check_all(model, triples, reg_all, rng, keys, n_checks=12):
    """As _numgrad_check, with the all-entity N3 weight ``reg_all``, on ``keys`` only."""
    _, grads = model.loss_and_grad(triples, 0.1, 0.05, reg_all)
    worst = 0.0
    for k in keys:
        flat = model.params[k].reshape(-1)
        for i in rng.choice(flat.size, min(n_checks, flat.size), replace=False):
            old = flat[i]
            h = 1e-6
            flat[i] = old + h
            lp, _ = model.loss_and_grad(triples, 0.1, 0.05, reg_all)
            flat[i] = old - h
            lm, _ = model.loss_and_grad(triples, 0.1, 0.05, reg_all)
            flat[i] = old
            num = (lp - lm) / (2 * h)
            worst = max(worst, abs(num - grads[k].reshape(-1)[i]) / max(1.0, abs(num)))
    return worst, grads


@pytest.mark.parametrize("kind", MODELS)
def test_all_entity_n3_and_no_bias_gradients_match_finite_differences(kind):
    rng = np.random.default_rng(5)
    # 9 entities, the batch uses at most 4: the all-entity term reaches the unused rows
    t = np.stack([rng.integers(0, 4, 5), rng.integers(0, 3, 5), rng.integers(0, 4, 5)], 1)
    keys = ["E", "R"] + (["W"] if kind == "tucker" else [])
    m = TensorModel(kind, 9, 3, dim=6, rel_dim=4, init_scale=0.5, seed=2, entity_bias=False)
    worst, grads = _numgrad_check_all(m, t, 0.3, rng, keys)
    assert worst < 1e-6
    assert not grads["b"].any()  # the frozen bias gets no gradient
    # reg_all adds 3 mu / N * a |a| to every row, those the batch skips included
    unused = np.setdiff1d(np.arange(9), t[:, [0, 2]].ravel())
    E = m.params["E"]
    extra = grads["E"] - m.loss_and_grad(t, 0.1, 0.05, 0.0)[1]["E"]
    assert np.allclose(extra, 3 * 0.3 / 9 * E * np.abs(E)) and np.abs(extra[unused]).sum() > 0
    m_b = TensorModel(kind, 9, 3, dim=6, rel_dim=4, init_scale=0.5, seed=2)
    assert _numgrad_check_all(m_b, t, 0.3, rng, keys + ["b"])[0] < 1e-6


def test_no_entity_bias_stays_zero_in_training_and_save_load(tmp_path):
    rng = np.random.default_rng(0)
    t = np.stack([rng.integers(0, 6, 30), rng.integers(0, 2, 30), rng.integers(0, 6, 30)], 1)
    m = TensorModel("complex", 6, 2, dim=4, seed=1, entity_bias=False)
    m.fit(t, epochs=3, batch_size=8, reg_all=0.05, seed=0)
    assert not m.params["b"].any()
    on = TensorModel("complex", 6, 2, dim=4, seed=1)
    on.fit(t, epochs=3, batch_size=8, seed=0)
    assert on.params["b"].any()
    m2 = TensorModel.load(m.save(tmp_path / "m.npz"))
    assert m2.entity_bias is False and np.array_equal(m2.params["E"], m.params["E"])
    assert TensorModel.load(on.save(tmp_path / "on.npz")).entity_bias is True


def test_version_2_files_load_with_the_bias(tmp_path):
    m = TensorModel("complex", 5, 2, dim=4, seed=1, reciprocal=True)
    np.savez(tmp_path / "v2.npz", _meta=np.array([2, 5, 2, 4, 4, 1]), _kind=np.array("complex"),
             **m.params)  # fmt: skip
    m2 = TensorModel.load(tmp_path / "v2.npz")
    assert m2.reciprocal is True and m2.entity_bias is True
    np.savez(tmp_path / "bad.npz", _meta=np.array([3, 5, 2, 4, 4, 1, 2]),
             _kind=np.array("complex"), **m.params)  # fmt: skip
    with pytest.raises(ValueError, match="entity_bias must be 0 or 1"):
        TensorModel.load(tmp_path / "bad.npz")


def test_bias_and_reg_all_bad_arguments():
    with pytest.raises(TypeError, match="entity_bias: expected a bool"):
        TensorModel("complex", 3, 1, dim=2, entity_bias=1)
    m = TensorModel("complex", 3, 1, dim=2)
    with pytest.raises(ValueError, match="reg_all"):
        m.fit(np.array([[0, 0, 1]]), reg_all=-0.1)
    with pytest.raises(ValueError, match="reg_all"):
        m.loss_and_grad(np.array([[0, 0, 1]]), reg_all=float("nan"))
