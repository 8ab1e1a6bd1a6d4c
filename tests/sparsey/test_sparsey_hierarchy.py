"""sparsey-hierarchy: only a working upper level tells recombined parts from stored wholes."""

from __future__ import annotations

import numpy as np
import pytest

from neuromem import experiments
from neuromem.errors import ConfigError
from neuromem.experiments.sparsey_hierarchy import _bag_of_parts, _recombinations


def test_registered():
    assert "sparsey-hierarchy" in experiments.names()
    assert not experiments.get("sparsey-hierarchy").needs_data


def test_upper_level_tells_recombinations_from_stored_wholes():
    m = experiments.run("sparsey-hierarchy", seed=0)["metrics"]
    # every part of a recombination is familiar: level 1 alone cannot tell (ties: 0.5)
    assert m["auc_stored_vs_recombined_one_level"] == 0.5
    assert m["auc_stored_vs_recombined_two_level_bottom"] == 0.5
    assert m["auc_stored_vs_recombined_null_bag_of_parts"] == 0.5
    # the upper level can, and only when it learned and the parts kept their codes
    assert m["auc_stored_vs_recombined_two_level"] >= 0.9
    assert m["upper_level_gain"] >= 0.4
    assert m["auc_stored_vs_recombined_upper_frozen"] < 0.7
    assert m["auc_stored_vs_recombined_chi0"] < 0.8
    # new parts are unfamiliar to both models
    assert m["auc_stored_vs_novel_one_level"] == 1.0
    assert m["auc_stored_vs_novel_two_level"] == 1.0
    # persistence: a blank frame breaks level 1's chain; the persisting upper code bridges it
    assert m["seq_accuracy_clean_one_level"] == m["seq_accuracy_clean_two_level"] == 1.0
    assert m["seq_accuracy_blank_two_level"] == 1.0
    assert m["seq_accuracy_corrupted_two_level"] >= 0.8
    for cond in ("one_level", "no_persistence", "no_d"):
        assert m[f"seq_accuracy_blank_{cond}"] <= m["seq_chance"] + 0.1
        assert m[f"seq_accuracy_corrupted_{cond}"] <= 0.4


def test_same_seed_same_result():
    a = experiments.run("sparsey-hierarchy", seed=3, n_items=20, n_probes=10)["metrics"]
    b = experiments.run("sparsey-hierarchy", seed=3, n_items=20, n_probes=10)["metrics"]
    assert a == b


def test_recombinations_are_new_wholes_of_stored_parts():
    rng = np.random.default_rng(0)
    stored = np.array([[0, 0, 0], [1, 1, 1], [2, 2, 2]])
    rec = _recombinations(rng, stored, 10)
    assert len({tuple(r) for r in rec}) == 10
    assert not {tuple(r) for r in rec} & {tuple(s) for s in stored}
    assert (_bag_of_parts(stored, rec) == 1.0).all()
    assert _bag_of_parts(stored, np.array([[0, 3, 3]]))[0] == pytest.approx(1 / 3)
    with pytest.raises(ValueError, match="n_probes: only 24 recombinations"):
        _recombinations(rng, stored, 25)


def test_bad_config_names_the_field():
    with pytest.raises(ConfigError, match="n_items"):
        experiments.run("sparsey-hierarchy", n_items=10_000)
    with pytest.raises(ConfigError, match="parts_per_region"):
        experiments.run("sparsey-hierarchy", parts_per_region=1)
    with pytest.raises(ConfigError, match="n_active"):
        experiments.run("sparsey-hierarchy", n_active=256)
    with pytest.raises(ConfigError, match="levels.0"):
        experiments.run("sparsey-hierarchy", overrides={"model.levels.0.rf": [1, 128]})
    with pytest.raises(ConfigError, match="corrupt_frame"):
        experiments.run("sparsey-hierarchy", corrupt_frame=7)
    with pytest.raises(ConfigError, match="n_probes"):
        experiments.run("sparsey-hierarchy", n_items=10, n_probes=20)
    with pytest.raises(ConfigError, match="n_sequences"):
        experiments.run("sparsey-hierarchy", n_sequences=1)
