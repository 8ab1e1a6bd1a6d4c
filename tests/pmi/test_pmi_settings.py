"""The PMI experiments run the authors' attention settings; bad settings fail before training."""

from __future__ import annotations

import numpy as np
import pytest

from neuromem import experiments
from neuromem.errors import ConfigError
from neuromem.experiments.pmi import (
    PMIBabiConfig,
    PMIClevrConfig,
    PMIDynamicsConfig,
    prior_margin,
)
from neuromem.pmi import PMIConfig


def test_experiments_default_to_the_authors_attention():
    babi = PMIBabiConfig().model.pmi
    assert (babi.scaled, babi.key_dim, babi.use_correction) == (False, 32, False)
    clevr = PMIClevrConfig().model.pmi
    # Sort-of-CLEVR: the README's PMI-TR commands pass long_mem_aggre True (correction step)
    assert (clevr.scaled, clevr.key_dim, clevr.use_correction) == (False, 32, True)
    # everything else is PMIConfig's default (slots, segments, top-k, fusion, rule, WM use)
    keep = ("dim", "n_heads", "n_slots", "n_segments", "topk_write", "topk_read", "alpha",
            "consolidation", "use_wm_inference")  # fmt: skip
    for cfg in (babi, clevr):
        assert all(getattr(cfg, f) == getattr(PMIConfig(), f) for f in keep)


def test_class_defaults_are_unchanged_for_the_other_users():
    """pmi-dynamics and the memory adapter build PMIConfig() themselves: its defaults stay."""
    cfg = PMIConfig()
    assert (cfg.scaled, cfg.key_dim, cfg.use_correction) == (True, 16, True)
    dyn = PMIDynamicsConfig().pmi
    assert (dyn.scaled, dyn.key_dim, dyn.use_correction) == (True, 32, True)


def test_the_settings_reach_the_torch_model():
    pytest.importorskip("torch")
    from neuromem.pmi.training import babi_model, clevr_model

    m = babi_model("pmi", 30, 10, 6, PMIBabiConfig().model, seed=0)
    attn = m.encoder.attn
    assert attn.scale == 1.0 and attn.cfg.use_correction is False
    assert tuple(attn.W_q.shape) == (64, 4 * 32) and tuple(attn.W_v.shape) == (64, 64)
    c = clevr_model("pmi", 75, 15, PMIClevrConfig().model, seed=0)
    assert c.encoder.attn.scale == 1.0 and c.encoder.attn.cfg.use_correction is True


@pytest.mark.parametrize(
    "over, words",
    [
        ({"n_heads": 3}, "n_heads=3 must divide dim=64"),
        ({"dim": 30}, "n_heads=4 must divide dim=30"),
        ({"key_dim": 0}, "key_dim must be >= 1"),
        ({"topk_read": 9}, "topk_read=9 is larger than the number of slots 8"),
        ({"max_sentences": 2, "topk_write": 5}, "model.pmi.topk_write=5 .* tokens 4"),
        ({"scale": False}, "scale"),  # unknown setting name
    ],
)
def test_babi_bad_settings_fail_before_data_and_training(tmp_path, over, words):
    # tmp_path holds no bAbI data: the config error comes first
    with pytest.raises(ConfigError, match=words):
        experiments.run("pmi-babi", data=tmp_path, **over)


def test_babi_topk_check_needs_a_pmi_model(tmp_path):
    """Soft attention and the baseline have no top-k: only the data is missing then."""
    from neuromem.errors import DataNotFoundError

    pytest.importorskip("torch")
    for models in (["baseline"], ["pmi-soft"]):
        with pytest.raises(DataNotFoundError):
            experiments.run("pmi-babi", data=tmp_path, max_sentences=2, topk_write=5,
                            models=models)  # fmt: skip


@pytest.mark.parametrize(
    "over, words",
    [
        ({"patch": 25, "topk_write": 12}, "model.pmi.topk_write=12 .* tokens 11"),
        ({"n_heads": 5}, "n_heads=5 must divide"),
        ({"topk_read": 10}, "topk_read=10"),
    ],
)
def test_clevr_bad_settings(over, words):
    with pytest.raises(ConfigError, match=words):
        experiments.run("pmi-sort-of-clevr", **over)


