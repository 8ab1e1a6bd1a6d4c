"""Recording the membrane potential ``v`` on every backend, and Neo output laid out as PyNN's.

PyNN 0.13 (``pyNN/recording/__init__.py``) returns one Block per population (annotated with
``size``, ``first_id``, ``last_id``, ``simulator``, ``dt``, ...), one Segment per run, spike
trains made by ``SpikeTrainList.from_spike_time_array`` with ``source_population``,
``source_index`` and ``channel_id``, and ``v`` as an AnalogSignal in mV sampled every ``dt``.
"""

from __future__ import annotations

import numpy as np
import pytest

from neuromem.spiking import (
    AdditiveWeightDependence,
    AllToAllConnector,
    IF_curr_exp,
    Network,
    OneToOneConnector,
    Population,
    SpikePairRule,
    SpikeSourceArray,
    StaticSynapse,
    STDPMechanism,
    run,
)

CELL = IF_curr_exp(
    cm=0.25, tau_m=10.0, tau_syn_E=2.0, tau_syn_I=2.0, v_rest=-65.0, v_reset=-70.0,
    v_thresh=-55.0, tau_refrac=2.0, v_init=-60.0,
)  # fmt: skip


def _net(record=("spikes", "v")) -> Network:
    """Two sources driving two cells one to one, the cells coupled by plastic synapses:
    subthreshold dynamics, spikes (3), resets, refractory periods, STDP."""
    net = Network(dt=1.0)
    src = net.population(2, SpikeSourceArray([[2, 3, 4, 12, 13, 20], [5, 30]]), "in")
    cells = net.population(2, CELL, "cells", record=record)
    net.projection(src, cells, OneToOneConnector(), StaticSynapse(weight=1.2, delay=1.0))
    net.projection(
        cells,
        cells,
        AllToAllConnector(allow_self_connections=False),
        STDPMechanism(SpikePairRule(5.0, 5.0, 0.1, 0.1), AdditiveWeightDependence(0.0, 1.0),
                      weight=0.5, delay=1.0),
    )  # fmt: skip
    return net


DURATION = 40.0


def test_record_is_validated():
    with pytest.raises(ValueError, match="unknown variable 'gsyn'"):
        Population(1, IF_curr_exp(), "a", record=("spikes", "gsyn"))
    with pytest.raises(ValueError, match="spike source 's' has no membrane potential"):
        Population(1, SpikeSourceArray([[0.0]]), "s", record=("v",))
    p = Population(2, IF_curr_exp(), "a")
    p.set_record(["spikes", "v", "v"])
    assert p.record == ("spikes", "v")
    with pytest.raises(TypeError, match="record must be a sequence"):
        p.set_record(3)


def test_v_is_the_state_at_the_start_of_each_step():
    """Row 0 is ``v_init``; the row after a spike is ``v_reset``, held through the refractory
    period; no recorded value reaches the threshold; no v where it was not recorded."""
    res = run(_net(), DURATION, backend="numba")
    v = res.v("cells")
    assert v.shape == (int(DURATION), 2)
    assert np.all(v[0] == CELL.initial_v)
    t, i = res.spikes("cells")
    assert set(i.tolist()) == {0, 1}
    for ts, k in zip(t.astype(int), i):
        # reset at the spike's step, then held for ceil(tau_refrac / dt) = 2 steps
        assert np.all(v[ts + 1 : ts + 4, k] == CELL.v_reset)
        assert v[ts + 4, k] > CELL.v_reset
        assert v[ts, k] < CELL.v_thresh  # recorded before the step that crossed
    assert np.all(v < CELL.v_thresh)  # crossings are reset within their own step
    assert np.all(np.ptp(v, axis=0) > 5.0)  # subthreshold dynamics, not a constant
    with pytest.raises(ValueError, match="no membrane potential of 'in'"):
        res.v("in")
    res2 = run(_net(record=("spikes",)), DURATION, backend="numba")
    assert res2.v_labels == []


def test_numba_and_brian2_agree_on_v():
    """The Brian2 backend performs the reference's operations in the same order on float64
    (see brian2_sim): where they agree on spikes they must agree on v to rounding. The only
    difference in the arithmetic, Brian2 flushing synaptic currents below 1e-30 nA to 0,
    moves v by less than 1e-30 nA * tau_m / cm = 4e-29 mV per step, so 1e-12 mV bounds any
    honest difference and catches a step shifted by one (differences of 0.1 mV and more)."""
    pytest.importorskip("brian2")
    a = run(_net(), DURATION, backend="numba")
    b = run(_net(), DURATION, backend="brian2")
    for lab in ("in", "cells"):
        assert all(np.array_equal(x, y) for x, y in zip(a.spikes(lab), b.spikes(lab)))
    assert b.v("cells").shape == a.v("cells").shape
    np.testing.assert_allclose(b.v("cells"), a.v("cells"), rtol=0, atol=1e-12)
    shifted = np.abs(np.diff(a.v("cells"), axis=0)).max()
    assert shifted > 0.1  # a one-step shift would exceed the tolerance by far


