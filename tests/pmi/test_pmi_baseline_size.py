"""The baseline Transformer is the same size as the PMI Transformer (parameter counts)."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from neuromem import experiments  # noqa: E402
from neuromem.errors import ConfigError  # noqa: E402
from neuromem.pmi.config import BabiModelConfig, TransformerConfig  # noqa: E402
from neuromem.pmi.torch_model import count_parameters  # noqa: E402
from neuromem.pmi.training import babi_model, clevr_model, matched_ffn_dim  # noqa: E402

# stated tolerance: the counts agree within 1% (the matching step is 2*dim+1 parameters,
# 0.1% of the default models)
SIZE_TOLERANCE = 0.01


@pytest.mark.parametrize("vocab, answers, words", [(40, 12, 9), (160, 40, 13)])
def test_default_babi_baseline_matches_pmi_size(vocab, answers, words):
    cfg = BabiModelConfig()  # the model's defaults: those of pmi-babi but word_weights
    pmi = babi_model("pmi", vocab, answers, words, cfg, seed=0)
    base = babi_model("baseline", vocab, answers, words, cfg, seed=0)
    n_pmi, n_base = count_parameters(pmi), count_parameters(base)
    assert abs(n_base - n_pmi) / n_pmi < SIZE_TOLERANCE
    # matched by widening the feed-forward sub-layer only: same width, depth and heads
    assert base.encoder.ff[0].out_features > cfg.ffn_dim == pmi.encoder.ff[0].out_features
    assert base.encoder.n_layers == pmi.encoder.n_layers
    assert base.embed.embedding_dim == pmi.embed.embedding_dim == cfg.dim
    # the unmatched baseline (same FFN width as PMI) would be far smaller
    cfg_small = BabiModelConfig(baseline_ffn_dim=cfg.ffn_dim)
    small = babi_model("baseline", vocab, answers, words, cfg_small, seed=0)
    assert count_parameters(small) < 0.5 * n_pmi


def test_default_clevr_baseline_matches_pmi_size():
    cfg = TransformerConfig()  # the model of pmi-sort-of-clevr (75-pixel images, 15-pixel patches)
    pmi = clevr_model("pmi", 75, 15, cfg, seed=0)
    base = clevr_model("baseline", 75, 15, cfg, seed=0)
    n_pmi, n_base = count_parameters(pmi), count_parameters(base)
    assert abs(n_base - n_pmi) / n_pmi < SIZE_TOLERANCE


def test_matched_ffn_dim_solves_the_affine_count():
    class Fake(torch.nn.Module):
        def __init__(self, f):
            super().__init__()
            self.w = torch.nn.Parameter(torch.zeros(1000 + 37 * f))

    for target in (1000 + 37 * 50, 1000 + 37 * 50 + 18, 1000 + 37 * 50 - 18):
        assert matched_ffn_dim(Fake, target) == 50
    assert matched_ffn_dim(Fake, 10) == 1  # never below 1
    with pytest.raises(ValueError, match="ffn_dim"):
        matched_ffn_dim(lambda f: torch.nn.Linear(3, 3), 100)


def test_fixed_baseline_ffn_dim_is_used():
    cfg = BabiModelConfig(baseline_ffn_dim=77)
    base = babi_model("baseline", 30, 10, 8, cfg, seed=0)
    assert base.encoder.ff[0].out_features == 77


def test_negative_baseline_ffn_dim_is_rejected():
    with pytest.raises(ConfigError, match="baseline_ffn_dim"):
        experiments.run("pmi-sort-of-clevr", baseline_ffn_dim=-1)
    with pytest.raises(TypeError, match="cfg must be a BabiModelConfig"):
        babi_model("pmi", 30, 10, 8, TransformerConfig(), seed=0)


@pytest.mark.parametrize("readout, index", [("cls", 0), ("question", -1)])
def test_babi_readout_token(readout, index):
    from neuromem.pmi.torch_model import BabiModel

    torch.manual_seed(0)
    model = BabiModel(20, 5, 4, dim=16, n_layers=2, ffn_dim=8, attention="mha", dropout=0.0,
                      readout=readout).eval()  # fmt: skip
    seen = {}
    model.encoder.register_forward_hook(lambda m, i, o: seen.__setitem__("enc", o))
    model.head.register_forward_hook(lambda m, i, o: seen.__setitem__("head", i[0]))
    g = torch.Generator().manual_seed(1)
    story = torch.randint(1, 20, (3, 6, 4), generator=g)
    mask = torch.ones(3, 6, dtype=torch.bool)
    mask[0, 4:] = False
    model(story, mask, torch.randint(1, 20, (3, 4), generator=g))
    # the sequence is [cls, 6 sentence slots, question]: the question token is the last one
    assert seen["enc"].shape[1] == 8
    assert torch.equal(seen["head"], seen["enc"][:, index])


def test_unknown_readout_is_rejected():
    from neuromem.pmi.torch_model import BabiModel

    with pytest.raises(ValueError, match="readout"):
        BabiModel(20, 5, 4, dim=16, n_layers=1, ffn_dim=8, attention="mha", readout="mean")
    with pytest.raises(ValueError, match="readout"):
        BabiModelConfig(readout="mean").validate()


def test_word_weights_set_the_scale_of_sentence_codes():
    from neuromem.pmi.torch_model import BabiModel

    L, n, dim = 10, 6, 256
    kw = dict(dim=dim, n_layers=1, ffn_dim=8, attention="mha", dropout=0.0)
    torch.manual_seed(0)
    mean = BabiModel(50, 5, L, word_weights="mean", **kw)
    torch.manual_seed(0)
    total = BabiModel(50, 5, L, word_weights="sum", **kw)
    assert torch.equal(mean.embed.weight, total.embed.weight)  # only p_j differs
    assert torch.all(mean.pos_w == 1.0 / L) and torch.all(total.pos_w == 1.0)
    # a sentence of n distinct words: its code is the p_j-weighted sum of n N(0, 1) rows,
    # standard deviation sqrt(n) p_j; estimated over 256 coordinates (rel. error ~ 1/sqrt(512))
    words = torch.arange(2, 2 + n)
    for model, p in ((mean, 1.0 / L), (total, 1.0)):
        code = (model.embed(words) * model.pos_w[:n]).sum(dim=0)
        assert float(code.detach().std()) == pytest.approx(n**0.5 * p, rel=0.15)
    with pytest.raises(ValueError, match="word_weights"):
        BabiModel(50, 5, L, word_weights="max", **kw)
    with pytest.raises(ValueError, match="word_weights"):
        BabiModelConfig(word_weights="max").validate()


@pytest.mark.parametrize("experiment", ["pmi-babi", "pmi-sort-of-clevr"])
def test_experiment_baseline_matches_pmi_size_with_key_width_32(experiment):
    """The experiments run the authors' key width 32 (PMI grows by the wider query and key
    projections); the baseline's feed-forward width is re-matched to the new size."""
    import dataclasses

    cfg = experiments.get(experiment).config().model
    assert cfg.pmi.key_dim == 32 and cfg.baseline_ffn_dim == 0

    def build(kind, c):
        if experiment == "pmi-babi":
            return babi_model(kind, 160, 40, 13, c, seed=0)
        return clevr_model(kind, 75, 15, c, seed=0)

    pmi, base = build("pmi", cfg), build("baseline", cfg)
    n_pmi, n_base = count_parameters(pmi), count_parameters(base)
    assert abs(n_base - n_pmi) / n_pmi < SIZE_TOLERANCE
    # key width 16 -> 32 adds 2 * (dim + 1) * n_heads * 16 parameters to PMI (W_q, b_q, W_k,
    # b_k; one module shared by the layers), and the matched baseline widens with it
    narrow = dataclasses.replace(cfg, pmi=dataclasses.replace(cfg.pmi, key_dim=16))
    d, h = cfg.pmi.dim, cfg.pmi.n_heads
    assert n_pmi - count_parameters(build("pmi", narrow)) == 2 * (d + 1) * h * 16
    assert base.encoder.ff[0].out_features > build("baseline", narrow).encoder.ff[0].out_features