def test_short_babi_batches_are_padded_to_topk_tokens():
    """A batch whose stories are shorter than topk_write - 2 sentences gets masked padding,
    so the PMI model never sees fewer than topk_write tokens (it raises otherwise)."""
    torch = pytest.importorskip("torch")
    from neuromem.pmi.config import BabiModelConfig
    from neuromem.pmi.training import babi_batch_fn, babi_model

    n, S, W = 4, 6, 3
    arrs = {
        "story": np.zeros((n, S, W), dtype=np.int64),
        "story_mask": np.zeros((n, S), dtype=bool),
        "question": np.ones((n, W), dtype=np.int64),
        "answer": np.zeros(n, dtype=np.int64),
    }
    arrs["story"][:, 0] = 2
    arrs["story_mask"][:, 0] = True  # one sentence each: 3 tokens without padding
    cfg = BabiModelConfig(pmi=PMIConfig(dim=16, n_heads=2, key_dim=4, topk_write=5),
                          n_layers=1, ffn_dim=8, dropout=0.0)  # fmt: skip
    pmi = babi_model("pmi", 5, 3, W, cfg, seed=0).eval()
    seen = {}
    pmi.encoder.register_forward_hook(lambda m, i, o: seen.__setitem__("T", i[0].shape[1]))
    logits = babi_batch_fn(arrs, pmi, False)(np.arange(n))
    assert logits.shape == (n, 3) and torch.isfinite(logits).all()
    assert seen["T"] == 5  # cls + 3 sentence slots (1 real, 2 masked) + question
    # the baseline has no top-k: it keeps the batch's own length
    base = babi_model("baseline", 5, 3, W, cfg, seed=0).eval()
    base.encoder.register_forward_hook(lambda m, i, o: seen.__setitem__("T", i[0].shape[1]))
    babi_batch_fn(arrs, base, False)(np.arange(n))
    assert seen["T"] == 3


def test_prior_margin_is_two_binomial_standard_errors():
    assert prior_margin(0.485, 400) == pytest.approx(2 * np.sqrt(0.485 * 0.515 / 400))
    assert prior_margin(0.5, 100) == pytest.approx(0.1)
    assert prior_margin(1.0, 10) == 0.0
    with pytest.raises(ValueError, match="n_questions"):
        prior_margin(0.5, 0)


@pytest.mark.parametrize(
    "preset, cls",
    [("pmi-babi", PMIBabiConfig), ("pmi-sort-of-clevr", PMIClevrConfig)],
)
def test_presets_match_the_experiment_defaults(preset, cls):
    from neuromem.config import load_preset, resolve_config

    name, table = load_preset(preset)
    assert name == preset
    assert resolve_config(cls, table) == cls()
    # the preset states every PMI setting (it documents them), not only the changed ones
    assert set(table["model"]["pmi"]) == set(PMIConfig().as_dict())


def test_paper_preset_runs_the_authors_settings():
    from neuromem.config import load_preset, resolve_config

    _, table = load_preset("pmi-babi-paper")
    cfg = resolve_config(PMIBabiConfig, table)
    p = cfg.model.pmi
    assert (p.dim, p.n_heads, p.key_dim, p.scaled, p.use_correction) == (256, 8, 32, False, False)
    assert p.use_wm_inference and (p.topk_write, p.topk_read, p.n_slots) == (5, 5, 8)
    assert cfg.model.word_weights == "mean" and cfg.batches == "per_task"


def test_ablation_that_contradicts_the_config_is_refused_before_training(tmp_path):
    """pmi-no-ltm keeps only the working memory: without working-memory inference nothing is
    left; the error names the model and comes before the data are looked for."""
    with pytest.raises(ConfigError, match="pmi-no-ltm.*use_wm_inference"):
        experiments.run("pmi-babi", data=tmp_path, models=["pmi-no-ltm"], use_wm_inference=False)


def test_a_models_result_does_not_depend_on_the_other_models_of_the_run():
    """One model seed per run: PMI alone and PMI after the soft-attention ablation train the
    same weights on the same batches (what lets the benchmarks run one job per model)."""
    pytest.importorskip("torch")
    over = {**experiments.get("pmi-sort-of-clevr").demo_overrides, "steps": 6}
    alone = experiments.run("pmi-sort-of-clevr", seed=3, overrides={**over, "models": ["pmi"]})
    both = experiments.run(
        "pmi-sort-of-clevr", seed=3, overrides={**over, "models": ["pmi-soft", "pmi"]}
    )
    for k in ("pmi_accuracy", "pmi_relational_accuracy", "pmi_nonrelational_accuracy"):
        assert alone["metrics"][k] == both["metrics"][k]
