"""The registered CA3 experiments run and report their metrics."""

from __future__ import annotations

import pytest

from neuromem.errors import ConfigError
from neuromem.experiments import run


def test_functional(tmp_path):
    r = run("ca3-functional", out=tmp_path)
    m = r["metrics"]
    assert m["n_operations"] == 9
    assert m["operation_ok"] == [1] * 9
    assert m["total_spikes"] == 322  # as many as the board recorded
    assert (tmp_path / "raster.png").is_file()


def test_capacity_small(tmp_path):
    r = run("ca3-capacity", out=tmp_path, n_cues=4, n_content=8, active=2, loads=[1, 2, 4])
    m = r["metrics"]
    assert m["orthogonal_n_stored"] == [1, 2, 4]
    assert m["orthogonal_cue_recall_accuracy"][0] == 1.0
    assert len(m["cue_recall_accuracy"]) == len(m["n_stored"])
    assert all(0.0 <= x <= 1.0 for x in m["overlapping_content_recall_accuracy"])


def test_bad_config():
    with pytest.raises(ConfigError):
        run("ca3-capacity", loads=[0])
    with pytest.raises(ConfigError):
        run("ca3-functional", spacing=3)
