"""The registered PMI experiments run, return sane metrics and reject bad configs."""

from __future__ import annotations

import numpy as np
import pytest

from neuromem import experiments
from neuromem.errors import ConfigError


def test_dynamics_small_run(tmp_path):
    r = experiments.run("pmi-dynamics", out=tmp_path, seed=3, n_steps=6, n_streams=2,
                        n_foils=10)  # fmt: skip
    m = r["metrics"]
    # every slot wins exactly topk_write tokens per step (per head)
    assert m["tokens_per_slot_per_step"] == pytest.approx(2.0)
    assert len(m["recall_wm"]) == 6 and len(m["ltm_drift"]) == 6
    for k in ("recall_wm", "recall_ltm", "trace_wm", "trace_ltm"):
        assert all(0.0 <= v <= 1.0 for v in m[k])
    assert m["ltm_drift"][-1] > 0
    assert (tmp_path / "dynamics.png").is_file() and (tmp_path / "dynamics.npz").is_file()
    again = experiments.run("pmi-dynamics", seed=3, n_steps=6, n_streams=2, n_foils=10)
    assert again["metrics"]["recall_wm"] == m["recall_wm"]


def test_dynamics_code_rule_freezes_ltm_with_identity_weights():
    m = experiments.run("pmi-dynamics", n_steps=5, n_streams=1, n_foils=5,
                        consolidation="code")["metrics"]  # fmt: skip
    assert m["ltm_step_change"][0] > 0.1
    assert max(m["ltm_step_change"][1:]) < 1e-4


@pytest.mark.parametrize(
    "over, words",
    [
        ({"topk_write": 5}, "tokens_per_step"),
        ({"weights": "ones"}, "weights"),
        ({"consolidation": "hebb"}, "consolidation"),
        ({"n_steps": 0}, "n_steps"),
    ],
)
def test_dynamics_bad_config(over, words):
    with pytest.raises(ConfigError, match=words):
        experiments.run("pmi-dynamics", **over)


def test_sort_of_clevr_tiny_run():
    pytest.importorskip("torch")
    r = experiments.run("pmi-sort-of-clevr", seed=1, **experiments.get("pmi-sort-of-clevr")
                        .demo_overrides)  # fmt: skip
    m = r["metrics"]
    for kind in ("pmi", "baseline", "pmi_soft"):
        for k in ("relational_accuracy", "nonrelational_accuracy", "accuracy"):
            assert 0.0 <= m[f"{kind}_{k}"] <= 1.0
    assert m["pmi_parameters"] == m["pmi_soft_parameters"]
    # same-size baseline: its feed-forward width is matched to PMI's parameter count
    assert abs(m["baseline_parameters"] / m["pmi_parameters"] - 1) < 0.01
    assert m["baseline_ffn_dim"] > m["pmi_ffn_dim"]
    # question-type priors: about 0.5 for non-relational questions (yes/no, two shapes)
    assert 0.3 < m["prior_nonrelational_accuracy"] < 0.75
    # the demo budget (20 steps on 60 images) stays at or below that prior: the metrics say
    # so per model and in words
    from neuromem.experiments.pmi import prior_margin

    margin = prior_margin(m["prior_accuracy"], m["n_test_questions"])
    for kind in ("pmi", "baseline", "pmi_soft"):
        excess = m[f"{kind}_accuracy"] - m["prior_accuracy"]
        assert m[f"{kind}_learned_beyond_prior"] == pytest.approx(excess)
        assert m[f"{kind}_beyond_prior"] == (excess > margin)
    assert m["budget_too_short"] is True
    assert m["budget_note"].startswith("budget too short to learn")
    with pytest.raises(ConfigError, match="patch"):
        experiments.run("pmi-sort-of-clevr", patch=7)
    with pytest.raises(ConfigError, match="models"):
        experiments.run("pmi-sort-of-clevr", models=["rnn"])


@pytest.mark.data
def test_babi_tiny_run(shared_data):
    pytest.importorskip("torch")
    r = experiments.run("pmi-babi", data=shared_data, seed=0, tasks=[1, 3], train_per_task=100,
                        test_per_task=50, steps=5, dim=16, n_layers=1, ffn_dim=16,
                        key_dim=4)  # fmt: skip
    m = r["metrics"]
    assert m["tasks_trained_on_valid"] == [3] or m["tasks_trained_on_valid"] == []
    assert len(m["pmi_accuracy"]) == 2 and len(m["baseline_accuracy"]) == 2
    assert m["pmi_accuracy_mean"] == pytest.approx(np.mean(m["pmi_accuracy"]))
    assert m["n_test"] == 100


def test_babi_needs_data_and_valid_config(tmp_path):
    with pytest.raises(ConfigError, match="tasks"):
        experiments.run("pmi-babi", data=tmp_path, tasks=[21])
    with pytest.raises(ConfigError, match="topk"):
        experiments.run("pmi-babi", data=tmp_path, topk=-1)
    pytest.importorskip("torch")
    with pytest.raises(ConfigError, match="bAbI"):
        experiments.run("pmi-babi", data=tmp_path, steps=1)


def test_loss_plot_marks_each_logged_point(tmp_path):
    """A short budget logs one point per model: it is drawn as a marker at its step."""
    from neuromem.experiments import RunContext
    from neuromem.experiments.pmi import _plot_curves

    ctx = RunContext(seed=0, backend="torch", data=None, out=tmp_path)
    seen = {}
    ctx.save_figure = lambda fig, name: seen.update(fig=fig, name=name)
    # 1030 steps log every 50 (loss_interval): 21 entries, the last one at the budget's end
    _plot_curves(ctx, {"pmi": [2.1], "baseline": [2.0] * 21}, "t", "loss", steps=1030)
    lines = seen["fig"].axes[0].get_lines()
    assert [ln.get_marker() for ln in lines] == ["o", "o"]
    assert lines[0].get_xdata().tolist() == [50]
    assert lines[1].get_xdata().tolist()[:2] == [50, 100]
    assert lines[1].get_xdata().tolist()[-2:] == [1000, 1030]
    assert "1 point" in lines[0].get_label()
    assert "interval of 50 steps" in seen["fig"].axes[0].get_xlabel()
    _plot_curves(ctx, {"pmi": [2.1] * 20}, "t", "loss", steps=40)  # the demo's budget
    assert seen["fig"].axes[0].get_lines()[0].get_xdata().tolist()[:3] == [2, 4, 6]


def test_result_records_torch_version():
    from neuromem.experiments import versions

    v = versions()
    assert "torch" in v and v["torch"] != ""
