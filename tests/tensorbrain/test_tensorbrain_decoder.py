"""The semantic decoder: gradients, decoding order, memories, sampling, errors."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from neuromem.tensorbrain.decoder import PERCEPTION_PLAN, TRIPLE_PLAN, Task, TensorBrain
from neuromem.tensorbrain.scenes import make_episodes, make_world


def _check_grads(tb, task, rng, n_checks=10):
    _, g = tb.loss_and_grad(task)
    worst = 0.0
    touched = 0
    for k, p in tb.params.items():
        flat = p.reshape(-1)
        if flat.size == 0:
            continue
        for i in rng.choice(flat.size, min(n_checks, flat.size), replace=False):
            old = flat[i]
            h = 1e-6
            flat[i] = old + h
            lp, _ = tb.loss_and_grad(task)
            flat[i] = old - h
            lm, _ = tb.loss_and_grad(task)
            flat[i] = old
            num = (lp - lm) / (2 * h)
            touched += abs(num) > 1e-8
            worst = max(worst, abs(num - g[k].reshape(-1)[i]) / max(1.0, abs(num)))
    return worst, touched


def _small(seed=1, **kw):
    args = dict(n_labels=3, n_sensory=5, dim=7, alpha=0.6, beta=1.3, beta_fb=0.8, seed=seed)
    args.update(kw)
    return TensorBrain(6, 4, **args)


def test_gradients_perception_plan():
    rng = np.random.default_rng(0)
    tb = _small()
    B = 5
    task = Task(
        "sensory",
        PERCEPTION_PLAN,
        [
            None,
            rng.integers(0, 6, B),
            rng.integers(0, 2, (B, 3)),
            rng.integers(0, 6, B),
            rng.integers(0, 2, (B, 3)),
            rng.integers(0, 4, B),
        ],
        rng.normal(size=(B, 5)),
    )
    worst, touched = _check_grads(tb, task, rng)
    assert worst < 1e-6
    assert touched > 50  # the check moved the loss through most parameters


def test_gradients_semantic_and_episodic_starts():
    rng = np.random.default_rng(1)
    tb = _small()
    B = 4
    tgt = [rng.integers(0, 6, B), rng.integers(0, 6, B), rng.integers(0, 4, B)]
    worst, _ = _check_grads(tb, Task("pre", TRIPLE_PLAN, tgt), rng)
    assert worst < 1e-6
    tb.store_episode(rng.normal(size=(3, 5)))
    task = Task(
        "time", ("time",) + TRIPLE_PLAN, [np.array([0, 1, 2, 0])] + tgt, np.array([0, 1, 2, 0])
    )
    worst, _ = _check_grads(tb, task, rng)
    assert worst < 1e-6


def _joint(tb):
    """Brute-force P(s, o, p) of semantic memory by teacher forcing every triple."""
    N, P = tb.n_entities, tb.n_predicates
    J = np.zeros((N, N, P))
    for s, o in itertools.product(range(N), range(N)):
        probs, _ = tb.decode("pre", 1, TRIPLE_PLAN, measure="teacher", targets=[[s], [o], None])
        J[s, o] = probs[0][0, s] * probs[1][0, o] * probs[2][0]
    return J


def test_semantic_queries_are_bayes_over_the_decoding_order():
    tb = TensorBrain(4, 3, dim=5, seed=3)
    tb.params["a_pre"][:] = np.random.default_rng(0).normal(size=5)
    J = _joint(tb)
    assert J.sum() == pytest.approx(1.0)
    s, p, o = np.array([0, 2, 3]), np.array([1, 0, 2]), np.array([1, 1, 0])
    tail = np.exp(tb.score_tail(s, p))
    tail /= tail.sum(axis=1, keepdims=True)
    for b in range(3):
        ref = J[s[b], :, p[b]] / J[s[b], :, p[b]].sum()
        assert np.allclose(tail[b], ref)
    head = np.exp(tb.score_head(p, o))
    head /= head.sum(axis=1, keepdims=True)
    for b in range(3):
        ref = J[:, o[b], p[b]] / J[:, o[b], p[b]].sum()
        assert np.allclose(head[b], ref)
    pr = np.exp(tb.predicate_scores(s, o))
    for b in range(3):
        assert np.allclose(pr[b], J[s[b], o[b]] / J[s[b], o[b]].sum())


def test_sampled_triples_follow_the_joint():
    tb = TensorBrain(3, 2, dim=4, beta=2.0, seed=7)
    tb.params["a_pre"][:] = np.random.default_rng(2).normal(size=4)
    J = _joint(tb)
    n = 20000
    gen = tb.generate(n, seed=5)
    counts = np.zeros_like(J)
    np.add.at(counts, (gen[:, 0], gen[:, 2], gen[:, 1]), 1)
    sd = np.sqrt(n * J * (1 - J))
    assert np.all(np.abs(counts - n * J) < 5 * sd + 1)  # every cell within 5 sigma


def test_one_shot_episode_recall_replays_perception():
    rng = np.random.default_rng(4)
    tb = _small(seed=2)
    v = rng.normal(size=(6, 5))
    out = tb.perceive(v, store=True)
    assert list(out["time"]) == list(range(6)) and tb.n_time == 6
    assert np.allclose(tb.A_time, tb.sensory_map(v))  # a_t := f(v), one shot
    rec = tb.recall_episode(out["time"])
    for key in ("subject", "object", "predicate"):
        assert np.array_equal(rec[key], out[key])
    assert np.array_equal(rec["subject_labels"], out["subject_labels"])
    for a, b in zip(out["probs"][1:], rec["probs"][1:]):
        assert np.allclose(a, b)
    # marginal over time equals the mean of the per-episode distributions
    s, o = np.array([1, 2]), np.array([3, 0])
    marg = tb.marginal_predicate(s, o)
    ref = np.zeros_like(marg)
    for t in range(6):
        pr, _ = tb.decode(
            "time",
            np.array([t, t]),
            ("time",) + TRIPLE_PLAN,
            measure="teacher",
            targets=[np.array([t, t]), s, o, None],
        )
        ref += pr[3] / 6
    assert np.allclose(marg, ref)


def test_measurements_feed_back_differently():
    tb = _small(seed=3)
    v = np.random.default_rng(0).normal(size=(4, 5))
    pa, ca = tb.decode("sensory", v, PERCEPTION_PLAN, measure="argmax")
    pe, _ = tb.decode("sensory", v, PERCEPTION_PLAN, measure="expectation")
    ps, cs = tb.decode("sensory", v, PERCEPTION_PLAN, measure="sample", seed=1)
    ps2, cs2 = tb.decode("sensory", v, PERCEPTION_PLAN, measure="sample", seed=1)
    assert np.allclose(pa[1], pe[1])  # first read is the same for every measurement
    assert not np.allclose(pa[3], pe[3])  # later steps depend on what was fed back
    assert all(np.array_equal(a, b) for a, b in zip(cs[1::2], cs2[1::2]))  # seeded
    assert np.array_equal(ca[1], pa[1].argmax(axis=1))


def test_perception_learns_a_low_noise_world():
    world = make_world(
        n_entities=12, n_classes=3, n_attributes=2, n_predicates=3, noise=0.05, seed=0
    )
    ep = make_episodes(world, 600, seed=1)
    tr, lab = ep.triples, world.labels
    task = Task(
        "sensory",
        PERCEPTION_PLAN,
        [None, tr[:, 0], lab[tr[:, 0]], tr[:, 2], lab[tr[:, 2]], tr[:, 1]],
        ep.sensory,
    )
    tb = TensorBrain(12, 3, n_labels=world.n_labels, n_sensory=world.n_sensory, dim=24, seed=0)
    tb.fit([task], epochs=15, batch_size=32, lr=0.01, seed=0)
    assert tb.history[-1] < 0.2 * tb.history[0]
    # fresh noise on facts of the training world (novel facts are harder: the decoder also
    # learns the prior P(o | s) of what it saw, see the scenes experiment)
    test = make_episodes(world, 200, observed_only=True, seed=2)
    out = tb.perceive(test.sensory, store=False)
    acc = np.mean(
        (out["subject"] == test.triples[:, 0])
        & (out["object"] == test.triples[:, 2])
        & (out["predicate"] == test.triples[:, 1])
    )
    assert acc > 0.95
    assert np.mean(out["subject_labels"] == (lab[test.triples[:, 0]] > 0.5)) > 0.95


def test_bad_input():
    tb = _small()
    with pytest.raises(ValueError, match="v: expected sensory vectors of size 5"):
        tb.perceive(np.zeros((2, 4)))
    with pytest.raises(ValueError, match="v: contains NaN"):
        tb.perceive(np.full((1, 5), np.nan))
    with pytest.raises(ValueError, match="plan: unknown step"):
        tb.decode("pre", 1, ("entity", "place"))
    with pytest.raises(ValueError, match="measure"):
        tb.decode("pre", 1, TRIPLE_PLAN, measure="mode")
    with pytest.raises(ValueError, match="t: time indices"):
        tb.recall_episode([0])
    with pytest.raises(ValueError, match="start"):
        tb.decode("dream", None, TRIPLE_PLAN)
    with pytest.raises(ValueError, match="targets\\[0\\]"):
        tb.decode("pre", 1, TRIPLE_PLAN, measure="teacher", targets=[[9], [0], None])
    with pytest.raises(ValueError, match="s: ids must lie"):
        tb.score_tail([7], [0])
    with pytest.raises(ValueError, match="no episodes"):
        tb.marginal_predicate([0], [1])
    with pytest.raises(ValueError, match="dim"):
        TensorBrain(3, 2, dim=0)
    with pytest.raises(ValueError, match="n"):
        tb.generate(0)
    with pytest.raises(ValueError, match="tasks"):
        tb.fit([])
    task = Task("pre", TRIPLE_PLAN, [np.array([0]), np.array([1]), np.array([2])])
    with pytest.raises(ValueError, match="schedule"):
        tb.fit([task], schedule="step")


def test_save_load_roundtrip(tmp_path):
    from neuromem.errors import DataNotFoundError

    tb = _small(seed=4)
    v = np.random.default_rng(1).normal(size=(3, 5))
    tb.store_episode(v)
    path = tb.save(tmp_path / "tb.npz")
    tb2 = TensorBrain.load(path)
    assert (tb2.alpha, tb2.beta, tb2.beta_fb) == (tb.alpha, tb.beta, tb.beta_fb)
    for k in tb.params:
        assert np.array_equal(tb.params[k], tb2.params[k])
    a, b = tb.recall_episode([0, 1, 2]), tb2.recall_episode([0, 1, 2])
    assert all(np.allclose(x, y) for x, y in zip(a["probs"][1:], b["probs"][1:]))
    with pytest.raises(DataNotFoundError):
        TensorBrain.load(tmp_path / "absent.npz")
    np.savez(tmp_path / "x.npz", y=np.zeros(1))
    with pytest.raises(ValueError, match="not a neuromem tensor-brain decoder file"):
        TensorBrain.load(tmp_path / "x.npz")
