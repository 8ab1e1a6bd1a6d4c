"""NumPy/Numba PMI core: shapes, equations, competition, consolidation, fusion, bad input."""

from __future__ import annotations

import numpy as np
import pytest

from neuromem.pmi import (
    PMIConfig,
    init_long_term_memory,
    init_weights,
    init_working_memory,
    layer_norm,
    multihead_attention,
    pmi_step,
)

CFG = dict(dim=16, n_heads=2, key_dim=4, n_slots=4, n_segments=3, topk_write=3, topk_read=2)


def setup(seed=0, T=6, din=8, **kw):
    cfg = PMIConfig(**{**CFG, **kw}).validate()
    rng = np.random.default_rng(seed)
    w = init_weights(cfg, din, rng)
    x = rng.standard_normal((T, din))
    mw = init_working_memory(cfg.n_slots, cfg.dim) + 0.1 * rng.standard_normal(
        (cfg.n_slots, cfg.dim)
    )
    ml = init_long_term_memory(cfg.n_segments, cfg.n_slots, cfg.dim, rng)
    return cfg, w, x, mw, ml


def test_initial_memories():
    m = init_working_memory(3, 5)
    assert np.array_equal(m, np.eye(3, 5))
    m = init_working_memory(5, 3, batch=2)
    assert m.shape == (2, 5, 3) and np.array_equal(m[1], np.eye(5, 3))
    lt = init_long_term_memory(2, 3, 4, np.random.default_rng(1), batch=2)
    assert lt.shape == (2, 2, 3, 4) and lt.min() >= 0 and lt.max() < 1
    assert not np.array_equal(lt[0], lt[1])


def test_layer_norm_formula():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((5, 7)) * 3 + 2
    g, b = rng.standard_normal(7), rng.standard_normal(7)
    ref = (x - x.mean(1, keepdims=True)) / np.sqrt(x.var(1, keepdims=True) + 1e-5) * g + b
    np.testing.assert_allclose(layer_norm(x, g, b), ref, atol=1e-12)


def _ref_mha(a, b, w, cfg, topk, mask=None):
    H = cfg.n_heads
    q = (a @ w["W_q"] + w["b_q"]).reshape(len(a), H, -1)
    k = (b @ w["W_k"] + w["b_k"]).reshape(len(b), H, -1)
    v = (b @ w["W_v"] + w["b_v"]).reshape(len(b), H, -1)
    s = np.einsum("ihc,jhc->hij", q, k) / np.sqrt(cfg.key_dim)
    if mask is not None:
        s = np.where(mask[None, None], s, -np.inf)
    s = np.exp(s - s.max(-1, keepdims=True))
    s /= s.sum(-1, keepdims=True)
    if 0 < topk < len(b):
        thr = -np.sort(-s, axis=-1)[..., topk - 1 : topk]
        s = np.where(s >= thr, s, 0.0)
    return np.einsum("hij,jhc->ihc", s, v).reshape(len(a), -1), s


@pytest.mark.parametrize("topk", [0, 1, 3, 6])
def test_attention_matches_reference_and_keeps_topk(topk):
    cfg, w, _, _, _ = setup()
    rng = np.random.default_rng(3)
    a, b = rng.standard_normal((4, 16)), rng.standard_normal((6, 16))
    out, att = multihead_attention(a, b, w, cfg, topk=topk)
    ref, ref_att = _ref_mha(a, b, w, cfg, topk)
    np.testing.assert_allclose(out, ref, atol=1e-12)
    np.testing.assert_allclose(att, ref_att, atol=1e-12)
    nz = (att > 0).sum(-1)
    assert np.all(nz == (topk if 0 < topk < 6 else 6))
    if topk in (0, 6):
        np.testing.assert_allclose(att.sum(-1), 1.0)
    else:
        assert np.all(att.sum(-1) < 1.0)  # top-k weights are not renormalised


def test_competitive_write_each_slot_wins_topk_tokens():
    cfg, w, x, mw, ml = setup()
    r = pmi_step(x, mw, ml, w, cfg)
    assert r["write_attention"].shape == (2, 4, 6)
    assert np.all((r["write_attention"] > 0).sum(-1) == 3)
    assert r["U"].shape == (6, 16) and r["working"].shape == (4, 16)
    assert r["long_term"].shape == (3, 4, 16)


