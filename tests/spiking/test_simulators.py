"""The Numba reference simulator: membrane, synapses, delays, refractoriness, STDP."""

from __future__ import annotations

import math
from dataclasses import asdict

import numpy as np
import pytest

from neuromem.ca3.network import CA3Params
from neuromem.spiking import (
    AdditiveWeightDependence,
    IF_curr_exp,
    Network,
    OneToOneConnector,
    SpikePairRule,
    SpikeSourceArray,
    StaticSynapse,
    STDPMechanism,
    create,
    run,
)

#: The CA3 network's slow cell (cm 0.27 nF, tau_m 3 ms, v_rest -60 mV, v_thresh -57 mV, ...).
CELL = asdict(CA3Params().cell(fast=False))


def _one(times, weight, delay=1.0, receptor="excitatory", **cell):
    net = Network()
    src = net.population(1, SpikeSourceArray([times]), "src")
    cl = net.population(1, IF_curr_exp(**{**CELL, **cell}), "cell")
    net.projection(src, cl, OneToOneConnector(), StaticSynapse(weight, delay), receptor)
    return net


def _v_after_one_input(weight, cell):
    """Membrane potential one step after a single input (closed form, sPyNNaker's rule)."""
    tau_s, tau_m, cm = cell["tau_syn_E"], cell["tau_m"], cell["cm"]
    i = weight * tau_s * (1 - math.exp(-1 / tau_s))
    return (i * tau_m / cm) * (1 - math.exp(-1 / tau_m))


def test_threshold_from_closed_form():
    """A weight just above the closed-form threshold fires, just below does not."""
    w_star = 3.0 / _v_after_one_input(1.0, CELL)
    for w, fires in ((w_star * 1.01, True), (w_star * 0.99, False)):
        res = run(_one([0.0], w), 5.0)
        t, _ = res.spikes("cell")
        assert (len(t) > 0) == fires
        if fires:
            assert t.tolist() == [1.0]  # delay 1: acts at the next step


def test_delay_shifts_spike():
    for d in (1, 2, 5):
        t, _ = run(_one([3.0], 6.0, delay=float(d)), 12.0).spikes("cell")
        assert t.tolist() == [3.0 + d]


def test_refractory_step_skipped():
    """Input on three consecutive steps: spike, refractory step, spike (tau_refrac = 1 ms)."""
    t, _ = run(_one([0.0, 1.0, 2.0], 6.0), 8.0).spikes("cell")
    assert t.tolist() == [1.0, 3.0]
    t, _ = run(_one([0.0, 1.0, 2.0], 6.0, tau_refrac=2.0), 8.0).spikes("cell")
    assert t.tolist() == [1.0]


def test_inhibition_cancels_excitation():
    net = Network()
    src = net.population(1, SpikeSourceArray([[0.0]]), "src")
    cl = net.population(1, IF_curr_exp(**CELL), "cell")
    net.projection(src, cl, OneToOneConnector(), StaticSynapse(6.0, 1.0), "excitatory")
    net.projection(src, cl, OneToOneConnector(), StaticSynapse(6.0, 1.0), "inhibitory")
    assert len(run(net, 5.0).spikes("cell")[0]) == 0


def test_continuing_runs_equal_one_run():
    a = run(_one([0.0, 4.0, 9.0], 6.0), 20.0).spikes("cell")
    sim = create(_one([0.0, 4.0, 9.0], 6.0))
    sim.run(7.0)
    sim.run(13.0)
    b = sim.spikes("cell")
    assert np.array_equal(a[0], b[0])


def test_bad_run_arguments():
    sim = create(_one([0.0], 6.0))
    with pytest.raises(ValueError, match="duration"):
        sim.run(-1.0)
    with pytest.raises(TypeError, match="duration"):
        sim.run("10")
    with pytest.raises(ValueError):
        sim.run(0.5)
    with pytest.raises(ValueError, match="stdp_clip"):
        create(_one([0.0], 6.0), stdp_clip="never")


