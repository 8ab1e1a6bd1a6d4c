"""``memory-compare`` on a tiny config: every memory, every metric aligned, the figures."""

from __future__ import annotations

import json

import pytest

from neuromem import experiments
from neuromem.errors import ConfigError

TINY = {
    "n_synapses": 2048,
    "item_size": 32,
    "item_active": 4,
    "loads": [2, 4, 8, 16],
    "n_probe": 6,
    "noise_levels": [0.0, 0.1, 0.3],
    "similarities": [0.0, 0.75],
    "interference_probes": 3,
    "lures_per_probe": 2,
    "forget_items": 8,
    "forget_blocks": 2,
    "similarity_pairs": 3,
}
ALL = ["sparsey", "ca3", "tensorbrain", "pmi", "willshaw", "sdm", "sparsey-no-csa", "pmi-no-ltm"]


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("mc")
    return experiments.run("memory-compare", out=out, seed=0, overrides=TINY), out


def test_memory_compare_reports_all_six_memories_with_aligned_metrics(tiny_run):
    """The six memories, then the two ablations, every list aligned with ``models``."""
    result, out = tiny_run
    m = result["metrics"]
    assert m["models"] == ALL
    for key in (
        "capacity_at_95",
        "noisy_recall_10",
        "noisy_recall_30",
        "stored_vs_novel_auc",
        "null_capacity_at_95",
        "null_noisy_recall_10",
        "null_stored_vs_novel_auc",
        "size_bits",
        "forget_auc",
    ):
        assert len(m[key]) == len(ALL), key
    assert all(c in [0] + TINY["loads"] for c in m["capacity_at_95"])
    assert all(0.0 <= v <= 1.0 for v in m["noisy_recall_10"] + m["stored_vs_novel_auc"])
    # the nulls: no storage recalls nothing and its constant confidence gives AUC 0.5
    assert m["null_capacity_at_95"] == [0] * len(ALL)
    assert m["null_stored_vs_novel_auc"] == [0.5] * len(ALL)
    # Willshaw holds items of 4 bits in a 2048-synapse matrix; its confidence knows them
    w = ALL.index("willshaw")
    # (by key: 16 at seeds 0-2; from partial cues of 4 bits, one dropped, 4 to 16 by seed)
    assert m["capacity_at_95_key"][w] >= 8 and m["stored_vs_novel_auc"][w] > 0.9
    assert m["capacity_at_95"][w] >= 2
    # only CA3 forgets
    assert m["can_forget"] == [name == "ca3" for name in ALL]
    assert m["forget_auc"][ALL.index("ca3")] is not None
    saved = json.loads((out / "result.json").read_text())
    assert saved["metrics"]["models"] == ALL


def test_the_ablation_without_code_selection_loses_similarity_preservation(tiny_run):
    """chi = 0 draws every code at random: input similarity no longer reaches the code, which
    only a working CSA gives (Spearman well above the ablation's, MAD well below)."""
    m = tiny_run[0]["metrics"]
    assert m["sparsey_similarity_spearman"] > m["sparsey_no_csa_similarity_spearman"] + 0.3
    assert m["sparsey_similarity_mad"] < m["sparsey_no_csa_similarity_mad"]


def test_memory_compare_writes_one_figure_per_measure(tiny_run):
    result, out = tiny_run
    want = {"capacity", "noisy_recall", "interference", "forgetting", "similarity"}
    assert {f.removesuffix(".png") for f in result["figures"]} == want
    for f in result["figures"]:
        assert (out / f).stat().st_size > 5000


def test_memory_compare_is_registered_for_the_demo():
    exp = experiments.get("memory-compare")
    assert exp.demo


@pytest.mark.parametrize(
    "override",
    [
        {"models": ["willshaw", "hopfield"]},
        {"noise_levels": [0.0, 0.2]},
        {"loads": [4, 2]},
        {"item_active": 0},
        {"n_synapses": 100},
    ],
)
def test_memory_compare_bad_config(override):
    with pytest.raises(ConfigError):
        experiments.run("memory-compare", overrides={**TINY, **override})
