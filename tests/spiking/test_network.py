"""The backend-neutral description: validation, connectors, registry."""

from __future__ import annotations

import numpy as np
import pytest

from neuromem.errors import ConfigError
from neuromem.spiking import (
    AdditiveWeightDependence,
    AllToAllConnector,
    FromListConnector,
    IF_curr_exp,
    Network,
    OneToOneConnector,
    SpikePairRule,
    SpikeSourceArray,
    StaticSynapse,
    STDPMechanism,
    backend_names,
    get_backend,
)


def test_cell_validation():
    with pytest.raises(ValueError, match="tau_m"):
        IF_curr_exp(tau_m=0.0)
    with pytest.raises(ValueError, match="cm"):
        IF_curr_exp(cm=float("nan"))
    with pytest.raises(TypeError, match="v_rest"):
        IF_curr_exp(v_rest="low")
    with pytest.raises(ValueError, match="v_reset"):
        IF_curr_exp(v_reset=-40.0, v_thresh=-50.0)
    assert IF_curr_exp(v_rest=-60.0).initial_v == -60.0


def test_spike_source_validation():
    with pytest.raises(ValueError, match="negative"):
        SpikeSourceArray([[1.0, -2.0]])
    with pytest.raises(ValueError, match="NaN"):
        SpikeSourceArray([[np.nan]])
    s = SpikeSourceArray([3.0, 1.0])  # a flat list is one train
    assert len(s.spike_times) == 1 and s.spike_times[0].tolist() == [1.0, 3.0]


def test_connectors():
    pre, post = AllToAllConnector(allow_self_connections=False).connections(3, 3)
    assert len(pre) == 6 and not np.any(pre == post)
    pre, post = AllToAllConnector().connections(2, 3)
    assert len(pre) == 6
    with pytest.raises(ValueError, match="equal sizes"):
        OneToOneConnector().connections(2, 3)
    pre, post = FromListConnector([(0, 1), (1, 0)]).connections(2, 2)
    assert pre.tolist() == [0, 1] and post.tolist() == [1, 0]
    with pytest.raises(ValueError, match="out of range"):
        FromListConnector([(0, 5)]).connections(2, 2)
    with pytest.raises(ValueError, match="rows"):
        FromListConnector([1, 2, 3])
    with pytest.raises(ValueError, match="repeats"):
        FromListConnector([(0, 1), (0, 1)])
    with pytest.raises(ValueError, match="weights"):
        FromListConnector([(0, 1, -2.0)])
    with pytest.raises(TypeError, match="integer"):
        FromListConnector([(0.5, 1)])


def test_network_validation():
    net = Network()
    a = net.population(2, SpikeSourceArray([[0.0], [1.0]]), "a")
    b = net.population(2, IF_curr_exp(), "b")
    with pytest.raises(ValueError, match="duplicate population"):
        net.population(1, IF_curr_exp(), "a")
    with pytest.raises(ValueError, match="spike source"):
        net.projection(b, a, OneToOneConnector())
    with pytest.raises(ValueError, match="receptor_type"):
        net.projection(a, b, OneToOneConnector(), StaticSynapse(1.0, 1.0), "modulatory")
    other = Network().population(2, IF_curr_exp(), "c")
    with pytest.raises(ValueError, match="not in this network"):
        net.projection(a, other, OneToOneConnector())
    with pytest.raises(ValueError, match="weight"):
        STDPMechanism(weight=2.0, weight_dependence=AdditiveWeightDependence(0.0, 1.0))
    with pytest.raises(ValueError, match="2 spike trains"):
        net.population(3, SpikeSourceArray([[0.0], [1.0]]), "bad")
    with pytest.raises(ValueError, match="record: unknown variable 'gsyn_exc'"):
        net.population(1, IF_curr_exp(), "r", record=("gsyn_exc",))


def test_from_list_weights_reach_the_simulator(backend):
    net = Network()
    src = net.population(2, SpikeSourceArray([[0.0], [0.0]]), "src")
    # a fast synapse: pynn:nest steps the current's decay term by term and refuses PyNN's
    # default 5 ms (140 terms; tests/backends/test_pynn_nest.py checks that refusal)
    cells = net.population(2, IF_curr_exp(tau_syn_E=1.0, tau_syn_I=1.0), "cells")
    pr = net.projection(src, cells, FromListConnector([(0, 1, 2.5), (1, 0, 0.5)]),
                        StaticSynapse(9.0, 1.0))  # fmt: skip
    assert pr.initial_weights().tolist() == [2.5, 0.5]
    from neuromem.spiking import run

    w = run(net, 2.0, backend=backend).weights[pr.label]
    # pynn:nest splits a weight into the terms of its stepped current and sums them back
    assert w[0, 1] == pytest.approx(2.5, rel=1e-12) and w[1, 0] == pytest.approx(0.5, rel=1e-12)
    assert np.isnan(w[0, 0])
    stdp = STDPMechanism(weight_dependence=AdditiveWeightDependence(0.0, 1.0))
    with pytest.raises(ValueError, match="w_min, w_max"):
        net.projection(src, cells, FromListConnector([(0, 0, 2.0)]), stdp)


def test_registry():
    assert "numba" in backend_names()
    assert get_backend("numba").name == "numba"
    with pytest.raises(ConfigError, match="unknown spiking backend"):
        get_backend("nest-gpu")


def test_stdp_defaults_are_pynn_like():
    m = STDPMechanism(SpikePairRule(3.0, 3.0, 6.0, 6.0), AdditiveWeightDependence(0.0, 6.0))
    assert m.weight == 0.0 and m.delay == 1.0
