"""benchmarks/memory_compare_seeds.py: the per-seed runs and their mean and spread."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "memory_compare_seeds.py"
TINY = ["--set", "n_synapses=2048", "--set", "item_size=32", "--set", "item_active=4",
        "--set", "loads=2,4", "--set", "n_probe=4", "--set", "noise_levels=0,0.1,0.3",
        "--set", "similarities=0,0.75", "--set", "interference_probes=2",
        "--set", "lures_per_probe=1", "--set", "forget_items=4", "--set", "forget_blocks=2",
        "--set", "similarity_pairs=2", "--set", "models=willshaw,ca3"]  # fmt: skip


def _load():
    spec = importlib.util.spec_from_file_location("memory_compare_seeds", SCRIPT)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_two_seeds_mean_and_spread(tmp_path, capsys):
    mod = _load()
    out = tmp_path / "s.json"
    assert mod.main(["--seeds", "0", "1", "--out", str(out), *TINY]) == 0
    rep = json.loads(out.read_text())
    runs, s = rep["runs"], rep["summary"]
    assert s["models"] == ["willshaw", "ca3"] and s["n_seeds"] == 2
    for key in ("noisy_recall_30", "stored_vs_novel_auc"):
        vals = np.array([r[key] for r in runs], float)
        assert np.allclose(s[key]["mean"], vals.mean(0))
        assert np.allclose(s[key]["sd"], vals.std(0, ddof=1))
        assert s[key]["min"] == vals.min(0).tolist()
    # forgetting: CA3 only; Willshaw's column is n/a (None), not 0
    assert s["forget_auc"]["mean"][0] is None and s["forget_auc"]["mean"][1] is not None
    assert "| `capacity_at_95` |" in capsys.readouterr().out
    # the seeds are one sweep (experiments.sweep): its runs beside --out, reused when rerun
    for seed, metrics in zip((0, 1), runs):
        res = json.loads((tmp_path / "s_runs/base" / f"seed-{seed}/result.json").read_text())
        assert res["seed"] == seed and res["metrics"] == metrics
    assert mod.main(["--seeds", "0", "1", "--out", str(out), *TINY]) == 0
    assert "seed 1: " in capsys.readouterr().out and json.loads(out.read_text())["runs"] == runs
    assert (tmp_path / "s_runs" / "summary.csv").read_text().count(",skipped,") == 2
