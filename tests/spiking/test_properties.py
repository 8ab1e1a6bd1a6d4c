"""Property tests of every simulator backend on small random networks.

On ``numba`` Hypothesis draws the examples; on the other backends (a build costs 0.3-1 s) a few
derandomised examples, without shrinking.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from hypothesis import Phase, given, settings
from hypothesis import strategies as st

from neuromem.ca3.network import CA3Params
from neuromem.spiking import (
    AdditiveWeightDependence,
    AllToAllConnector,
    Network,
    OneToOneConnector,
    SpikePairRule,
    SpikeSourceArray,
    StaticSynapse,
    STDPMechanism,
    create,
)


def _net(seed, tau_refrac):
    rng = np.random.default_rng(seed)
    net = Network()
    trains = [np.unique(rng.integers(0, 60, rng.integers(0, 12))).astype(float) for _ in range(4)]
    src = net.population(4, SpikeSourceArray(trains), "src")
    cell = replace(CA3Params().cell(fast=False), tau_refrac=tau_refrac)  # the CA3 slow cell
    a = net.population(4, cell, "a")
    b = net.population(3, cell, "b")
    net.projection(src, a, OneToOneConnector(), StaticSynapse(float(rng.uniform(3, 9)), 1.0))
    net.projection(a, b, AllToAllConnector(), StaticSynapse(float(rng.uniform(0, 6)), 2.0))
    net.projection(
        b, a, AllToAllConnector(), StaticSynapse(float(rng.uniform(0, 6)), 1.0), "inhibitory"
    )
    stdp = STDPMechanism(
        SpikePairRule(3.0, 3.0, float(rng.uniform(0, 4)), float(rng.uniform(0, 4))),
        AdditiveWeightDependence(0.0, 6.0),
        weight=float(rng.uniform(0, 6)),
        delay=1.0,
    )
    net.projection(a, b, AllToAllConnector(), stdp, label="plastic")
    return net


def _settings(backend: str, n_reference: int, n_other: int = 4):
    """Hypothesis settings: many examples on the reference, a few fixed ones elsewhere."""
    if backend == "numba":
        return settings(max_examples=n_reference, deadline=None)
    return settings(
        max_examples=n_other,
        deadline=None,
        derandomize=True,
        database=None,
        phases=[Phase.generate],
    )


@pytest.mark.deviation(
    "pynn:brian2",
    reason="pyNN.brian2 with tau_refrac = dt = 1 ms lets a cell fire on consecutive steps",
)
def test_refractory_and_weight_bounds(backend):
    @_settings(backend, 25)
    @given(st.integers(0, 10_000), st.sampled_from([1.0, 2.0, 3.0]))
    def check(seed, tau_refrac):
        sim = create(_net(seed, tau_refrac), backend)
        sim.run(80.0)
        k = int(tau_refrac)
        for lab in ("a", "b"):
            t, i = sim.spikes(lab)
            for n in np.unique(i):
                gaps = np.diff(t[i == n])
                assert np.all(gaps >= k + 1)  # spike, k refractory steps, then free
        w = sim.weights("plastic")
        assert np.all((w >= 0.0) & (w <= 6.0))

    check()


def test_split_runs_equal_one_run(backend):
    @_settings(backend, 15)
    @given(st.integers(0, 10_000), st.integers(1, 79))
    def check(seed, cut):
        one = create(_net(seed, 1.0), backend)
        one.run(80.0)
        res_one = one.result()
        two = create(_net(seed, 1.0), backend)
        two.run(float(cut))
        two.run(float(80 - cut))
        for lab in ("src", "a", "b"):
            assert all(np.array_equal(x, y) for x, y in zip(res_one.spikes(lab), two.spikes(lab)))
        assert np.array_equal(res_one.weights["plastic"], two.weights("plastic"))

    check()
