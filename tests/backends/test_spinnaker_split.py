"""Memories beyond sPyNNaker's longest plastic row (254 synapses) map on a virtual board: the
populations are cut into slices (neuromem.spiking.split), read back under their own labels."""

from __future__ import annotations

import json

import pytest

from neuromem.ca3.network import POPULATIONS, build_network
from neuromem.cli import main
from neuromem.spiking import create


def test_spinnaker_refuses_slices_beyond_its_row_limit():
    with pytest.raises(ValueError, match="slice_size: pynn:spiNNaker maps rows of at most 254"):
        create(build_network(5, 10), "pynn:spiNNaker", slice_size=255)


@pytest.mark.spinnaker
@pytest.mark.slow
def test_cli_check_maps_a_memory_beyond_one_row(pynn_spinnaker, capsys):
    """c = n = 300 (one plastic row would hold 300 synapses): mapped as slices of 150."""
    assert main(["hardware", "check", "--cues", "300", "--content", "300", "--json"]) == 0
    out = capsys.readouterr().out
    m = json.loads(out.strip().splitlines()[-1])["mapping"]
    assert "split: populations of more than 254 neurons" in out
    assert m["n_cues"] == m["n_content"] == 300 and m["slice_size"] == 254
    # cores counted under the memory's own labels, every population placed
    assert set(m["cores_per_population"]) == set(POPULATIONS)
    assert all(v >= 1 for v in m["cores_per_population"].values())
    assert m["slices"]["CA3contCueRecall"] == 2 and m["slices"]["CA3contCondInt"] == 1
    assert m["cores_per_population"]["CA3contCueRecall"] >= 2
    assert m["cores"] == sum(m["cores_per_population"].values()) and m["chips"] >= 1


@pytest.mark.spinnaker
def test_sliced_memory_embedded_in_a_callers_network_maps(pynn_spinnaker):
    """A sliced memory wired to the caller's populations (one list projection per slice:
    sPyNNaker 7.4.1's one-to-one connector fails on population views) maps and places."""
    from neuromem.ca3 import CA3Memory, connect_in, connect_out

    made = {}

    def wire(sim, pops):
        cues = sim.Population(5, sim.SpikeSourceArray(spike_times=[[2.0], [], [], [], []]))
        reader = sim.Population(10, sim.IF_curr_exp())
        made["in"] = connect_in(sim, pops, cues, "cue")
        made["out"] = connect_out(sim, pops, reader, "content")

    mem = CA3Memory(5, 10, backend="pynn:spiNNaker", on_build=wire, slice_size=4)
    mem.sim.run(10.0)
    m = mem.sim.mapping()
    mem.sim.end()
    assert [len(made["in"]), len(made["out"])] == [2, 3]
    assert m["slices"]["OUTcont"] == 3 and m["cores_per_population"]["OUTcont"] == 3
    assert set(m["cores_per_population"]) == set(POPULATIONS)
