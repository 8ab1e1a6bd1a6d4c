"""Sparsey experiments and presets, on small settings (MNIST on synthetic IDX files)."""

from __future__ import annotations

import numpy as np
import pytest
from test_sparsey_readout import write_idx

from neuromem import experiments
from neuromem.errors import ConfigError, DataNotFoundError
from neuromem.experiments.sparsey import predicted_capacity, predicted_exact_recall, roc_auc
from neuromem.sparsey import Sparsey


def test_registered():
    names = experiments.names()
    for n in ("sparsey-sisc", "sparsey-capacity", "sparsey-sequences", "sparsey-mnist"):
        assert n in names
    assert experiments.get("sparsey-mnist").needs_data


def test_sisc_spearman_high_on_small_run():
    r = experiments.run("sparsey-sisc", n_families=6, seed=1)
    m = r["metrics"]
    assert m["spearman"] > 0.7
    sims = m["mean_code_similarity"]
    assert sims[-1] > 0.8 and sims[0] < 0.2  # identical vs unrelated inputs


def test_capacity_identity_metrics_expose_failures():
    r = experiments.run("sparsey-capacity", n_items=[60, 500], critical_period=0.3, seed=2)
    m = r["metrics"]
    # the model: every item recalled as itself, familiar against novel, identified under noise
    assert m["exact_recall"][0] == 1.0
    assert m["stored_vs_novel_auc"][0] == 1.0 and m["noisy_identification"][0] == 1.0
    assert m["capacity"] == 500 and m["froze"] == [False, False]
    # chi = 0: a recurring item gets a second code, so recall by identity fails for it
    assert m["exact_recall_chi0"][0] <= 1.0 - 0.8 * 0.25
    assert m["capacity_chi0"] == 0
    # a critical period ends learning: the items after it are not familiar, and noise shows it
    assert m["froze_critical_period"] == [False, True]
    assert m["items_stored_before_freeze_critical_period"][1] < 500
    assert m["stored_vs_novel_auc_critical_period"][1] < 0.95
    assert m["capacity_critical_period"] == 60
    # the null stores nothing: the old metric (code learn() returned) still reads 1.0
    assert m["exact_recall_vs_learned_code_null_frozen"] == [1.0, 1.0]
    assert m["exact_recall_null_frozen"] == [0.0, 0.0]
    assert max(m["noisy_identification_null_frozen"]) < 0.05
    assert all(abs(a - 0.5) < 0.1 for a in m["stored_vs_novel_auc_null_frozen"])


def test_capacity_same_seed_same_result_and_errors():
    a = experiments.run("sparsey-capacity", n_items=[40], seed=5)["metrics"]
    b = experiments.run("sparsey-capacity", n_items=[40], seed=5)["metrics"]
    assert a == b
    with pytest.raises(ConfigError, match="repeat_fraction"):
        experiments.run("sparsey-capacity", repeat_fraction=1.5)
    with pytest.raises(ConfigError, match="n_items"):
        experiments.run("sparsey-capacity", n_items=[100, 50])
    with pytest.raises(ConfigError, match="noise"):
        experiments.run("sparsey-capacity", noise=0.0)


def test_roc_auc_and_predicted_curve():
    assert roc_auc([1.0, 1.0], [1.0, 1.0]) == 0.5
    assert roc_auc([0.9, 0.8], [0.1, 0.2]) == 1.0
    with pytest.raises(ValueError, match="positive"):
        roc_auc([], [0.1])
    # the prediction falls with N, and the capacity grows with K
    p = predicted_exact_recall([100, 600, 1200], 1024, 32, 16, 16)
    assert p[0] > p[1] > p[2]
    assert predicted_capacity(1024, 32, 16, 32) > predicted_capacity(1024, 32, 16, 16)


def test_sequences_recognised():
    r = experiments.run("sparsey-sequences", n_sequences=10, n_symbols=0, seed=3)
    m = r["metrics"]
    assert m["accuracy"] == 1.0
    assert m["accuracy_noisy"] >= 0.9
    assert m["frame_code_recall"] == 1.0


def test_sequences_shared_frames_need_H():
    r = experiments.run("sparsey-sequences", n_sequences=15, n_symbols=6, seed=4)
    m = r["metrics"]
    assert m["accuracy"] > m["accuracy_no_h"] + 0.2