def test_v_on_every_backend(backend):
    """Every backend that runs returns v sampled every dt from 0 (the simulator's own
    integration: exact on the Numba-like backends, close elsewhere), in a Neo AnalogSignal in
    mV with the time step as sampling period."""
    pytest.importorskip("neo")
    import quantities as pq

    from neuromem.spiking.backends.pynn_sim import QUIRKS

    res = run(_net(), DURATION, backend=backend)
    v = res.v("cells")
    assert v.shape == (int(DURATION), 2)
    assert np.isfinite(v).mean() > 0.9
    # pynn:nest runs the description `input_offset` steps late (QUIRKS): its cells start from
    # v_init that many steps before the description's time 0, so row 0 has decayed already
    offset = QUIRKS[backend[5:]].input_offset if backend.startswith("pynn:") else 0
    if offset == 0:
        assert v[0, 0] == pytest.approx(CELL.initial_v, abs=1e-6)
    else:
        assert CELL.v_rest <= v[0, 0] <= CELL.initial_v
    assert np.nanmax(v) < CELL.v_thresh + 1e-6
    assert np.nanmin(v) > CELL.v_reset - 5.0
    sig = res.to_neo("cells").segments[0].analogsignals[0]
    assert sig.name == "v" and sig.units == pq.mV and sig.shape == v.shape
    assert sig.sampling_period == 1.0 * pq.ms and sig.t_start == 0.0 * pq.ms
    assert list(sig.array_annotations["channel_index"]) == [0, 1]


def test_neo_layout_follows_pynn():
    neo = pytest.importorskip("neo")
    import quantities as pq

    res = run(_net(), DURATION, backend="numba")
    blocks = res.to_neo()
    assert list(blocks) == ["in", "cells"]
    block = blocks["cells"]
    assert isinstance(block, neo.Block) and block.name == "cells"
    ann = block.annotations
    assert (ann["size"], ann["first_index"], ann["last_index"]) == (2, 0, 2)
    assert (ann["first_id"], ann["last_id"]) == (2, 3)  # after the 2 sources
    assert ann["simulator"] == "numba" and ann["dt"] == 1.0 and ann["mpi_processes"] == 1
    assert len(block.segments) == 1
    seg = block.segments[0]
    trains = seg.spiketrains
    assert type(trains).__name__ == "SpikeTrainList"
    assert trains._items is None  # lazy: no SpikeTrain made yet
    assert len(trains) == 2
    t, i = res.spikes("cells")
    for k, st in enumerate(trains):
        assert st.annotations["source_population"] == "cells"
        assert st.annotations["source_index"] == k
        assert st.annotations["channel_id"] == 2 + k
        assert st.t_start == 0 * pq.ms and st.t_stop == DURATION * pq.ms
        np.testing.assert_array_equal(st.rescale("ms").magnitude, t[i == k])
    assert [a.name for a in seg.analogsignals] == ["v"]
    src = blocks["in"].segments[0]
    assert len(src.analogsignals) == 0 and len(src.spiketrains) == 2
    with pytest.raises(ValueError, match="no recorded population"):
        res.to_neo("nope")


def test_lazy_conversion_of_many_neurons_is_fast():
    """10 000 neurons: the Block is made without building a SpikeTrain per neuron (the eager
    conversion took 3.6 s for 11 001 neurons, the lazy one 0.006 s: bench_ca3.py --neo)."""
    pytest.importorskip("neo")
    import time

    from neuromem.spiking import SimulationResult

    n, rng = 10_000, np.random.default_rng(0)
    t = np.sort(rng.integers(0, 1000, 50_000)).astype(float)
    i = rng.integers(0, n, len(t))
    res = SimulationResult({"p": (t, i)}, {"p": n}, {}, 1000.0, "numba", dt=1.0)
    t0 = time.perf_counter()
    block = res.to_neo("p")
    assert time.perf_counter() - t0 < 1.0
    trains = block.segments[0].spiketrains
    assert trains._items is None and len(trains) == n
    st = trains[123]
    np.testing.assert_array_equal(st.magnitude, t[i == 123])


def test_v_of_a_sliced_network_is_joined():
    """A network cut into slices (neuromem.spiking.split) returns v under the original
    labels, slices joined along the neurons: the unsliced network's values."""
    whole = run(_net(), DURATION, backend="numba")
    sliced = run(_net(), DURATION, backend="numba", slice_size=1)
    assert sliced.v_labels == ["cells"]
    np.testing.assert_array_equal(sliced.v("cells"), whole.v("cells"))
