"""A CA3 memory embedded in a larger PyNN network: on_build, connect_in, connect_out."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from neuromem.ca3 import CA3Memory
from neuromem.ca3.embed import connect_in, connect_out


@pytest.mark.brian2
def test_callers_cells_drive_and_read_the_memory_on_pynn_brian2(pynn_brian2, caller_network):
    """The caller's spike source gives cue 0 at 2 ms; the caller's cells read the content
    output: the preloaded pattern (bits 0, 1, 8, 9), and only it. pyNN.brian2 takes one
    more step per synaptic hop than the board, hence the late times."""
    builds = []

    def wire(sim, pops):
        builds.append(sorted(pops))
        caller_network.wire(sim, pops)

    mem = CA3Memory(5, 10, backend=pynn_brian2, weights=caller_network.weights, on_build=wire)
    mem.sim.run(20.0)
    assert len(builds) == 1 and "OUTcont" in builds[0]
    assert caller_network.fired() == [0, 1, 8, 9]
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