def _stdp_net(pre_times, post_times, a=1.0, w0=0.0):
    """pre source -> (plastic) -> post cell, post cell forced by a second source."""
    net = Network()
    pre = net.population(1, SpikeSourceArray([pre_times]), "pre")
    drive = net.population(1, SpikeSourceArray([post_times]), "drive")
    post = net.population(1, IF_curr_exp(**CELL), "post")
    net.projection(drive, post, OneToOneConnector(), StaticSynapse(6.0, 1.0))
    syn = STDPMechanism(SpikePairRule(3.0, 3.0, a, a), AdditiveWeightDependence(0.0, 6.0),
                        weight=w0, delay=1.0)  # fmt: skip
    net.projection(pre, post, OneToOneConnector(), syn, label="plastic")
    return net


def test_stdp_potentiation_value_deferred():
    """Pre at 0, post at 4 (drive at 3): the weight changes at the next pre spike (20) by
    A * exp(-(4 + 1 - 0) / tau_plus) (the post seen one delay later), then depressed by the
    same pre spike by A * exp(-(20 - 4 - 1) / tau_minus) (the post seen one delay later)."""
    res = run(_stdp_net([0.0, 20.0], [3.0], a=1.0), 22.0)
    w = res.weights["plastic"][0, 0]
    assert w == pytest.approx(math.exp(-5 / 3.0) - math.exp(-15 / 3.0), rel=1e-9)
    # before the second pre spike nothing has changed (deferred update)
    res0 = run(_stdp_net([0.0, 20.0], [3.0], a=1.0), 19.0)
    assert res0.weights["plastic"][0, 0] == 0.0


def test_stdp_depression_value():
    """Post at 2 (drive at 1), pre at 4: the pre depresses by A * exp(-(4 - 2 - 1) / tau_minus)
    from w0 (post seen one delay later)."""
    res = run(_stdp_net([4.0], [1.0], a=1.0, w0=3.0), 6.0)
    w = res.weights["plastic"][0, 0]
    assert w == pytest.approx(3.0 - math.exp(-1 / 3.0), rel=1e-9)


def test_stdp_coincident_depression():
    """Post at 2, pre at 3: the delayed post coincides with the pre; it depresses by A (exp(0))
    by default and not at all with depress_coincident=False."""
    net = _stdp_net([3.0], [1.0], a=1.0, w0=3.0)
    assert run(net, 5.0).weights["plastic"][0, 0] == pytest.approx(2.0, rel=1e-12)
    net = _stdp_net([3.0], [1.0], a=1.0, w0=3.0)
    assert run(net, 5.0, depress_coincident=False).weights["plastic"][0, 0] == 3.0


def test_stdp_weights_clipped():
    res = run(_stdp_net([0.0, 1.0, 20.0], [1.0, 3.0], a=100.0), 22.0)
    w = res.weights["plastic"][0, 0]
    assert 0.0 <= w <= 6.0


def test_to_neo():
    neo = pytest.importorskip("neo")
    res = run(_one([0.0, 5.0], 6.0), 10.0)
    seg = res.to_neo("cell")
    assert isinstance(seg, neo.Segment)
    assert [float(x) for x in seg.spiketrains[0].magnitude] == [1.0, 6.0]
    block = res.to_neo()
    assert len(block.segments) == 2
    with pytest.raises(ValueError, match="no recorded population"):
        res.spikes("nope")


def test_emit_late_equals_knowing_in_advance():
    """Source spikes added after their step was simulated give the same result as spikes
    scheduled beforehand (they only act from the next step on)."""
    a = create(_one([0.0, 4.0], 6.0))
    a.run(12.0)
    b = create(_one([0.0], 6.0))
    b.run(5.0)  # steps 0..4 simulated without the spike at 4
    b.emit_late("src", [0])
    b.run(7.0)
    for lab in ("src", "cell"):
        assert all(np.array_equal(x, y) for x, y in zip(a.spikes(lab), b.spikes(lab)))
    with pytest.raises(ValueError, match="not a spike source"):
        b.emit_late("cell", [0])
    with pytest.raises(ValueError, match="out of range"):
        b.emit_late("src", [3])


def test_spike_times_changed_between_runs():
    sim = create(_one([0.0], 6.0))
    sim.run(5.0)
    sim.network.populations["src"].set_spike_times([[0.0, 7.0]])
    sim.run(5.0)
    assert sim.spikes("cell")[0].tolist() == [1.0, 8.0]
