"""The training loop's recipe: learning-rate schedule, per-group batches, bad arguments."""

from __future__ import annotations

import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")
torch.set_num_threads(1)

from neuromem.pmi.training import _batch_sampler, fit, lr_factor  # noqa: E402


def test_lr_factor_warmup_then_constant_or_cosine():
    assert [lr_factor(s, 10, 4) for s in range(4)] == [0.25, 0.5, 0.75, 1.0]
    assert all(lr_factor(s, 10, 4) == 1.0 for s in range(4, 10))
    # cosine: 1 right after the warm-up, 1/2 half way through the rest, -> 0 at the end
    assert lr_factor(4, 10, 4, "cosine") == pytest.approx(1.0)
    assert lr_factor(7, 10, 4, "cosine") == pytest.approx(0.5)
    assert lr_factor(9, 10, 4, "cosine") == pytest.approx(0.5 * (1 + math.cos(math.pi * 5 / 6)))
    assert lr_factor(0, 10, 0, "cosine") == pytest.approx(1.0)


class _Recorder(torch.nn.Module):
    """A one-parameter model that records the rows of every batch and the learning rate."""

    def __init__(self):
        super().__init__()
        self.w = torch.nn.Parameter(torch.zeros(2))
        self.batches = []


def _fit_recording(n, steps, bs, groups=None, warmup=0, schedule="constant", lr=0.1):
    model = _Recorder()
    lrs = []

    def bf(idx):
        model.batches.append(np.asarray(idx).copy())
        logits = model.w.expand(len(idx), 2)
        return logits, torch.zeros(len(idx), dtype=torch.long)

    orig = torch.optim.Adam.step

    def step(self, *a, **k):
        lrs.append(self.param_groups[0]["lr"])
        return orig(self, *a, **k)

    torch.optim.Adam.step = step
    try:
        fit(model, bf, n, steps, bs, lr, np.random.default_rng(0), warmup=warmup,
            schedule=schedule, groups=groups)  # fmt: skip
    finally:
        torch.optim.Adam.step = orig
    return model.batches, np.array(lrs)


def test_fit_applies_the_schedule():
    _, lrs = _fit_recording(64, 20, 8, warmup=5, schedule="cosine", lr=0.1)
    want = [0.1 * lr_factor(s, 20, 5, "cosine") for s in range(20)]
    np.testing.assert_allclose(lrs, want, rtol=1e-12)
    _, lrs = _fit_recording(64, 6, 8, lr=0.1)
    np.testing.assert_allclose(lrs, 0.1)


def test_fit_calls_back_on_schedule_and_keeps_training_mode():
    model = _Recorder()
    seen = []

    def bf(idx):
        model.batches.append(np.asarray(idx).copy())
        return model.w.expand(len(idx), 2), torch.zeros(len(idx), dtype=torch.long)

    def cb(step):
        # called after the optimiser step: `step` batches drawn, the weights already moved
        seen.append((step, len(model.batches), float((model.w[0] - model.w[1]).detach())))
        model.eval()  # an evaluation leaves eval mode on; fit must switch training back on

    fit(model, bf, 40, 10, 4, 0.1, np.random.default_rng(0), callback=cb, callback_every=3)
    assert [s for s, _, _ in seen] == [3, 6, 9]
    assert [n for _, n, _ in seen] == [3, 6, 9]
    # label 0 everywhere: Adam raises w[0] - w[1] by ~2 lr per step from 0
    assert all(d > 0 for _, _, d in seen) and seen[0][2] < seen[1][2] < seen[2][2]
    assert model.training
    # same batches and weights as a run without the callback
    ref = _Recorder()

    def bf2(idx):
        ref.batches.append(np.asarray(idx).copy())
        return ref.w.expand(len(idx), 2), torch.zeros(len(idx), dtype=torch.long)

    fit(ref, bf2, 40, 10, 4, 0.1, np.random.default_rng(0))
    for a, b in zip(model.batches, ref.batches, strict=True):
        np.testing.assert_array_equal(a, b)
    torch.testing.assert_close(model.w.detach(), ref.w.detach(), rtol=0, atol=0)


def test_mixed_batches_cycle_through_permutations():
    batches, _ = _fit_recording(40, 10, 8)
    # 5 batches of 8 cover the 40 rows exactly once, then a fresh permutation begins
    first = np.concatenate(batches[:5])
    assert sorted(first.tolist()) == list(range(40))
    assert sorted(np.concatenate(batches[5:]).tolist()) == list(range(40))


def test_per_group_batches_hold_one_group_each_and_share_steps_evenly():
    # unequal groups: 300 rows of group 1, 30 of group 2, 60 of group 7
    groups = np.repeat([1, 2, 7], [300, 30, 60])
    batches, _ = _fit_recording(len(groups), 600, 10, groups=groups)
    g = [np.unique(groups[b]) for b in batches]
    assert all(len(u) == 1 for u in g)  # one group per batch
    counts = np.bincount([int(u[0]) for u in g], minlength=8)[[1, 2, 7]]
    # uniform over the 3 groups: 200 each, binomial sd sqrt(600 * 1/3 * 2/3) = 11.5
    assert np.all(np.abs(counts - 200) < 5 * 11.6)
    # within a group, rows cycle through a permutation before repeating
    small = [b for b in batches if groups[b[0]] == 2][:3]
    assert sorted(np.concatenate(small).tolist()) == list(range(300, 330))


def test_per_group_sampler_is_repeatable():
    groups = np.repeat([0, 1], [50, 20])
    a = _batch_sampler(70, 5, np.random.default_rng(3), groups)
    b = _batch_sampler(70, 5, np.random.default_rng(3), groups)
    for _ in range(30):
        np.testing.assert_array_equal(a(), b())


@pytest.mark.parametrize(
    "kw, words",
    [
        ({"warmup": -1}, "warmup"),
        ({"warmup": 1.5}, "warmup"),
        ({"schedule": "linear"}, "schedule"),
        ({"groups": np.zeros(5)}, "groups"),
        ({"callback": print}, "callback_every"),
        ({"callback": print, "callback_every": 0}, "callback_every"),
        ({"callback": print, "callback_every": 2.5}, "callback_every"),
    ],
)
def test_fit_rejects_bad_recipe(kw, words):
    model = _Recorder()

    def bf(idx):
        return model.w.expand(len(idx), 2), torch.zeros(len(idx), dtype=torch.long)

    with pytest.raises(ValueError, match=words):
        fit(model, bf, 10, 2, 2, 0.1, np.random.default_rng(0), **kw)


@pytest.mark.parametrize(
    "over, words",
    [
        ({"batches": "random"}, "batches"),
        ({"schedule": "step"}, "schedule"),
        ({"warmup": -5}, "warmup"),
    ],
)
def test_babi_config_rejects_bad_recipe(tmp_path, over, words):
    from neuromem import experiments
    from neuromem.errors import ConfigError

    with pytest.raises(ConfigError, match=words):
        experiments.run("pmi-babi", data=tmp_path, **over)
