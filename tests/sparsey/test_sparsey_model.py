"""Sparsey core: CSA behaviour, learning, hierarchy, sequences, saturation, save/load, errors."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from neuromem.sdr import ModularCode
from neuromem.sparsey import (
    FORMAT_VERSION,
    LevelConfig,
    SaturationWarning,
    Sparsey,
    SparseyConfig,
)
from neuromem.sparsey.reference import csa_numpy


def frames(rng, n, n_inputs=256, n_active=16):
    X = np.zeros((n, n_inputs), dtype=bool)
    for i in range(n):
        X[i, rng.choice(n_inputs, n_active, replace=False)] = True
    return X


def one_mac(n_inputs=256, Q=8, K=8, **kw):
    return SparseyConfig(input_shape=(n_inputs,), levels=[LevelConfig(Q=Q, K=K, **kw)])


# ----------------------------------------------------------------- codes and G
def test_code_has_one_winner_per_cm_and_novel_G_is_zero():
    rng = np.random.default_rng(0)
    m = Sparsey(one_mac(Q=8, K=8), seed=1)
    enc = m.learn(frames(rng, 1))
    w = enc.winners[0]
    assert w.shape == (1, 1, 8)
    assert ((w >= 0) & (w < 8)).all()
    assert enc.G[0][0, 0] == 0.0  # an empty MAC has no set weight: fully novel
    code = enc.code(0)
    assert isinstance(code, ModularCode) and code.Q == 8 and code.K == 8


def test_single_trial_learning_then_recognition_reinstates_code_with_G_one():
    rng = np.random.default_rng(1)
    m = Sparsey(one_mac(), seed=2)
    X = frames(rng, 20)
    learned = m.learn(X)
    rec = m.encode(X)
    np.testing.assert_array_equal(rec.winners[0], learned.winners[0])
    np.testing.assert_allclose(rec.G[0], 1.0)
    # the weights from each item's active inputs to its winners are set
    Wu = m.weights(0, "U", 0)
    for i in range(5):
        on = np.flatnonzero(X[i])
        w = learned.winners[0][i, 0]
        assert Wu[on][:, np.arange(8), w].all()


def test_novel_codes_are_uniform_across_seeds():
    # G = 0 for the first item: eta = 1, every cell equally likely (chi-square over many seeds)
    rng = np.random.default_rng(3)
    x = frames(rng, 1)
    counts = np.zeros(8)
    n = 400
    for s in range(n):
        w = Sparsey(one_mac(Q=1, K=8), seed=s).learn(x).winners[0][0, 0, 0]
        counts[w] += 1
    chi2 = ((counts - n / 8) ** 2 / (n / 8)).sum()
    assert chi2 < 24.3  # 99.9% quantile of chi-square with 7 degrees of freedom


def test_familiar_input_reuses_code_almost_surely():
    rng = np.random.default_rng(4)
    X = frames(rng, 10)
    same = []
    for s in range(20):
        m = Sparsey(one_mac(Q=16, K=16), seed=s)
        first = m.learn(X).winners[0]
        again = m.learn(X).winners[0]  # G = 1: eta = 1 + chi K
        same.append(np.mean(first == again))
    # P(max cell) = psi(1) / (psi(1) + (K-1) psi(0)) >= 0.99 with the default constants
    assert np.mean(same) > 0.98


def test_similar_inputs_get_more_similar_codes_than_dissimilar():
    rng = np.random.default_rng(5)
    sims = {0.9: [], 0.2: []}
    for s in range(10):
        m = Sparsey(one_mac(n_inputs=512, Q=16, K=16), seed=s)
        proto = rng.choice(512, 32, replace=False)
        x = np.zeros(512, bool)
        x[proto] = True
        pc = m.learn(x).winners[0][0, 0]
        for ov in sims:
            keep = rng.choice(proto, int(ov * 32), replace=False)
            rest = rng.choice(np.setdiff1d(np.arange(512), proto), 32 - keep.size, replace=False)
            y = np.zeros(512, bool)
            y[keep] = True
            y[rest] = True
            sims[ov].append(np.mean(m.learn(y).winners[0][0, 0] == pc))
    assert np.mean(sims[0.9]) > 0.8
    assert np.mean(sims[0.2]) < 0.25  # near chance 1/16


def test_numba_kernel_matches_numpy_reference():
    rng = np.random.default_rng(6)
    cfg = one_mac(n_inputs=128, Q=4, K=8)
    m = Sparsey(cfg, seed=0)
    lv = m.levels[0]
    W = np.zeros((128, 32), dtype=np.uint8)
    X = frames(rng, 30, 128, 12)
    for t in range(30):
        rand = rng.random((1, 4))
        w_nb = np.empty((1, 4), np.int64)
        G_nb = np.empty(1)
        lv.csa_frame(
            X[t].astype(np.uint8),
            np.zeros(1, np.uint8),
            np.zeros(1, np.uint8),
            False,
            False,
            True,
            rand,
            w_nb,
            G_nb,
        )
        w_np, G_np = csa_numpy(X[t], W, 4, 8, lv.params, learn=True, rand=rand[0])
        np.testing.assert_array_equal(w_nb[0], w_np)
        assert G_nb[0] == pytest.approx(G_np)
    np.testing.assert_array_equal(lv.WU[0], W)


# ----------------------------------------------------------------- gate, saturation
def test_gate_closes_outside_pi_bounds():
    m = Sparsey(one_mac(pi_min=5, pi_max=10), seed=0)
    X = np.zeros((3, 256), bool)
    X[0, :3] = True  # too few
    X[1, :7] = True  # inside
    X[2, :20] = True  # too many
    enc = m.learn(X)
    assert (enc.winners[0][0] == -1).all() and np.isnan(enc.G[0][0, 0])
    assert (enc.winners[0][1] >= 0).all()
    assert (enc.winners[0][2] == -1).all()
    assert enc.code(0) is None


def test_saturation_freezes_mac_and_warns():
    rng = np.random.default_rng(7)
    m = Sparsey(one_mac(n_inputs=64, Q=2, K=2, saturation=0.2), seed=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SaturationWarning)
        m.learn(frames(rng, 30, 64, 16))
    assert m.frozen()[0][0]
    sat = m.saturation()[0][0]
    assert sat > 0.2
    W_before = m.levels[0].WU.copy()
    with pytest.warns(SaturationWarning, match="saturated"):
        m.learn(frames(rng, 3, 64, 16))
    np.testing.assert_array_equal(m.levels[0].WU, W_before)  # nothing learned


def test_saturated_model_raises_when_asked():
    rng = np.random.default_rng(8)
    cfg = one_mac(n_inputs=64, Q=2, K=2, saturation=0.2)
    cfg.on_saturated = "raise"
    m = Sparsey(cfg, seed=0)
    m.learn(frames(rng, 30, 64, 16))  # saturates during this batch
    assert m.frozen()[0].all()
    W_before = m.levels[0].WU.copy()
    with pytest.raises(RuntimeError, match="saturated"):
        m.learn(frames(rng, 2, 64, 16))  # refused before any work
    np.testing.assert_array_equal(m.levels[0].WU, W_before)


def test_cell_saturation_bounds_each_cell():
    rng = np.random.default_rng(9)
    m = Sparsey(one_mac(n_inputs=64, Q=4, K=8, cell_saturation=0.3, saturation=1.0), seed=0)
    m.learn(frames(rng, 200, 64, 8))
    per_cell = m.levels[0].n_set_cell[0] / 64
    # a cell stops learning once above the cap: it can exceed it by one item's inputs at most
    assert per_cell.max() <= 0.3 + 8 / 64 + 1e-12
    np.testing.assert_array_equal(m.levels[0].WU[0].sum(axis=0), m.levels[0].n_set_cell[0])


# ----------------------------------------------------------------- hierarchy
def hier_config():
    return SparseyConfig(
        input_shape=(12, 12),
        levels=[
            LevelConfig(grid=(3, 3), rf=(6, 6), Q=4, K=4, h_radius=1, use_d=True),
            LevelConfig(grid=(1, 1), rf=(3, 3), Q=4, K=8, h_radius=0, persistence=2),
        ],
    )


def test_hierarchy_geometry_and_upper_level_input():
    m = Sparsey(hier_config(), seed=0)
    lv0, lv1 = m.levels
    assert lv0.M == 9 and lv1.M == 1
    # overlapping windows of 6x6 pixels at rows/cols 0, 3, 6
    assert lv0.starts[:3] == [(0, 0), (0, 3), (0, 6)]
    assert len(m.afferents(0, "U", 4)) == 36
    # the upper MAC sees every cell of the 9 level-1 MACs
    assert len(m.afferents(1, "U", 0)) == 9 * 16
    # corner MAC has 4 H neighbours (itself included), the centre 9
    # (plus the sequence-start afferent)
    assert len(m.afferents(0, "H", 0)) == 4 * 16 + 1
    assert len(m.afferents(0, "H", 4)) == 9 * 16 + 1
    assert len(m.afferents(0, "D", 4)) == 32
    rng = np.random.default_rng(10)
    X = rng.random((5, 12, 12)) < 0.3
    enc = m.learn(X)
    assert enc.winners[1].shape == (5, 1, 4)
    # level-2 input is the level-1 code: same level-1 code -> same level-2 recognition
    rec = m.encode(X)
    np.testing.assert_array_equal(rec.winners[0], enc.winners[0])
    np.testing.assert_array_equal(rec.winners[1], enc.winners[1])


def test_sequence_learned_in_one_presentation_is_recognised_and_context_matters():
    rng = np.random.default_rng(11)
    cfg = SparseyConfig(
        input_shape=(256,), levels=[LevelConfig(Q=8, K=8, h_radius=0, saturation=1.0)]
    )
    m = Sparsey(cfg, seed=0)
    sym = frames(rng, 4)
    s1 = sym[[0, 1, 2, 3]]
    s2 = sym[[3, 1, 0, 3]]  # shares frames with s1 in other contexts
    e1 = m.learn_sequence(s1)
    e2 = m.learn_sequence(s2)
    r1 = m.encode_sequence(s1).winners[0]
    r2 = m.encode_sequence(s2).winners[0]
    # frame 0 has no context and its symbol occurs in both sequences (a tie between the two
    # codes is allowed there); from then on the H context reinstates each sequence's codes
    np.testing.assert_array_equal(r1[-1], e1.winners[0][-1])
    np.testing.assert_array_equal(r2[-1], e2.winners[0][-1])
    assert np.mean(r1[1:] == e1.winners[0][1:]) > 0.9
    assert np.mean(r2[1:] == e2.winners[0][1:]) > 0.9
    # the last frame is the same symbol, but the codes differ through the H context
    assert np.mean(e1.winners[0][-1] == e2.winners[0][-1]) < 1.0
    # H weights were set from the previous code to the next winners
    assert m.weights(0, "H", 0).any()


def test_upper_level_code_persists():
    rng = np.random.default_rng(12)
    m = Sparsey(hier_config(), seed=0)
    S = rng.random((6, 12, 12)) < 0.3
    enc = m.learn_sequence(S)
    w = enc.winners[1]
    np.testing.assert_array_equal(w[1], w[0])
    np.testing.assert_array_equal(w[3], w[2])
    assert m.weights(0, "D", 4).any()  # top-down weights learned from t >= 1


# ----------------------------------------------------------------- save / load
def test_save_load_roundtrip_is_lossless(tmp_path):
    rng = np.random.default_rng(13)
    m = Sparsey(hier_config(), seed=3)
    m.learn_sequence(rng.random((4, 12, 12)) < 0.3)
    path = m.save(tmp_path / "model")
    assert path.suffix == ".npz"
    m2 = Sparsey.load(path)
    for a, b in zip(m.levels, m2.levels):
        for name in ("WU", "WH", "WD", "frozen", "n_set", "n_set_cell"):
            np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
    assert m2.config.to_dict() == m.config.to_dict()
    # the RNG state travels too: both continue identically
    X = rng.random((3, 12, 12)) < 0.3
    np.testing.assert_array_equal(m.learn(X).winners[1], m2.learn(X).winners[1])
    with np.load(path) as z:
        assert int(z["format_version"]) == FORMAT_VERSION


def test_load_errors(tmp_path):
    from neuromem.errors import DataNotFoundError

    with pytest.raises(DataNotFoundError):
        Sparsey.load(tmp_path / "missing.npz")
    bad = tmp_path / "bad.npz"
    np.savez(bad, x=np.zeros(2))
    with pytest.raises(ValueError, match="not a Sparsey model"):
        Sparsey.load(bad)
    m = Sparsey(one_mac(), seed=0)
    state = m.state_dict()
    state["format_version"] = 99
    with pytest.raises(ValueError, match="format_version"):
        Sparsey.from_state_dict(state)
    # save("x") writes x.npz and load("x") finds it
    m.learn(np.random.default_rng(0).random((3, *m.config.input_shape)) < 0.3)
    written = m.save(tmp_path / "x")
    assert written.name == "x.npz" and Sparsey.load(tmp_path / "x").config == m.config
    # truncated or empty files, and weights that are not 0/1 (G would exceed 1), name the file
    raw = written.read_bytes()
    for name, content in (("trunc.npz", raw[: len(raw) // 2]), ("empty.npz", b"")):
        (tmp_path / name).write_bytes(content)
        with pytest.raises(ValueError, match=name):
            Sparsey.load(tmp_path / name)
    with np.load(written) as z:
        arrays = {k: z[k] for k in z.files}
    arrays["level0.WU"] = arrays["level0.WU"] * 7
    np.savez(tmp_path / "w7.npz", **arrays)
    with pytest.raises(ValueError, match="w7.npz.*weights must be 0 or 1"):
        Sparsey.load(tmp_path / "w7.npz")


# ----------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    "kw, match",
    [
        (dict(K=1), "K must be >= 2"),
        (dict(Q=0), "Q must be >= 1"),
        (dict(G_min=1.0), "G_min"),
        (dict(saturation=0.0), "saturation"),
        (dict(pi_min=5, pi_max=2), "pi_max"),
        (dict(rf=(20, 1)), "out of bounds"),
    ],
)
def test_bad_config(kw, match):
    with pytest.raises(ValueError, match=match):
        Sparsey(SparseyConfig(input_shape=(16, 16), levels=[LevelConfig(**kw)]))


def test_bad_config_types():
    with pytest.raises(TypeError, match="K must be an integer"):
        Sparsey(SparseyConfig(input_shape=(16,), levels=[LevelConfig(K=2.5)]))
    with pytest.raises(ValueError, match="unknown keys"):
        SparseyConfig.from_dict({"levels": [{"Qx": 3}]})
    with pytest.raises(ValueError, match="on_saturated"):
        Sparsey(SparseyConfig(on_saturated="explode"))


def test_bad_input():
    m = Sparsey(one_mac(n_inputs=16, Q=2, K=2), seed=0)
    with pytest.raises(ValueError, match="binary"):
        m.learn(np.full(16, 0.5))
    with pytest.raises(ValueError, match="NaN"):
        m.encode(np.full(16, np.nan))
    with pytest.raises(ValueError, match="shape"):
        m.learn(np.zeros((2, 15), bool))
    with pytest.raises(TypeError, match="dtype"):
        m.learn(np.array(["a"] * 16))
    with pytest.raises(ValueError, match="shape"):
        m.learn_sequence(np.zeros(16, bool))  # a sequence needs a time axis
    with pytest.raises(ValueError, match="level must be"):
        m.weights(level=3)
    with pytest.raises(ValueError, match="kind"):
        m.weights(kind="X")


def test_sizes_beyond_the_machine_are_refused_before_allocation():
    """K=1e8 would ask for petabytes of weights: a ValueError with the estimate, at once."""
    with pytest.raises(ValueError, match="needs about .* this machine has"):
        Sparsey(SparseyConfig(input_shape=(64,), levels=[LevelConfig(K=100_000_000)]))
