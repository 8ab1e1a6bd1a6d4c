"""A CA3 memory embedded in a larger PyNN network: on_build, connect_in, connect_out."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from neuromem.ca3 import CA3Memory
from neuromem.ca3.embed import connect_in, connect_out


def _preloaded():
    w1, w2 = np.zeros((5, 10)), np.zeros((10, 5))
    w1[0, [0, 1, 8, 9]] = 6.0
    w2[[0, 1, 8, 9], 0] = 6.0
    return {"cue_to_content": w1, "content_to_cue": w2}


@pytest.mark.brian2
def test_callers_cells_drive_and_read_the_memory_on_pynn_brian2(pynn_brian2):
    """The caller's spike source gives cue 0 at 2 ms; the caller's cells read the content
    output: the preloaded pattern (bits 0, 1, 8, 9), and only it. pyNN.brian2 takes one
    more step per synaptic hop than the board, hence the late times."""
    mine, builds = {}, []

    def wire(sim, pops):
        builds.append(sorted(pops))
        src = sim.Population(5, sim.SpikeSourceArray(spike_times=[[2.0], [], [], [], []]))
        reader = sim.Population(10, sim.IF_curr_exp(cm=0.27, tau_m=3.0, tau_syn_E=0.3,
                                                    v_rest=-60.0, v_reset=-60.0,
                                                    v_thresh=-57.0))  # fmt: skip
        reader.initialize(v=-60.0)
        reader.record("spikes")
        mine["in"] = connect_in(sim, pops, src, "cue")
        mine["out"] = connect_out(sim, pops, reader, "content")
        mine["reader"] = reader

    mem = CA3Memory(5, 10, backend=pynn_brian2, weights=_preloaded(), on_build=wire)
    mem.sim.run(20.0)
    assert len(builds) == 1 and "OUTcont" in builds[0]
    seg = mine["reader"].get_data("spikes").segments[-1]
    fired = sorted(int(st.annotations["source_index"]) for st in seg.spiketrains if len(st))
    assert fired == [0, 1, 8, 9]
    assert sorted(set(mem.spikes("OUTcont")[1].tolist())) == [0, 1, 8, 9]
    assert set(mem.spikes("OUTcue")[1].tolist()) == {0}
    assert len(mem.spikes("INcue")[0]) == 0  # the cue came from the caller's population
    with pytest.raises(ValueError, match="cannot be saved"):
        mem.save("unused")  # a hook is not data


class _Pop(SimpleNamespace):
    pass


def test_connect_in_and_out_check_their_arguments():
    calls = []
    fake = SimpleNamespace(
        Projection=lambda *a, **k: calls.append((a, k)) or "projection",
        OneToOneConnector=lambda: "one-to-one",
        StaticSynapse=lambda **k: ("static", k),
    )
    pops = {"CA3cueCueRecall": _Pop(size=5), "CA3contCueRecall": _Pop(size=10),
            "OUTcue": _Pop(size=5), "OUTcont": _Pop(size=10)}  # fmt: skip
    assert connect_in(fake, pops, _Pop(size=10), "content", weight=3) == "projection"
    ((a, k),) = calls
    assert a[1] is pops["CA3contCueRecall"] and a[3] == ("static", {"weight": 3.0, "delay": 1.0})
    assert k == {"receptor_type": "excitatory", "label": "connect_in:content"}
    connect_out(fake, pops, _Pop(size=5), "cue")
    assert calls[-1][0][0] is pops["OUTcue"]
    with pytest.raises(ValueError, match="part must be one of cue, content"):
        connect_in(fake, pops, _Pop(size=5), "both")
    with pytest.raises(ValueError, match=r"connect_in\('cue'\): sizes differ \(4 and 5\)"):
        connect_in(fake, pops, _Pop(size=4), "cue")
    with pytest.raises(ValueError, match="missing 'OUTcont'"):
        connect_out(fake, {"OUTcue": pops["OUTcue"]}, _Pop(size=10), "content")
    with pytest.raises(ValueError, match="weight must be > 0"):
        connect_in(fake, pops, _Pop(size=5), "cue", weight=0)
    with pytest.raises(TypeError, match="delay must be a finite number"):
        connect_out(fake, pops, _Pop(size=5), "cue", delay=float("nan"))
    assert len(calls) == 2  # nothing built by a refused call


def test_on_build_must_be_callable():
    from neuromem.ca3.network import build_network
    from neuromem.spiking.backends.pynn_sim import PyNNSimulator

    with pytest.raises(TypeError, match="on_build must be callable"):
        PyNNSimulator(build_network(2, 2), "brian2", on_build="wire")
