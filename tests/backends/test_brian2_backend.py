"""Brian2 backend: same spikes (and weights) as the Numba reference, and the recordings."""

from __future__ import annotations

import numpy as np
import pytest

from neuromem.ca3 import CA3Memory, compare, read_trace, replay
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
    create,
    run,
)

pytestmark = pytest.mark.brian2
pytest.importorskip("brian2")


@pytest.fixture(autouse=True)
def _brian2_cache(tmp_path_factory, monkeypatch):
    if "NEUROMEM_CACHE" not in __import__("os").environ:
        monkeypatch.setenv("NEUROMEM_CACHE", str(tmp_path_factory.getbasetemp() / "cache"))


def _random_net(seed: int, n_src=4, n_a=6, n_b=5, steps=60) -> Network:
    """A small random network: sources, two cell groups, static and plastic projections,
    excitatory and inhibitory, delays 1-3, recurrent STDP."""
    rng = np.random.default_rng(seed)
    net = Network(dt=1.0)
    times = [
        np.sort(rng.choice(steps - 10, rng.integers(2, 8), replace=False)) for _ in range(n_src)
    ]
    src = net.population(n_src, SpikeSourceArray(times), "src")
    cell = IF_curr_exp(
        cm=0.27, tau_m=3.0, tau_refrac=1.0, tau_syn_E=0.3, tau_syn_I=0.5,
        v_rest=-60.0, v_reset=-62.0, v_thresh=-57.0, i_offset=float(rng.uniform(0, 0.2)),
    )  # fmt: skip
    a = net.population(n_a, cell, "a")
    b = net.population(n_b, IF_curr_exp(cm=0.14, tau_m=0.5, tau_refrac=2.0), "b")
    pairs = [(i, j) for i in range(n_src) for j in range(n_a) if rng.random() < 0.6]
    w = rng.uniform(2.0, 9.0, len(pairs))
    net.projection(
        src, a, FromListConnector([(i, j, x) for (i, j), x in zip(pairs, w)]),
        StaticSynapse(1.0, 1.0),
    )  # fmt: skip
    stdp = STDPMechanism(
        SpikePairRule(3.0, 4.0, float(rng.uniform(1, 4)), float(rng.uniform(1, 4))),
        AdditiveWeightDependence(0.0, 6.0),
        weight=2.0,
        delay=1.0,
    )
    net.projection(a, b, AllToAllConnector(), stdp)
    net.projection(a, a, AllToAllConnector(allow_self_connections=False), stdp)
    net.projection(b, a, AllToAllConnector(), StaticSynapse(3.0, 3.0), "inhibitory")
    net.projection(src, b, AllToAllConnector(), StaticSynapse(20.0, 2.0))
    return net


def _same(r1, r2, tol=1e-12):
    for lab in r1.labels:
        t1, i1 = r1.spikes(lab)
        t2, i2 = r2.spikes(lab)
        assert np.array_equal(t1, t2) and np.array_equal(i1, i2), lab
    for lab, w in r1.weights.items():
        np.testing.assert_allclose(r2.weights[lab], w, atol=tol, rtol=0, err_msg=lab)


@pytest.mark.parametrize(
    "opts",
    [
        {},
        {"stdp_clip": "sum"},
        {"depression_post_delay": False, "depress_coincident": False},
        {"amplitude_times_wmax": True},
    ],
)
def test_random_networks_match_numba(opts):
    for seed in (1, 2):
        net = _random_net(seed)
        ref = run(net, 70.0, backend="numba", **opts)
        assert sum(ref.spike_counts().values()) > 20  # the network is active
        _same(ref, run(net, 70.0, backend="brian2", **opts))


def test_split_runs_and_changed_sources_match_numba():
    net_a, net_b = _random_net(3), _random_net(3)
    sims = [create(net_a, "numba"), create(net_b, "brian2")]
    for sim, net in zip(sims, (net_a, net_b)):
        sim.run(20.0)
        net.populations["src"].set_spike_times([[25.0, 30.0], [22.0], [40.0], []])
        sim.run(15.0)
        sim.run(25.0)
    _same(sims[0].result(), sims[1].result())
    assert sims[1].time == 60.0


