"""Training path: the torch module agrees with the NumPy/Numba forward; models train."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from neuromem.pmi import PMIConfig, init_long_term_memory, init_working_memory, pmi_step

torch = pytest.importorskip("torch")
torch.set_num_threads(1)

from neuromem.pmi.torch_model import BabiModel, Encoder, PMIMemory  # noqa: E402


@pytest.mark.parametrize("consolidation", ["code", "outer"])
@pytest.mark.parametrize("correction", [True, False, "no-ltm"])
def test_torch_forward_matches_numpy(consolidation, correction):
    use_ltm = correction != "no-ltm"
    correction = correction is True
    cfg = PMIConfig(
        use_ltm=use_ltm,
        dim=16,
        n_heads=2,
        key_dim=4,
        n_slots=4,
        n_segments=3,
        topk_write=3,
        topk_read=2,
        consolidation=consolidation,
        use_correction=correction,
    )
    m = PMIMemory(cfg, 8, seed=3, dtype=torch.float64)
    w = m.numpy_weights()
    rng = np.random.default_rng(1)
    x = rng.standard_normal((3, 7, 8))
    mask = np.ones((3, 7), bool)
    mask[1, 5:] = False
    mw = init_working_memory(4, 16, 3) + 0.1 * rng.standard_normal((3, 4, 16))
    ml = init_long_term_memory(3, 4, 16, rng, 3)
    ref = pmi_step(x, mw, ml, w, cfg, mask=mask)
    state = (torch.tensor(mw), torch.tensor(ml))
    for step in range(2):  # two chained steps
        U, *state = m(torch.tensor(x), *state, torch.tensor(mask))
        if step == 0:
            np.testing.assert_allclose(U.detach().numpy(), ref["U"], atol=1e-5)
            np.testing.assert_allclose(state[0].detach().numpy(), ref["working"], atol=1e-5)
            np.testing.assert_allclose(state[1].detach().numpy(), ref["long_term"], atol=1e-5)
            ref = pmi_step(x, ref["working"], ref["long_term"], w, cfg, mask=mask)
        else:
            np.testing.assert_allclose(U.detach().numpy(), ref["U"], atol=1e-5)
            np.testing.assert_allclose(state[1].detach().numpy(), ref["long_term"], atol=1e-5)


def test_float32_module_close_to_numpy_and_weights_roundtrip():
    cfg = PMIConfig(dim=16, n_heads=2, key_dim=4, n_slots=4, n_segments=3, topk_read=2)
    m64 = PMIMemory(cfg, 16, seed=0, dtype=torch.float64)
    m32 = PMIMemory(cfg, 16, seed=1)
    m32.load_numpy_weights(m64.numpy_weights())
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 6, 16))
    mw = init_working_memory(4, 16, 2)
    ml = init_long_term_memory(3, 4, 16, rng, 2)
    ref = pmi_step(x, mw, ml, m64.numpy_weights(), cfg)
    U, _, _ = m32(torch.tensor(x).float(), torch.tensor(mw).float(), torch.tensor(ml).float())
    np.testing.assert_allclose(U.detach().numpy(), ref["U"], atol=1e-4)
    with pytest.raises(ValueError, match="W_q"):
        m32.load_numpy_weights({**m64.numpy_weights(), "W_q": np.zeros((3, 3))})


def test_gradients_reach_every_pmi_parameter():
    cfg = PMIConfig(
        dim=16, n_heads=2, key_dim=4, n_slots=4, n_segments=2, topk_write=2, topk_read=2
    )
    enc = Encoder(16, 2, 32, "pmi", cfg, dropout=0.0)
    x = torch.randn(3, 5, 16)
    enc(x).pow(2).sum().backward()
    for name, p in enc.attn.named_parameters():
        assert p.grad is not None and torch.isfinite(p.grad).all(), name
        assert p.grad.abs().sum() > 0, name


def test_topk_larger_than_tokens_is_an_error():
    cfg = PMIConfig(
        dim=16, n_heads=2, key_dim=4, n_slots=4, n_segments=2, topk_write=6, topk_read=2
    )
    m = PMIMemory(cfg, 16)
    mw, ml = m.initial_state(1, torch.rand(2, 4, 16))
    with pytest.raises(ValueError, match="topk_write=6"):
        m(torch.randn(1, 5, 16), mw, ml)


def _toy_babi(rng, n):
    """Stories of 3 'X is-in L' facts; the question asks where a named X is."""
    story = rng.integers(2, 6, size=(n, 3, 3))  # word ids 2..5 = people
    story[:, :, 1] = 6  # "is-in"
    story[:, :, 2] = rng.integers(7, 11, size=(n, 3))  # places 7..10
    who = rng.integers(0, 3, size=n)
    q = np.zeros((n, 3), dtype=np.int64)
    q[:, 0] = 11
    q[:, 1] = story[np.arange(n), who, 0]
    # answer: place of the LAST sentence about that person
    ans = np.empty(n, dtype=np.int64)
    for i in range(n):
        last = [j for j in range(3) if story[i, j, 0] == q[i, 1]][-1]
        ans[i] = story[i, last, 2] - 7
    return story, q, ans


@pytest.mark.parametrize("attention", ["pmi", "mha"])
def test_models_learn_a_toy_task(attention):
    """Both models fit a small synthetic QA task: training loss falls well below chance."""
    from neuromem.pmi.training import fit

    rng = np.random.default_rng(0)
    story, q, ans = _toy_babi(rng, 256)
    cfg = PMIConfig(dim=32, n_heads=4, key_dim=8, n_slots=4, n_segments=2, topk_write=3,
                    topk_read=2)  # fmt: skip
    torch.manual_seed(0)
    model = BabiModel(12, 4, 3, dim=32, n_layers=2, ffn_dim=64, attention=attention, pmi=cfg,
                      dropout=0.0)  # fmt: skip
    mask = np.ones((256, 3), bool)

    def bf(idx):
        out = model(torch.as_tensor(story[idx]), torch.as_tensor(mask[idx]),
                    torch.as_tensor(q[idx]))  # fmt: skip
        return out, torch.as_tensor(ans[idx])

    hist = fit(model, bf, 256, 300, 32, 3e-3, np.random.default_rng(1), log_every=50)
    assert hist["loss_curve"][0] > 1.0  # chance is log 4 = 1.39
    assert hist["loss_curve"][-1] < 0.5 * hist["loss_curve"][0]


def test_import_without_torch():
    code = (
        "import sys\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name == 'torch' or name.startswith('torch.'):\n"
        "            raise ImportError('blocked')\n"
        "sys.meta_path.insert(0, Block())\n"
        "import neuromem.pmi, neuromem.experiments.pmi\n"
        "from neuromem.pmi.training import require_torch\n"
        "assert 'torch' not in sys.modules\n"
        "try:\n    require_torch()\nexcept Exception as e:\n    print(type(e).__name__)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "BackendUnavailableError" in out.stdout


@pytest.mark.parametrize("steps, every", [(4000, 50), (40, 2), (5, 1)])
def test_loss_interval_logs_about_twenty_points_of_a_short_budget(steps, every):
    from neuromem.pmi.training import loss_interval

    assert loss_interval(steps) == every  # 50 for a full run; >= 5 points (or every step)