def test_padding_tokens_are_ignored():
    cfg, w, x, mw, ml = setup()
    mask = np.array([True, True, True, True, False, False])
    r1 = pmi_step(x, mw, ml, w, cfg, mask=mask)
    x2 = x.copy()
    x2[4:] = 100.0 * np.random.default_rng(9).standard_normal((2, x.shape[1]))
    r2 = pmi_step(x2, mw, ml, w, cfg, mask=mask)
    assert np.all(r1["write_attention"][..., 4:] == 0)
    np.testing.assert_allclose(r1["working"], r2["working"], atol=1e-12)
    np.testing.assert_allclose(r1["long_term"], r2["long_term"], atol=1e-12)
    np.testing.assert_allclose(r1["U"][:4], r2["U"][:4], atol=1e-12)


def test_batch_equals_single_examples():
    cfg, w, x, mw, ml = setup()
    rng = np.random.default_rng(5)
    xb = np.stack([x, rng.standard_normal(x.shape)])
    mwb, mlb = np.stack([mw, mw * 0.5]), np.stack([ml, ml[::-1]])
    rb = pmi_step(xb, mwb, mlb, w, cfg)
    for i in range(2):
        ri = pmi_step(xb[i], mwb[i], mlb[i], w, cfg)
        for k in ri:
            np.testing.assert_allclose(rb[k][i], ri[k], atol=1e-12)


def _open_gates(w):
    """Gates forced to I = 1, F = 0 so that M_w^t = tanh(Mbar)."""
    w = dict(w)
    for k in ("W_gx", "b_gx", "W_gm", "b_gm"):
        w[k] = np.zeros_like(w[k])
    w["input_bias"], w["forget_bias"] = np.array(60.0), np.array(-60.0)
    return w


def test_consolidation_code_rule():
    cfg, w, x, mw, ml = setup(consolidation="code")
    w = _open_gates(w)
    w["ln3_g"] = np.random.default_rng(2).uniform(0.5, 1.5, 16)
    w["ln3_b"] = np.random.default_rng(3).normal(0, 0.3, 16)
    r = pmi_step(x, mw, ml, w, cfg)
    mbar = np.arctanh(np.clip(r["working"], -1 + 1e-15, 1 - 1e-15))
    delta = np.einsum("cnd,nf->cnf", ml, mbar)
    ref = layer_norm(ml + delta, w["ln3_g"], w["ln3_b"])
    np.testing.assert_allclose(r["long_term"], ref, atol=1e-6)


def test_code_rule_is_frozen_by_plain_layer_norm():
    """With unit LN gain and zero bias every LTM row sums to 0 after a step, so the code's
    rule (which scales by the row sum) leaves M_l unchanged from the second step on."""
    cfg, w, x, mw, ml = setup(consolidation="code")
    r1 = pmi_step(x, mw, ml, w, cfg)
    assert not np.allclose(r1["long_term"], ml)
    np.testing.assert_allclose(r1["long_term"].sum(-1), 0.0, atol=1e-9)
    r2 = pmi_step(x[::-1].copy(), r1["working"], r1["long_term"], w, cfg)
    # LN of an already normalised row only shrinks it by 1/sqrt(1 + eps), eps = 1e-5
    np.testing.assert_allclose(r2["long_term"], r1["long_term"], rtol=1e-5, atol=1e-9)


def test_consolidation_outer_rule():
    cfg, w, x, mw, ml = setup(consolidation="outer")
    r = pmi_step(x, mw, ml, w, cfg)
    m = r["working"]
    A = m.T @ m / cfg.n_slots
    ref = layer_norm(ml + ml @ A, w["ln3_g"], w["ln3_b"])
    np.testing.assert_allclose(r["long_term"], ref, atol=1e-10)
    r2 = pmi_step(x[::-1].copy(), m, r["long_term"], w, cfg)
    assert not np.allclose(r2["long_term"], r["long_term"])


