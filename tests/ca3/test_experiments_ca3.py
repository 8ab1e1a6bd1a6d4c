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
    with pytest.raises(ConfigError, match=r"spacing must lie in \[11, .*read_lag=4"):
        run("ca3-functional", read_lag=4)
    with pytest.raises(ConfigError, match="read_lag must lie in"):
        run("ca3-functional", read_lag=-1)


def test_statemap_paper_preset_answers_every_query_as_the_board(tmp_path):
    """The authors' map and queries: every query right, the pair of back-to-back learns
    sharing flag 4 (cells 13, 14) included, as the board answered."""
    r = run("ca3-statemap", out=tmp_path, config_file="ca3-statemap-paper")
    m = r["metrics"]
    assert m["query_flags"] == [[1, 2, 4], [3], [5], [0]]
    assert m["flag_query_ok"] == [1, 1, 1, 1] and m["flag_query_accuracy"] == 1.0
    assert m["query_cells_answered"] == [[2, 6, 10, 12, 13, 14], [3, 5, 11, 15], [1, 7, 9],
                                         [0, 4, 8]]  # fmt: skip
    assert m["adjacent_same_flag_pair_cells"] == [[13, 14]] and m["cells_lost"] == 0
    assert m["cell_query_accuracy"] is None and m["simulated_ms"] == 137
    assert m["total_spikes"] == 504  # as many as the board recorded in the same run


def test_statemap_counts_cells_lost_and_adjacent_same_flag_pairs(tmp_path):
    """A model-only prediction: flag 4 alone loses cell 13 (learned just before cell 14, which
    shares flag 4); a random map loses one cell per back-to-back pair sharing a flag, and 3
    ms more between operations loses none."""
    paper = [[0, 5, 1, 3], [0, 3, 4, 5], [0, 5, 4, 3], [2, 4, 4, 3]]
    m = run("ca3-statemap", out=tmp_path, map=paper, queries=[[4], [1, 2, 4]],
            cell_queries=False)["metrics"]  # fmt: skip
    assert m["cells_lost_per_query"] == [1, 0] and m["lost_cells"] == [13]
    m = run("ca3-statemap", out=tmp_path, seed=0)["metrics"]
    assert m["adjacent_same_flag_pairs"] == 5 and m["cells_lost"] == 5
    assert m["lost_cells"] == [a for a, _ in m["adjacent_same_flag_pair_cells"]]
    assert m["cell_query_accuracy"] == 1.0 and m["flag_query_accuracy"] == 0.5
    m = run("ca3-statemap", out=tmp_path, seed=0, gap=3)["metrics"]
    assert m["adjacent_same_flag_pairs"] == 5 and m["cells_lost"] == 0


@pytest.mark.parametrize(
    "overrides, match",
    [
        ({"map": [[0, 1], [2, 3]]}, "map: expected 4 rows of 4 flags"),
        ({"map": [[0, 5, 1, 3]] * 3 + [[2, 4, 4, 6]]}, "map: row 3 names flag 6"),
        ({"map": [[0] * 4] * 4, "flags_per_cell": 2}, "flags_per_cell"),
        ({"queries": [[1], []]}, r"queries\[1\]: a query needs at least one flag"),
        ({"queries": [[1, 1]]}, r"queries\[0\]: expected distinct flags"),
        ({"queries": [[6]]}, r"queries\[0\]: expected distinct flags"),
    ],
)
def test_statemap_bad_map_or_queries(overrides, match):
    with pytest.raises(ConfigError, match=match):
        run("ca3-statemap", **overrides)
