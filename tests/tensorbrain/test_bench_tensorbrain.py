"""benchmarks/bench_tensorbrain.py, neuromem's side on a tiny graph (PyKEEN is not needed)."""

from __future__ import annotations

import importlib.util
import json
import os
from pathlib import Path

import numpy as np
import pytest

from neuromem.datasets.kg import KnowledgeGraph
from neuromem.experiments.tensorbrain import TensorBrainKGConfig
from neuromem.tensorbrain.config import KGFitConfig

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_tensorbrain.py"


@pytest.fixture(scope="module")
def bench():
    before = dict(os.environ)  # the script pins thread variables when imported
    spec = importlib.util.spec_from_file_location("bench_tensorbrain", SCRIPT)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    yield mod
    for k in set(os.environ) - set(before):
        del os.environ[k]


def _tiny_kg(n=12, n_rel=2, seed=0):
    rng = np.random.default_rng(seed)
    rows = [(s, p, perm[s]) for p in range(n_rel) for perm in [rng.permutation(n)]
            for s in range(n)]  # fmt: skip
    t = np.array(rows, dtype=np.int64)[rng.permutation(n * n_rel)]
    return KnowledgeGraph([f"e{i}" for i in range(n)], [f"r{i}" for i in range(n_rel)],
                          train=t[:18], valid=t[18:21], test=t[21:])  # fmt: skip


def test_bench_graph_runs_headline_ablation_and_baseline_per_seed(bench):
    kg = _tiny_kg()
    cfg = TensorBrainKGConfig(
        dim=8, reciprocal=True, kg_fit=KGFitConfig(epochs=4, batch_size=8, lr=0.05, reg=0.0)
    )
    out = bench.bench_graph(kg, cfg, seeds=[0, 1], log=lambda s: None)
    assert [r["seed"] for r in out["runs"]] == [0, 1]
    r0 = out["runs"][0]
    assert r0["complex"]["reciprocal"] is True and r0["complex_ablation"]["reciprocal"] is False
    assert r0["distmult"]["model"] == "distmult" and "pykeen" not in r0
    curve = r0["complex"]["valid_curve"]
    assert [p[0] for p in curve] == bench.eval_epochs(4) == [1, 2, 3, 4]
    assert curve[-1][3] == pytest.approx(r0["complex"]["valid_mrr"])
    for col in (1, 2):  # wall and CPU clocks that only run on
        assert all(b[col] >= a[col] for a, b in zip(curve, curve[1:]))
    assert r0["complex"]["train_cpu_seconds"] >= curve[-1][2]
    s = out["summary"]["complex"]["test_mrr"]
    mrr = [r["complex"]["test"]["mrr"] for r in out["runs"]]
    assert s["mean"] == pytest.approx(np.mean(mrr)) and s["n"] == 2
    assert s["min"] <= s["mean"] <= s["max"]
    # same seed, same result
    again = bench.bench_graph(kg, cfg, seeds=[0], log=lambda s: None)["runs"][0]
    assert again["complex"]["test"] == r0["complex"]["test"]


def test_seconds_to_reach_and_eval_epochs(bench):
    curve = [[1, 0.5, 0.4, 0.2], [2, 1.0, 0.8, 0.6], [3, 1.5, 1.2, 0.7]]
    assert bench.seconds_to_reach(curve, 0.6) == 0.8
    assert bench.seconds_to_reach(curve, 0.6, cpu=False) == 1.0
    assert bench.seconds_to_reach(curve, 0.9) is None
    assert bench.eval_epochs(100) == list(range(5, 101, 5))
    assert bench.eval_epochs(45)[-1] == 45


def test_bad_arguments_exit_2(bench, capsys):
    assert bench.main(["--seeds", "a,b"]) == 2
    assert "--seeds" in capsys.readouterr().err
    assert bench.main(["--reach", "1.5"]) == 2


def test_table_from_a_report(bench, tmp_path, capsys):
    kg = _tiny_kg()
    cfg = TensorBrainKGConfig(dim=8, kg_fit=KGFitConfig(epochs=2, batch_size=8))
    entry = bench.bench_graph(kg, cfg, seeds=[0, 1], log=lambda s: None)
    rep = {"datasets": {"tiny": entry}, "published_mrr": {"tiny": {"X": 0.5}}}
    (tmp_path / "r.json").write_text(json.dumps(rep))
    assert bench.main(["--table", str(tmp_path / "r.json")]) == 0
    out = capsys.readouterr().out
    m = entry["summary"]["complex"]["test_mrr"]
    assert f"| tiny | ComplEx (preset) | no | yes, 0 | {m['mean']:.3f} ({m['sd']:.3f})" in out
    assert "X 0.5" in out and "reciprocal flipped | yes" in out
    assert "previous preset" not in out  # the preset keeps the bias: no such ablation
    assert bench.main(["--table", str(tmp_path / "absent.json")]) == 2


def test_bench_graph_runs_the_previous_setting_when_the_preset_departs(bench):
    kg = _tiny_kg()
    f = KGFitConfig(epochs=2, batch_size=8, lr=0.05, reg=0.0, reg_all=0.05)
    cfg = TensorBrainKGConfig(dim=8, entity_bias=False, kg_fit=f)
    out = bench.bench_graph(kg, cfg, seeds=[0], log=lambda s: None)
    r0 = out["runs"][0]
    assert (r0["complex"]["entity_bias"], r0["complex"]["reg_all"]) == (False, 0.05)
    assert (r0["complex_previous"]["entity_bias"], r0["complex_previous"]["reg_all"]) == (
        True,
        0.0,
    )
    assert r0["complex_previous"]["test"] != r0["complex"]["test"]
    assert out["settings"]["entity_bias"] is False and out["settings"]["reg_all"] == 0.05
    assert "complex_previous" in out["summary"]
    text = bench.table([{"datasets": {"tiny": out}, "published_mrr": {}}])
    assert "| tiny | ComplEx (preset) | no | no, 0.05 |" in text
    assert "| tiny | ComplEx, entity bias on, reg_all 0 (previous preset) | no | yes, 0 |" in text