def fake_mnist(folder, per_class=30, seed=0):
    """Ten classes of 28x28 images: a bar at a class-specific angle, jittered."""
    rng = np.random.default_rng(seed)
    imgs, labels = [], []
    rr, cc = np.mgrid[:28, :28]
    for c in range(10):
        for _ in range(per_class):
            ang = c * np.pi / 10 + rng.normal(0, 0.05)
            d = np.abs((rr - 14 - rng.integers(-2, 3)) * np.cos(ang) - (cc - 14) * np.sin(ang))
            imgs.append(np.clip(2.5 - d, 0, 1) * 255 * ((rr - 14) ** 2 + (cc - 14) ** 2 < 100))
            labels.append(c)
    folder.mkdir(parents=True, exist_ok=True)
    write_idx(folder / "t10k-images-idx3-ubyte.gz", np.array(imgs, dtype=np.uint8))
    write_idx(folder / "t10k-labels-idx1-ubyte.gz", np.array(labels, dtype=np.uint8))


MNIST_KEYS = (
    "accuracy",
    "accuracy_fixed_time",
    "accuracy_fixed_time_one_pass",
    "accuracy_chi0",
    "baseline_knn_accuracy",
    "baseline_knn_preprocessed_accuracy",
    "frac_G_ge_0999",
    "train_seconds",
    "test_seconds",
    "compile_seconds",
    "codes_per_second",
)


def test_mnist_pipeline_on_synthetic_idx(tmp_path):
    fake_mnist(tmp_path / "mnist")
    r = experiments.run(
        "sparsey-mnist", data=tmp_path, train_per_class=10, test_per_class=10, out=tmp_path / "o"
    )
    m = r["metrics"]
    for key in MNIST_KEYS:
        assert key in m
    assert m["split"] == "test"
    assert m["n_train"] == 100 and m["n_test"] == 100
    assert m["accuracy"] > 0.6  # easy synthetic classes; chance is 0.1
    assert m["accuracy_fixed_time"] > 0.6
    assert 0.0 <= m["frac_G_ge_0999"] <= 1.0
    assert (tmp_path / "o" / "mnist.png").is_file()


def test_mnist_validation_split_leaves_test_untouched(tmp_path, monkeypatch):
    import neuromem.experiments.sparsey as sx

    fake_mnist(tmp_path / "mnist")
    seen = []
    real = sx._mnist_pipeline

    def spy(cfg, seed, Ftr, ytr, Fte, chi=None):
        seen.append((len(Ftr), len(Fte)))
        return real(cfg, seed, Ftr, ytr, Fte, chi)

    monkeypatch.setattr(sx, "_mnist_pipeline", spy)
    args = dict(data=tmp_path, train_per_class=12, test_per_class=10, seed=4)
    val = experiments.run("sparsey-mnist", split="validation", val_per_class=3, **args)
    m = val["metrics"]
    assert m["split"] == "validation" and m["n_train"] == 90 and m["n_test"] == 30
    assert seen[1:] == [(90, 30), (90, 30)]  # model and chi=0, on the validation images
    # the same seed gives the same result (no wall-clock dependence)
    again = experiments.run("sparsey-mnist", split="validation", val_per_class=3, **args)
    for key in ("accuracy", "accuracy_fixed_time", "accuracy_chi0", "frac_G_ge_0999"):
        assert again["metrics"][key] == m[key]


def test_mnist_errors(tmp_path, monkeypatch):
    monkeypatch.delenv("NEUROMEM_DATA", raising=False)  # no data folder from the environment
    with pytest.raises(DataNotFoundError):
        experiments.run("sparsey-mnist")
    with pytest.raises(ConfigError, match="split"):
        experiments.run("sparsey-mnist", data=tmp_path, split="train")
    with pytest.raises(ConfigError, match="val_per_class"):
        experiments.run("sparsey-mnist", data=tmp_path, split="validation", val_per_class=200)
    with pytest.raises(ConfigError, match="readout_passes"):
        experiments.run("sparsey-mnist", data=tmp_path, readout_passes=0)
    with pytest.raises(ConfigError, match="892"):
        experiments.run("sparsey-mnist", data=tmp_path, train_per_class=500, test_per_class=500)
    with pytest.raises(ConfigError, match="K must be >= 2"):
        experiments.run("sparsey-sisc", K=1)


@pytest.mark.parametrize(
    "name", ["sparsey-mnist", "sparsey-mnist-hierarchy", "sparsey-sisc", "sparsey-capacity"]
)
def test_presets_build_models(name):
    m = Sparsey.from_preset(name, seed=0)
    assert m.n_levels >= 1
    if name == "sparsey-mnist":
        assert m.levels[0].M == 12 * 12 and m.levels[0].Q == 8 and m.levels[0].K == 32
    with pytest.raises(ConfigError, match="not found"):
        Sparsey.from_preset("no-such-preset")


@pytest.mark.data
def test_real_mnist_small(shared_data):
    r = experiments.run(
        "sparsey-mnist",
        data=shared_data,
        train_per_class=50,
        test_per_class=50,
        split="validation",
        val_per_class=10,
    )
    assert r["metrics"]["accuracy"] > 0.75
    assert r["metrics"]["accuracy_fixed_time"] > 0.75
