"""``benchmarks/profile_numba_step.py`` instruments the kernel it profiles without changing it.

The script patches a copy of the Numba kernel's source at fixed anchors; this test fails when
the kernel changes so that an anchor is lost, and checks that the instrumented copy gives the
plain kernel's spikes and weights and counts what it should.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "profile_numba_step.py"


def _load():
    spec = importlib.util.spec_from_file_location("profile_numba_step", SCRIPT)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_profile_of_a_small_memory(tmp_path):
    mod = _load()
    out = tmp_path / "p.json"
    assert mod.main(["--cues", "5", "--content", "10", "--ms", "300", "--repeat", "1",
                     "--out", str(out)]) == 0  # fmt: skip
    res = json.loads(out.read_text())
    assert res["same_spikes_and_weights"] is True
    cyc = res["cycles_per_step"]
    assert set(cyc) == set(mod.PARTS)
    # every step updates the neurons; a memory that learns delivers plastic rows
    assert cyc["neuron_update"] > 0
    cnt = res["counts_per_step"]
    assert cnt["plastic_rows"] > 0 and cnt["static_rows"] > 0 and cnt["neuron_spikes"] > 0
    assert cnt["depression_passes"] <= cnt["plastic_rows"]
    assert res["counter_hz"] > 1e8


def test_lost_anchor_is_reported(monkeypatch):
    mod = _load()
    monkeypatch.setattr(mod, "_EDITS", mod._EDITS + (("no such line in the kernel\n", ""),))
    with pytest.raises(RuntimeError, match="the kernel changed"):
        mod.instrumented_module()
