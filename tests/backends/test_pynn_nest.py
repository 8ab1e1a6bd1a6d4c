"""pyNN.nest (NEST 3.10 from the package index): inputs offset so that none is refused or
dropped, and what the CA3 memory answers on it today (skipped when NEST is not installed)."""

from __future__ import annotations

import numpy as np
import pytest

from neuromem.ca3 import CA3Memory
from neuromem.ca3.schedule import expected_answers
from neuromem.experiments.ca3 import FUNCTIONAL_SCENARIO
from neuromem.spiking import (
    IF_curr_exp,
    Network,
    OneToOneConnector,
    SpikeSourceArray,
    StaticSynapse,
    run,
)


@pytest.fixture
def pynn_nest():
    """The name ``"pynn:nest"``, or a skip with the reason when pyNN.nest is not usable."""
    from neuromem.spiking.backends import probe

    st = probe("pynn:nest")
    if not st.available:
        pytest.skip(f"pynn:nest not usable here: {st.reason}")
    return "pynn:nest"


def test_inputs_at_0_and_1_ms_arrive_as_on_the_board(pynn_nest):
    """pyNN.nest hands a spike at t to NEST at t - 1 ms; NEST refused 0 ms (input at 1 ms)
    and dropped -1 ms (input at 0 ms). With the 2-step input offset both arrive, read back
    at their own times, and drive their cells one step later, as on the board."""
    net = Network(dt=1.0)
    src = net.population(2, SpikeSourceArray([[0.0, 5.0], [1.0]]), "src")
    cell = net.population(2, IF_curr_exp(cm=0.27, tau_m=3.0, tau_syn_E=0.3), "cell")
    net.projection(src, cell, OneToOneConnector(), StaticSynapse(20.0, 1.0))
    res = run(net, 10.0, backend=pynn_nest)
    t, i = res.spikes("src")
    assert t.tolist() == [0.0, 1.0, 5.0] and i.tolist() == [0, 1, 0]
    t, i = res.spikes("cell")
    assert t.tolist() == [1.0, 2.0, 6.0] and i.tolist() == [0, 1, 0]  # as numba (the board)


def test_ca3_functional_on_nest_today(pynn_nest):
    """The recorded scenario in one schedule with one step of read lag: 6 of 9 right. The
    learns and the first recalls are; the recall of fragment {0, 4} misses cue 0, and after
    re-learning cue 3 its new pattern is not recalled and its old bit 6 is not forgotten
    (NEST's online stdp_synapse is not sPyNNaker's deferred rule)."""
    ops = []
    for k, (kind, cue, bits) in enumerate(FUNCTIONAL_SCENARIO):
        content = None if bits is None else np.isin(np.arange(10), bits)
        ops.append((10 * k, kind, cue, content))
    mem = CA3Memory(5, 10, backend=pynn_nest, read_lag=1)
    done = mem.run_schedule(ops)
    assert [int(ok) for _, _, ok in expected_answers(done)] == [1, 1, 1, 1, 1, 0, 1, 0, 0]
    assert done[5].cues == [3] and done[8].cues == [3, 4]
