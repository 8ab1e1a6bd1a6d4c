"""``benchmarks/probe_pmi_babi.py``: validation curves and escape steps on a tiny made-up task."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("torch")

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "probe_pmi_babi.py"
TINY = ["--set", "dim=16", "--set", "n_layers=1", "--set", "ffn_dim=16", "--set", "key_dim=4",
        "--set", "n_slots=4", "--set", "topk_write=2", "--set", "topk_read=2",
        "--set", "batch_size=8"]  # fmt: skip


def _load():
    spec = importlib.util.spec_from_file_location("probe_pmi_babi", SCRIPT)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _task1_file(path, n_stories, rng):
    people, places = ["Mary", "John", "Sandra"], ["kitchen", "garden", "office", "hallway"]
    lines = []
    for _ in range(n_stories):
        where, k = {}, 1
        for _ in range(4):
            p, q = rng.choice(people), rng.choice(places)
            where[p] = q
            lines.append(f"{k} {p} went to the {q}.")
            k += 1
        p = rng.choice(sorted(where))
        lines.append(f"{k} Where is {p}? \t{where[p]}\t1")
    path.write_text("\n".join(lines) + "\n")


@pytest.fixture
def folder(tmp_path):
    rng = np.random.default_rng(0)
    d = tmp_path / "babi" / "en-valid-10k"
    d.mkdir(parents=True)
    _task1_file(d / "qa1_train.txt", 60, rng)
    _task1_file(d / "qa1_valid.txt", 20, rng)
    _task1_file(d / "qa3_valid.txt", 30, rng)  # no train file: trains on 80% of valid
    return tmp_path


def test_probe_writes_curves_and_escape_steps(folder, tmp_path):
    mod = _load()
    out = tmp_path / "probe.json"
    args = ["--data", str(folder), "--tasks", "1", "3", "--seeds", "0", "1", "--steps", "6",
            "--eval-every", "3", "--threshold", "0.0", "--out", str(out), *TINY]  # fmt: skip
    assert mod.main(args) == 0
    res = json.loads(out.read_text())
    assert res["n_train"] == 60 + 24 and res["n_val"] == 20 + 6
    assert len(res["runs"]) == 4  # 2 seeds x 2 models
    for r in res["runs"]:
        assert [c["step"] for c in r["curve"]] == [3, 6]
        for c in r["curve"]:
            assert len(c["per_task"]) == 2 and all(0.0 <= a <= 1.0 for a in c["per_task"])
            assert c["mean"] == pytest.approx(np.mean(c["per_task"]))
        assert r["escape_step"] == 3  # threshold 0: reached at the first evaluation
        assert r["train_seconds"] > 0
    assert res["summary"]["pmi"] == {
        "escaped": 2,
        "runs": 2,
        "escape_steps": [3, 3],
        "final_mean": pytest.approx(np.mean([r["final_mean"] for r in res["runs"][::2]])),
    }
    # an unreachable threshold: no escape recorded; the same seed gives the same curve
    out2 = tmp_path / "probe2.json"
    args2 = ["--data", str(folder), "--tasks", "1", "3", "--seeds", "0", "--models", "pmi",
             "--steps", "6", "--eval-every", "3", "--threshold", "1.01", "--out", str(out2),
             *TINY]  # fmt: skip
    assert mod.main(args2) == 0
    r2 = json.loads(out2.read_text())["runs"][0]
    assert r2["escape_step"] is None
    assert r2["curve"] == res["runs"][0]["curve"]


def test_probe_refuses_bad_arguments(folder, tmp_path, capsys):
    mod = _load()
    assert mod.main(["--data", str(tmp_path / "none")]) == 2
    assert "probe_pmi_babi: --data folder: not found" in capsys.readouterr().err
    (tmp_path / "empty").mkdir()
    assert mod.main(["--data", str(tmp_path / "empty")]) == 2
    err = capsys.readouterr().err
    assert "no babi/en-valid-10k in" in err and "neuromem data fetch babi" in err, err
    with pytest.raises(SystemExit):
        mod.main(["--data", str(folder), "--set", "bogus=1"])
    assert "bogus" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        mod.main(["--data", str(folder), "--steps", "0"])
