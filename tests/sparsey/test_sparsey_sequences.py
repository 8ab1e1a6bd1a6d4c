"""sparsey-sequences: shared-frame sequences that only a working sequence memory recognises."""

from __future__ import annotations

import pytest

from neuromem import experiments
from neuromem.errors import ConfigError


@pytest.fixture(scope="module")
def small_run():
    return experiments.run("sparsey-sequences", n_sequences=20, length=7, seed=5)["metrics"]


def test_shared_frame_sequences_need_H(small_run):
    m = small_run
    assert m["accuracy"] >= 0.95
    assert m["accuracy_no_h"] <= m["accuracy"] - 0.3
    assert m["accuracy_no_h"] <= m["chance_from_last_frame"] + 0.1


def test_variants_are_recognised_and_need_backoff(small_run):
    m = small_run
    for name in ("mid_start", "dropped_frame", "repeated_frame", "time_warp"):
        assert m[f"accuracy_{name}"] >= 0.8, name
    # without backoff the gap of a dropped frame and a held frame break the H chain
    assert m["accuracy_dropped_frame_no_backoff"] <= m["accuracy_dropped_frame"] - 0.3
    assert m["accuracy_time_warp_no_backoff"] <= m["accuracy_time_warp"] - 0.3
    # holding the code is what carries a time-warped sequence
    assert m["accuracy_time_warp_no_hold"] <= m["accuracy_time_warp"] - 0.3


def test_prefix_completion_in_recall_mode(small_run):
    m = small_run
    assert m["prefix_completion"] >= 0.9
    assert m["prefix_completion_no_h"] == 0.0  # nothing drives a frame with no input


def test_fresh_frames_variant_runs():
    m = experiments.run("sparsey-sequences", n_sequences=8, length=4, n_symbols=0, seed=1)
    m = m["metrics"]
    assert m["accuracy"] == 1.0 and m["chance_from_last_frame"] == 1.0


@pytest.mark.parametrize(
    "kw,match",
    [
        ({"length": 3}, "length"),
        ({"n_symbols": 1}, "n_symbols"),
        ({"noise": 1.0}, "noise"),
        ({"prefix": 8}, "prefix"),
        ({"n_symbols": 2, "length": 4, "n_sequences": 17}, "n_symbols"),
    ],
)
def test_bad_settings(kw, match):
    with pytest.raises(ConfigError, match=match):
        experiments.run("sparsey-sequences", **kw)