def test_history_of_15_post_spikes_is_kept_like_spynnaker():
    """Many post spikes between two pre spikes: only the last 15 potentiate (both backends)."""
    net = Network(dt=1.0)
    pre = net.population(1, SpikeSourceArray([[0.0, 1.0, 60.0]]), "pre")
    drv = net.population(1, SpikeSourceArray([list(range(2, 56, 2))]), "drv")
    cells = net.population(1, IF_curr_exp(cm=0.27, tau_m=3.0, tau_refrac=1.0), "post")
    post = net.population(1, IF_curr_exp(cm=0.27, tau_m=3.0, tau_refrac=1.0), "relay")
    net.projection(drv, post, OneToOneConnector(), StaticSynapse(20.0, 1.0))
    net.projection(pre, cells, OneToOneConnector(), StaticSynapse(20.0, 1.0))
    stdp = STDPMechanism(
        SpikePairRule(20.0, 20.0, 0.5, 0.01), AdditiveWeightDependence(0.0, 50.0), 0.0, 1.0
    )
    # plastic synapse from pre (a cell driven by "pre") onto "relay", which fires 27 times
    net.projection(cells, post, OneToOneConnector(), stdp, label="plastic")
    ref = run(net, 70.0, backend="numba")
    assert len(ref.spikes("relay")[0]) > 15
    got = run(net, 70.0, backend="brian2")
    _same(ref, got)


def test_recordings_replay_spike_for_spike(golden_dir):
    for name in ("functional_c5_n10.csv", "statemap_c16_n6.csv"):
        path = golden_dir / "ca3" / name
        if not path.is_file():
            pytest.skip(f"{path} not found")
        g = read_trace(path)
        res = compare(g, replay(g, backend="brian2"))
        assert res.identical, res.report()


def test_cli_replay_with_brian2(golden_dir, tmp_path):
    from neuromem.cli import main

    path = golden_dir / "ca3" / "functional_c5_n10.csv"
    if not path.is_file():
        pytest.skip(f"{path} not found")
    out = tmp_path / "b2.csv"
    assert (
        main(["ca3", "replay", "--trace", str(path), "--out", str(out), "--backend", "brian2"]) == 0
    )
    assert main(["ca3", "compare", str(path), str(out)]) == 0


def test_capacity_schedule_matches_numba():
    """Back-to-back operations (late emission of the next input) on a ca3-capacity-like
    schedule: every spike of every population and the learned weights agree."""
    rng = np.random.default_rng(7)
    c, n = 5, 8
    pats = [np.isin(np.arange(n), rng.choice(n, 3, replace=False)) for _ in range(c)]
    frags = [np.isin(np.arange(n), [rng.choice(np.flatnonzero(p))]) for p in pats]
    mems = []
    for be in ("numba", "brian2"):
        m = CA3Memory(c, n, backend=be)
        for k, p in enumerate(pats):
            m.learn(k, p, at=m.earliest)
        for k in range(c):
            m.recall(cue=k, at=m.earliest)
        for f in frags:
            m.recall(content=f, at=m.earliest)
        mems.append(m)
    a, b = mems
    assert [op.t for op in a.operations] == [op.t for op in b.operations]
    assert any(op.t == a.operations[k - 1].t + 7 for k, op in enumerate(a.operations) if k)
    cmp = compare(a.trace(), b.trace())
    assert cmp.identical, cmp.report()
    for key, w in a.weights().items():
        np.testing.assert_allclose(b.weights()[key], w, atol=1e-12, rtol=0)
    assert [op.out_cues for op in a.operations] == [op.out_cues for op in b.operations]


def test_bad_options_and_unsupported_networks():
    net = _random_net(1)
    with pytest.raises(ValueError, match="device"):
        create(net, "brian2", device="gpu")
    with pytest.raises(ValueError, match="target"):
        create(net, "brian2", target="fortran")
    with pytest.raises(ValueError, match="stdp_clip"):
        create(net, "brian2", stdp_clip="max")
    bad = Network()
    s = bad.population(1, SpikeSourceArray([[1.0]]), "s")
    c = bad.population(1, IF_curr_exp(), "c")
    bad.projection(s, c, OneToOneConnector(), STDPMechanism(delay=2.0))
    with pytest.raises(ConfigError, match="delay of one step"):
        create(bad, "brian2")
    sim = create(_random_net(1), "brian2")
    with pytest.raises(ValueError, match="nothing has been simulated"):
        sim.emit_late("src", [0])
    with pytest.raises(ValueError, match="duration"):
        sim.run(-1.0)
    with pytest.raises(ValueError, match="unknown population"):
        sim.spikes("nope")
    with pytest.raises(ValueError, match="unknown projection"):
        sim.weights("nope")


@pytest.mark.slow
def test_cpp_standalone_matches_runtime(tmp_path):
    net = _random_net(4)
    ref = run(net, 60.0, backend="numba")
    sim = create(net, "brian2", device="cpp_standalone", build_dir=str(tmp_path / "b2sa"))
    sim.run(60.0)
    _same(ref, sim.result())
    # built in the folder given (reused, only changed code objects compile again)
    assert (tmp_path / "b2sa" / "main").is_file() and (tmp_path / "b2sa" / "main.cpp").is_file()
    with pytest.raises(ConfigError, match="runs once"):
        sim.run(10.0)
    # the runtime device is usable again afterwards
    _same(ref, run(net, 60.0, backend="brian2"))
