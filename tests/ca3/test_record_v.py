"""CA3Memory(record_v=...): the membrane potential of chosen populations, kept on save/load."""

from __future__ import annotations

import numpy as np
import pytest

from neuromem.ca3 import CA3Memory
from neuromem.ca3.network import INPUTS, POPULATIONS


def test_record_v_all_neuron_populations(tmp_path):
    mem = CA3Memory(3, 6, record_v=True)
    mem.learn(0, [1, 0, 1, 0, 0, 0])
    mem.recall(cue=0)
    res = mem.result()
    assert res.v_labels == [p for p in POPULATIONS if p not in INPUTS]
    steps = int(mem.time)
    v = res.v("OUTcont")
    assert v.shape == (steps, 6)
    assert np.all(v[0] == mem.network.populations["OUTcont"].celltype.initial_v)
    assert np.all(v < mem.params.v_thresh)  # crossings are reset within their step
    assert np.ptp(v) > 0  # the recall moves the output cells
    block = mem.to_neo("OUTcont")
    sig = block.segments[0].analogsignals[0]
    assert sig.name == "v" and sig.shape == (steps, 6)
    loaded = CA3Memory.load(mem.save(tmp_path / "m"))
    assert loaded.record_v == mem.record_v
    np.testing.assert_array_equal(loaded.result().v("OUTcont"), v)


def test_record_v_some_and_none():
    mem = CA3Memory(3, 6, record_v=["OUTcue", "OUTcue"])
    mem.recall(cue=1)
    assert mem.result().v_labels == ["OUTcue"]
    with pytest.raises(ValueError, match="no membrane potential of 'OUTcont'"):
        mem.result().v("OUTcont")
    mem = CA3Memory(3, 6)
    mem.recall(cue=1)
    assert mem.result().v_labels == []
    assert len(mem.to_neo("OUTcue").segments[0].analogsignals) == 0


@pytest.mark.parametrize(
    ("value", "err", "match"),
    [
        (["OUTx"], ValueError, "record_v: unknown population 'OUTx'"),
        (["INcue"], ValueError, "'INcue' is a spike source"),
        ("OUTcue", TypeError, "record_v must be True, False or a list"),
        (3, TypeError, "record_v must be True, False or a list"),
    ],
)
def test_record_v_bad_values(value, err, match):
    with pytest.raises(err, match=match):
        CA3Memory(3, 6, record_v=value)
