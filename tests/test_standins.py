"""Offline stand-ins: the loaders read them, and they hold structure to learn."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest

from neuromem import experiments
from neuromem.cli import main
from neuromem.datasets import standins
from neuromem.datasets.babi import read_babi_file
from neuromem.datasets.kg import load_kg
from neuromem.datasets.mnist import load_mnist


def test_mnist_standin_is_digits_a_nearest_centroid_tells_apart(tmp_path):
    standins.write_mnist(tmp_path, 600, 0)
    x, y = load_mnist(tmp_path)
    assert x.shape == (600, 28, 28) and x.dtype == np.uint8 and set(y) == set(range(10))
    f = x.reshape(600, -1).astype(float)
    cent = np.stack([f[:400][y[:400] == d].mean(0) for d in range(10)])
    pred = np.argmin(((f[400:, None] - cent[None]) ** 2).sum(-1), axis=1)
    assert np.mean(pred == y[400:]) > 0.3  # chance is 0.1: the classes differ


def test_kg_standin_has_the_real_sizes_and_seen_test_entities(tmp_path):
    standins.write_kg(tmp_path / "nations", "nations", 0)
    kg = load_kg(tmp_path / "nations")
    n_ent, n_rel, n_tr, n_va, n_te = standins.KG_SIZES["nations"]
    assert kg.n_relations <= n_rel and kg.n_entities <= n_ent
    assert len(kg.train) + len(kg.valid) + len(kg.test) == n_tr + n_va + n_te
    train_e = set(kg.train[:, 0]) | set(kg.train[:, 2])
    assert set(kg.test[:, 0]) | set(kg.test[:, 2]) <= train_e


@pytest.mark.parametrize("task", standins.BABI_TASKS)
def test_babi_standin_answers_follow_from_the_supporting_lines(tmp_path, task):
    standins.write_babi(tmp_path, 0, tasks=(task,), n_stories=(20, 2, 2))
    ex = read_babi_file(tmp_path / f"qa{task}_train.txt", task=task)
    assert len(ex) >= 20
    for e in ex[:20]:
        sup_words = {w for i in e.supporting for w in e.story[i]} if e.supporting else set()
        assert e.answer in sup_words or e.answer in ("yes", "no")


def test_demo_runs_a_data_experiment_on_the_standin_and_says_so(tmp_path, capsys, monkeypatch):
    import neuromem.datasets as D
    from neuromem.experiments import _registry

    @dataclass
    class _C:
        pass

    seen = {}

    def exp(cfg, ctx):
        seen["files"] = sorted(p.name for p in ctx.data_dir("mnist").iterdir())
        return {"ok": 1}

    _registry.register("test-standin", config=_C, description="d", needs_data=True,
                       data_sets=("mnist",))(exp)  # fmt: skip
    orig = D.find_data_dir
    monkeypatch.setattr(D, "find_data_dir", lambda data=None, beside_clone=True: (
        (None, None) if data is None else orig(data, beside_clone)))  # fmt: skip

    def fake_mnist(folder, n=0, rng=None):
        folder.mkdir(parents=True)
        (folder / "t10k-images-idx3-ubyte.gz").write_bytes(b"x")

    monkeypatch.setattr(standins, "write_mnist", fake_mnist)
    monkeypatch.setattr(standins, "write_kg", lambda *a, **k: None)
    monkeypatch.setattr(standins, "write_babi", lambda *a, **k: None)
    keep = [e for e in experiments.experiments() if e.name == "test-standin"]
    monkeypatch.setattr(experiments, "experiments", lambda: keep)
    try:
        assert main(["demo", "--out", str(tmp_path / "r"), "--no-progress"]) == 0
    finally:
        _registry._REGISTRY.pop("test-standin")
    out = capsys.readouterr().out
    assert seen["files"] == ["t10k-images-idx3-ubyte.gz"]
    assert "offline stand-in" in out and "neuromem data fetch mnist" in out
    import json

    res = json.loads((tmp_path / "r" / "test-standin" / "result.json").read_text())
    assert res["data_source"] == standins.NOTE


def test_a_data_note_is_written_on_every_figure_and_only_then():
    def texts(res):
        return [t.get_text() for f in res.figure_objects.values() for t in f.texts]

    noted = experiments.run("sdr-overlap", data_note=standins.NOTE)
    assert noted.figure_objects and all(
        any(standins.NOTE in t.get_text() for t in f.texts) for f in noted.figure_objects.values()
    )
    assert not any(standins.NOTE in t for t in texts(experiments.run("sdr-overlap")))