def test_inference_fusion_and_correction():
    cfg, w, x, mw, ml = setup(alpha=1.0)
    xh = x @ w["W_in"] + w["b_in"]
    r = pmi_step(x, mw, ml, w, cfg)
    uw, _ = multihead_attention(xh, r["working"], w, cfg)
    np.testing.assert_allclose(r["U"], uw, atol=1e-12)
    lbar = r["long_term"].mean(0)
    ul, att = multihead_attention(xh, lbar, w, cfg, topk=cfg.topk_read)
    assert np.all((att > 0).sum(-1) == cfg.topk_read)
    cfg0 = PMIConfig(**{**CFG, "alpha": 0.0, "use_correction": False})
    np.testing.assert_allclose(pmi_step(x, mw, ml, w, cfg0)["U"], ul, atol=1e-12)
    cfg3 = PMIConfig(**{**CFG, "alpha": 0.3})
    uwl, _ = multihead_attention(ul, uw, w, cfg3)
    np.testing.assert_allclose(pmi_step(x, mw, ml, w, cfg3)["U"], 0.3 * uw + 0.7 * uwl, atol=1e-12)
    cfgn = PMIConfig(**{**CFG, "use_wm_inference": False})
    np.testing.assert_allclose(pmi_step(x, mw, ml, w, cfgn)["U"], uwl, atol=1e-12)
    # without long-term memory: U is the working-memory retrieval alone and nothing is
    # consolidated (the long-term memory comes back unchanged)
    cfgl = PMIConfig(**{**CFG, "use_ltm": False, "use_correction": False})
    rl = pmi_step(x, mw, ml, w, cfgl)
    np.testing.assert_allclose(rl["U"], uw, atol=1e-12)
    np.testing.assert_array_equal(rl["long_term"], ml)
    np.testing.assert_allclose(rl["working"], r["working"], atol=1e-12)
    assert not np.allclose(r["long_term"], ml)  # with it, consolidation changes it


def test_same_seed_same_weights():
    cfg = PMIConfig(**CFG)
    a = init_weights(cfg, 8, np.random.default_rng(4))
    b = init_weights(cfg, 8, np.random.default_rng(4))
    c = init_weights(cfg, 8, np.random.default_rng(5))
    assert all(np.array_equal(a[k], b[k]) for k in a)
    assert not np.array_equal(a["W_q"], c["W_q"])


@pytest.mark.parametrize(
    "change, exc, words",
    [
        (dict(consolidation="hebb"), ValueError, "consolidation"),
        (dict(n_heads=3), ValueError, "n_heads"),
        (dict(topk_read=5), ValueError, "topk_read"),
        (dict(alpha=1.5), ValueError, "alpha"),
        (dict(topk_write=-1), ValueError, "topk_write"),
        (dict(dim=16.0), TypeError, "dim"),
        (dict(use_correction="yes"), TypeError, "use_correction"),
        (dict(use_ltm=1), TypeError, "use_ltm"),
        (dict(use_ltm=False, use_correction=True), ValueError, "use_ltm=False needs use_corr"),
        (
            dict(use_ltm=False, use_correction=False, use_wm_inference=False),
            ValueError,
            "use_ltm=False needs use_wm_inference",
        ),  # fmt: skip
    ],
)
def test_bad_config(change, exc, words):
    with pytest.raises(exc, match=words):
        PMIConfig(**{**CFG, **change}).validate()


def test_bad_inputs_are_named():
    cfg, w, x, mw, ml = setup()
    with pytest.raises(ValueError, match="topk_write=7 is larger than the number of tokens"):
        pmi_step(x, mw, ml, w, PMIConfig(**{**CFG, "topk_write": 7}))
    with pytest.raises(ValueError, match="W_in"):
        pmi_step(x[:, :5], mw, ml, w, cfg)
    with pytest.raises(ValueError, match="working"):
        pmi_step(x, mw[:3], ml, w, cfg)
    with pytest.raises(ValueError, match="long_term"):
        pmi_step(x, mw, ml[:, :, :4], w, cfg)
    bad = x.copy()
    bad[0, 0] = np.nan
    with pytest.raises(ValueError, match="x contains NaN"):
        pmi_step(bad, mw, ml, w, cfg)
    with pytest.raises(TypeError, match="mask"):
        pmi_step(x, mw, ml, w, cfg, mask=np.ones(6))
    with pytest.raises(ValueError, match="mask"):
        pmi_step(x, mw, ml, w, cfg, mask=np.zeros(6, bool))
    with pytest.raises(ValueError, match="missing b_q"):
        pmi_step(x, mw, ml, {k: v for k, v in w.items() if k != "b_q"}, cfg)
    with pytest.raises(TypeError, match="x must be a numpy array"):
        pmi_step("tokens", mw, ml, w, cfg)
    with pytest.raises(ValueError, match="topk=7 is larger than the number of keys"):
        multihead_attention(x @ w["W_in"], mw, w, cfg, topk=7)
