"""Save/load of the PMI models: the NumPy PMIState and the torch modules; seeds."""

from __future__ import annotations

import json

import numpy as np
import pytest

from neuromem.pmi import PMI_FORMAT_VERSION, PMIConfig, PMIState, init_weights

CFG = PMIConfig(dim=16, n_heads=2, key_dim=4, n_slots=4, n_segments=3, topk_write=2, topk_read=2)


def test_pmi_state_round_trip(tmp_path):
    st = PMIState(CFG, 8, seed=1)
    rng = np.random.default_rng(0)
    for _ in range(3):
        st.step(rng.standard_normal((5, 8)))
    path = st.save(tmp_path / "pmi")
    assert path.suffix == ".npz"
    back = PMIState.load(path)
    assert back.cfg == CFG and back.input_dim == 8 and back.steps == 3
    np.testing.assert_array_equal(back.working, st.working)
    np.testing.assert_array_equal(back.long_term, st.long_term)
    x = rng.standard_normal((5, 8))
    a, b = st.step(x), back.step(x)
    np.testing.assert_array_equal(a["U"], b["U"])


def test_pmi_state_seed_int_or_generator():
    a, b = PMIState(CFG, 8, seed=4), PMIState(CFG, 8, seed=4)
    np.testing.assert_array_equal(a.long_term, b.long_term)
    np.testing.assert_array_equal(a.weights["W_q"], b.weights["W_q"])
    # same draws as the functions it wraps
    np.testing.assert_array_equal(
        a.weights["W_q"], init_weights(CFG, 8, np.random.default_rng(4))["W_q"]
    )
    g = PMIState(CFG, 8, seed=np.random.default_rng(4))
    np.testing.assert_array_equal(g.weights["W_q"], a.weights["W_q"])
    with pytest.raises(TypeError, match="seed"):
        PMIState(CFG, 8, seed="x")
    with pytest.raises(ValueError, match="working"):
        PMIState(CFG, 8, working=np.zeros((3, 16)))


def test_pmi_state_bad_files(tmp_path):
    with pytest.raises(FileNotFoundError, match="path"):
        PMIState.load(tmp_path / "none.npz")
    junk = tmp_path / "junk.npz"
    junk.write_text("junk")
    with pytest.raises(ValueError, match="not a PMI state file"):
        PMIState.load(junk)
    path = PMIState(CFG, 8).save(tmp_path / "s.npz")
    with np.load(path) as z:
        arrays = {k: z[k] for k in z.files}
    header = json.loads(str(arrays["__header__"]))
    header["format_version"] = PMI_FORMAT_VERSION + 1  # the version beside the kind
    np.savez(tmp_path / "v.npz", **{**arrays, "__header__": np.array(json.dumps(header))})
    with pytest.raises(ValueError, match="format version"):
        PMIState.load(tmp_path / "v.npz")
    arrays["w.W_q"] = arrays["w.W_q"][:3]
    np.savez(tmp_path / "shape.npz", **arrays)
    with pytest.raises(ValueError, match="W_q"):
        PMIState.load(tmp_path / "shape.npz")


torch = pytest.importorskip("torch")


def _models():
    from neuromem.pmi.torch_model import BabiModel, ClevrModel, Encoder, PMIMemory

    return [
        PMIMemory(CFG, 8, seed=3, dtype=torch.float64),
        Encoder(16, 2, 32, "pmi", CFG, dropout=0.0, seed=2),
        Encoder(16, 2, 32, "mha", None, dropout=0.0),
        BabiModel(30, 5, 6, dim=16, n_layers=2, ffn_dim=32, pmi=CFG, seed=1),
        ClevrModel(8, 4, 6, 4, dim=16, n_layers=1, ffn_dim=32, pmi=CFG, seed=1),
    ]


@pytest.mark.parametrize("i", range(5))
def test_torch_models_round_trip(i, tmp_path):
    from neuromem.pmi.torch_model import load_model

    model = _models()[i]
    path = model.save(tmp_path / "m.pt")
    back = type(model).load(path)
    assert type(load_model(path)) is type(model)
    sd, sb = model.state_dict(), back.state_dict()
    assert list(sd) == list(sb)
    for k in sd:
        assert sd[k].dtype == sb[k].dtype
        assert torch.equal(sd[k], sb[k]), k


def test_torch_bad_files(tmp_path):
    from neuromem.pmi.torch_model import TORCH_FORMAT_VERSION, Encoder, PMIMemory, load_model

    with pytest.raises(FileNotFoundError, match="path"):
        load_model(tmp_path / "none.pt")
    junk = tmp_path / "junk.pt"
    junk.write_bytes(b"junk")
    with pytest.raises(ValueError, match="not a neuromem torch model file"):
        load_model(junk)
    m = PMIMemory(CFG, 8)
    path = m.save(tmp_path / "m.pt")
    with pytest.raises(ValueError, match="holds a PMIMemory, not a Encoder"):
        Encoder.load(path)
    blob = torch.load(path, weights_only=True)
    blob["format_version"] = TORCH_FORMAT_VERSION + 1
    torch.save(blob, tmp_path / "v.pt")
    with pytest.raises(ValueError, match="format version"):
        load_model(tmp_path / "v.pt")
    # NaN weights and a broken configuration are refused, naming the file
    blob = torch.load(path, weights_only=True)
    blob["state_dict"]["W_q"] = blob["state_dict"]["W_q"] * float("nan")
    torch.save(blob, tmp_path / "nan.pt")
    with pytest.raises(ValueError, match="nan.pt: NaN or infinite weights in W_q"):
        load_model(tmp_path / "nan.pt")
    blob = torch.load(path, weights_only=True)
    blob["config"]["input_dim"] = -3
    torch.save(blob, tmp_path / "cfg.pt")
    with pytest.raises(ValueError, match="cfg.pt"):
        load_model(tmp_path / "cfg.pt")
    # a pickled object that weights_only refuses is a corrupt file, never executed
    torch.save({"x": object()}, tmp_path / "obj.pt")
    with pytest.raises(ValueError, match="not a neuromem torch model file"):
        load_model(tmp_path / "obj.pt")


def test_torch_seed_int_unchanged_and_generator_accepted():
    from neuromem.pmi.torch_model import Encoder, PMIMemory

    a = PMIMemory(CFG, 8, seed=3, dtype=torch.float64)
    ref = init_weights(CFG, 8, np.random.default_rng(3))
    np.testing.assert_array_equal(a.numpy_weights()["W_k"], ref["W_k"])
    e = Encoder(16, 1, 32, "pmi", CFG, seed=5)
    lt0 = np.random.default_rng([5, 1]).random((3, 4, 16))
    np.testing.assert_allclose(e.long_term0.numpy(), lt0.astype(np.float32))
    g1 = Encoder(16, 1, 32, "pmi", CFG, seed=np.random.default_rng(9))
    g2 = Encoder(16, 1, 32, "pmi", CFG, seed=np.random.default_rng(9))
    assert torch.equal(g1.long_term0, g2.long_term0)
    assert torch.equal(g1.attn.W_q, g2.attn.W_q)
    with pytest.raises(ValueError, match="seed"):
        PMIMemory(CFG, 8, seed=-2)
