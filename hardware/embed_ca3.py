"""Embed the CA3 memory in a larger PyNN network (any ``pynn:*`` backend).

The caller's network here: a spike source giving cue 0 at 2 ms (it could be any population
of 5 neurons, e.g. the last layer of a sensory network) and 10 reader cells driven by the
memory's content output. The memory is preloaded with one association (cue 0 <-> bits 0, 1,
8, 9) so that the recall needs no learn. Usage::

    python hardware/embed_ca3.py                           # pyNN.brian2
    python hardware/embed_ca3.py --backend pynn:spiNNaker  # ~/.spynnaker.cfg: board or virtual
    python hardware/embed_ca3.py --backend pynn:nest
"""

from __future__ import annotations

import argparse

import numpy as np

from neuromem.ca3 import CA3Memory, connect_in, connect_out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--backend", default="pynn:brian2", help="a pynn:* backend")
    args = ap.parse_args()

    mine = {}

    def wire(sim, pops):
        """Called by the backend after each build, with the PyNN module and the memory's
        populations: make the caller's populations and wire them to the memory."""
        cues = sim.Population(5, sim.SpikeSourceArray(spike_times=[[2.0], [], [], [], []]),
                              label="my_cues")  # fmt: skip
        reader = sim.Population(10, sim.IF_curr_exp(cm=0.27, tau_m=3.0, tau_syn_E=0.3,
                                                    v_rest=-60.0, v_reset=-60.0,
                                                    v_thresh=-57.0), label="my_reader")  # fmt: skip
        reader.initialize(v=-60.0)
        reader.record("spikes")
        connect_in(sim, pops, cues, "cue")  # my cue spikes act as the memory's INcue
        connect_out(sim, pops, reader, "content")  # OUTcont -> my reader cells
        mine["reader"] = reader

    w1, w2 = np.zeros((5, 10)), np.zeros((10, 5))
    w1[0, [0, 1, 8, 9]] = 6.0
    w2[[0, 1, 8, 9], 0] = 6.0
    mem = CA3Memory(5, 10, backend=args.backend, on_build=wire,
                    weights={"cue_to_content": w1, "content_to_cue": w2})  # fmt: skip
    mem.sim.run(20.0)  # the memory and the caller's network, in one simulation
    seg = mine["reader"].get_data("spikes").segments[-1]
    for st in seg.spiketrains:
        if len(st):
            print(f"reader cell {st.annotations['source_index']}: spikes at {st.magnitude} ms")
    print("memory's OUTcont:", mem.spikes("OUTcont"))
    if hasattr(mem.sim, "end"):
        mem.sim.end()  # sPyNNaker: release the board


if __name__ == "__main__":
    main()
