"""The Numba kernel against a plain-Python oracle of its documented step, on random networks.

The kernel is optimised (dense vectorised neuron pass, rows onto consecutive post neurons,
depression computed once per step and projection, binary search in the post history); the
oracle below follows the module docstring of ``neuromem.spiking.backends.numba_sim`` line by
line, with dictionaries and lists, from the network description alone. Both must give the
same spikes, and weights equal to rounding. Every other backend is held to the same oracle
(``brian2`` and ``pynn:nest`` reproduce it, ``pynn:nest`` keeping every postsynaptic spike
where the reference keeps the last 15; ``pynn:brian2``'s deviations are strict xfails).
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest
from hypothesis import Phase, given, settings
from hypothesis import strategies as st

from neuromem.ca3.network import CA3Params
from neuromem.spiking import (
    AdditiveWeightDependence,
    AllToAllConnector,
    FromListConnector,
    Network,
    OneToOneConnector,
    SpikePairRule,
    SpikeSourceArray,
    StaticSynapse,
    STDPMechanism,
    create,
)

HISTORY = 15  # post-synaptic spikes kept per neuron (sPyNNaker)


def _random_net(seed: int, plastic_delay: float = 2.0) -> Network:
    """Sources, three cell populations (two parameter sets) and every connector kind; one
    plastic projection has ``plastic_delay`` (the brian2 backend takes 1 step only)."""
    rng = np.random.default_rng(seed)
    net = Network()
    trains = [np.unique(rng.integers(0, 140, rng.integers(0, 20))).astype(float) for _ in range(6)]
    src = net.population(6, SpikeSourceArray(trains), "src")
    slow = CA3Params().cell(fast=False)
    fast = CA3Params().cell(fast=True)
    a = net.population(6, replace(slow, tau_refrac=float(rng.choice([1.0, 2.0]))), "a")
    b = net.population(5, fast, "b")
    c = net.population(4, slow, "c")
    u = lambda lo, hi: float(rng.uniform(lo, hi))  # noqa: E731
    net.projection(src, a, OneToOneConnector(), StaticSynapse(u(3, 9), 1.0))
    pairs = [(i, j, u(0, 6)) for i in range(6) for j in range(5) if rng.random() < 0.5]
    if pairs:  # rows onto scattered post neurons, per-synapse weights
        net.projection(src, b, FromListConnector(pairs), StaticSynapse(1.0, 2.0))
    net.projection(a, b, AllToAllConnector(), StaticSynapse(u(0, 5), 1.0))
    net.projection(
        b, a, AllToAllConnector(), StaticSynapse(u(0, 5), 1.0), "inhibitory", label="b-a:inh"
    )
    net.projection(
        c, c, AllToAllConnector(allow_self_connections=False), StaticSynapse(u(0, 4), 1.0)
    )

    # short and long time constants, so that runs outlast the decay tables (tau_minus is
    # shared by the plastic projections onto one population)
    tau_minus = u(0.5, 3.0)

    def stdp(delay):
        return STDPMechanism(
            SpikePairRule(u(0.5, 5), tau_minus, u(0, 4), u(0, 4)),
            AdditiveWeightDependence(0.0, 6.0),
            weight=u(0, 6),
            delay=delay,
        )

    # two plastic projections onto c (one tau_minus per population), one of them from a list
    net.projection(a, c, AllToAllConnector(), stdp(1.0), label="a-c")
    plist = [(i, j) for i in range(5) for j in range(4) if rng.random() < 0.6]
    if plist:
        net.projection(b, c, FromListConnector(plist), stdp(plastic_delay), label="b-c")
    net.projection(src, c, AllToAllConnector(), stdp(1.0), label="src-c")
    return net


def _oracle(net: Network, n_steps: int, clip_each: bool, history: int | None = HISTORY):
    """Spikes ``{label: [(step, index), ...]}`` and weights ``{label: {(i, j): w}}``; each
    neuron keeps its last ``history`` postsynaptic spikes (None: all of them)."""
    dt = net.dt
    pops = list(net.populations.values())
    projs = list(net.projections.values())
    rules = [pr.synapse_type.timing_dependence for pr in projs if pr.plastic]
    taus = [tau for td in rules for tau in (td.tau_plus, td.tau_minus)]
    n_lut = int(math.ceil(30.0 * max(taus) / dt)) + 1 if taus else 1

    def decay(k, tau):
        return float(np.exp(-(k * dt) / tau)) if k < n_lut else 0.0

    cells = {p.label: p for p in pops if not p.is_source}
    v = {lab: [p.celltype.initial_v] * p.size for lab, p in cells.items()}
    ie = {lab: [0.0] * p.size for lab, p in cells.items()}
    ii = {lab: [0.0] * p.size for lab, p in cells.items()}
    refr = {lab: [0] * p.size for lab, p in cells.items()}
    inbox: dict = {}  # (step, receptor, label, index) -> summed weight
    syn = {}
    for pr in projs:
        pre_i, post_i = pr.connections()
        syn[pr.label] = [
            [int(i), int(j), float(w)] for i, j, w in zip(pre_i, post_i, pr.initial_weights())
        ]
    row_state = {}  # (projection, pre) -> (last step, trace)
    hist = {lab: [[] for _ in range(p.size)] for lab, p in cells.items()}  # [(step, trace)]
    post_tau = {
        pr.post.label: pr.synapse_type.timing_dependence.tau_minus for pr in projs if pr.plastic
    }
    src_steps = {
        p.label: [
            set(np.rint(np.asarray(tr) / dt).astype(int).tolist()) for tr in p.celltype.spike_times
        ]
        for p in pops
        if p.is_source
    }
    spikes = {p.label: [] for p in pops}
    for t in range(n_steps):
        fired = []
        for p in pops:  # network order = the kernel's global index order
            if p.is_source:
                continue
            c, lab = p.celltype, p.label
            r_mem = c.tau_m / c.cm
            for n in range(p.size):
                for rec, cur, tau in ((0, ie, c.tau_syn_E), (1, ii, c.tau_syn_I)):
                    x = inbox.pop((t, rec, lab, n), 0.0)
                    cur[lab][n] += x * (tau * (1.0 - math.exp(-dt / tau)) / dt)
                if refr[lab][n] <= 0:
                    alpha = (ie[lab][n] - ii[lab][n] + c.i_offset) * r_mem + c.v_rest
                    v[lab][n] = alpha - math.exp(-dt / c.tau_m) * (alpha - v[lab][n])
                else:
                    refr[lab][n] -= 1
                if v[lab][n] >= c.v_thresh:
                    v[lab][n] = c.v_reset
                    refr[lab][n] = int(math.ceil(c.tau_refrac / dt - 1e-9))
                    fired.append((lab, n))
                    if lab in post_tau:
                        h = hist[lab][n]
                        last_t, last_tr = h[-1] if h else (0, 0.0)
                        h.append((t, last_tr * decay(t - last_t, post_tau[lab]) + 1.0))
                        if history is not None:
                            del h[:-history]
                for cur, tau in ((ie, c.tau_syn_E), (ii, c.tau_syn_I)):
                    cur[lab][n] *= math.exp(-dt / tau)
                    if abs(cur[lab][n]) < 1e-30:
                        cur[lab][n] = 0.0
        for p in pops:
            if p.is_source:
                fired += [(p.label, k) for k, s in enumerate(src_steps[p.label]) if t in s]
        for lab, n in fired:
            spikes[lab].append((t, n))
        for lab, n in fired:
            for pr in projs:
                if pr.pre.label != lab:
                    continue
                st_ = pr.synapse_type
                d = int(round(st_.delay / dt))
                rec = int(pr.receptor_type != "excitatory")
                if pr.plastic:
                    td, wd = st_.timing_dependence, st_.weight_dependence
                    last_t, last_tr = row_state.get((pr.label, n), (0, 0.0))
                    row_state[pr.label, n] = (t, last_tr * decay(t - last_t, td.tau_plus) + 1.0)
                    begin, end = max(last_t - d, 0), max(t - d, 0)
                for s in syn[pr.label]:
                    if s[0] != n:
                        continue
                    if pr.plastic:
                        w, pot = s[2], 0.0
                        h = hist[pr.post.label][s[1]]
                        for tp, _ in h:  # potentiation, oldest first
                            if begin < tp <= end:
                                dw = td.A_plus * last_tr * decay(tp + d - last_t, td.tau_plus)
                                if clip_each:
                                    w = min(w + dw, wd.w_max)
                                else:
                                    pot += dw
                        before = [(tp, tr) for tp, tr in h if tp <= end]
                        dep = 0.0
                        if before:
                            tp, tr = before[-1]
                            dtm = t - tp - d
                            if dtm >= 0:
                                dep = td.A_minus * tr * decay(dtm, td.tau_minus)
                        if clip_each:
                            w = max(w - dep, wd.w_min)
                        else:
                            w = min(max(w + pot - dep, wd.w_min), wd.w_max)
                        s[2] = w
                    key = (t + d, rec, pr.post.label, s[1])
                    inbox[key] = inbox.get(key, 0.0) + s[2]
    weights = {lab: {(i, j): w for i, j, w in rows} for lab, rows in syn.items()}
    return spikes, weights


def _check(
    seed: int,
    stdp_clip: str,
    n_steps: int = 150,
    backend: str = "numba",
    history: int | None = HISTORY,
):
    net = _random_net(seed, plastic_delay=1.0 if backend == "brian2" else 2.0)
    # the STDP options are the reference's (numba, brian2); PyNN simulators take none
    opts = {"stdp_clip": stdp_clip} if backend in ("numba", "brian2") else {}
    sim = create(net, backend, **opts)
    sim.run(float(n_steps))
    ref_spikes, ref_w = _oracle(net, n_steps, stdp_clip == "each", history)
    for lab in net.populations:
        t, i = sim.spikes(lab)
        got = sorted(zip(np.rint(t).astype(int).tolist(), i.tolist()))
        assert got == sorted(ref_spikes[lab]), f"spikes of {lab!r} differ (seed {seed})"
    for lab, ws in ref_w.items():
        w = sim.weights(lab)
        for (i, j), x in ws.items():
            assert w[i, j] == pytest.approx(x, rel=1e-12, abs=1e-12), (lab, i, j, seed)
    return net, sim, sum(len(x) for x in ref_spikes.values())


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 100_000), st.sampled_from(["each", "sum"]))
def test_kernel_equals_the_plain_oracle(seed, stdp_clip):
    _check(seed, stdp_clip)


@pytest.mark.deviation(
    "pynn:brian2",
    reason="pyNN.brian2: one extra step per synaptic hop, and PyNN's online STDP rule",
)
def test_every_backend_equals_the_plain_oracle(backend):
    """The same oracle for every backend: a few derandomised networks (a build costs ~1 s).
    NEST keeps every postsynaptic spike (the reference, as sPyNNaker, the last 15): pynn:nest
    is held to the oracle keeping them all."""
    clips = ["each", "sum"] if backend in ("numba", "brian2") else ["each"]
    history = None if backend == "pynn:nest" else HISTORY

    @settings(
        max_examples=4, deadline=None, derandomize=True, database=None, phases=[Phase.generate]
    )
    @given(st.integers(0, 100_000), st.sampled_from(clips))
    def check(seed, stdp_clip):
        _check(seed, stdp_clip, backend=backend, history=history)

    check()


def test_oracle_networks_are_busy_and_plastic():
    """The comparison means something: the random networks spike and their weights move."""
    n_spikes, moved = [], 0
    for s in range(5):
        net, sim, n = _check(s, "each")
        n_spikes.append(n)
        for lab in ("a-c", "b-c", "src-c"):
            if lab in net.projections:
                w0 = net.projections[lab].initial_weights()
                pre_i, post_i = net.projections[lab].connections()
                moved += int(np.any(sim.weights(lab)[pre_i, post_i] != w0))
    assert min(n_spikes) > 20
    assert moved >= 5


@pytest.mark.parametrize("backend", ["pynn:nest"], indirect=True)
def test_nest_differs_from_the_reference_by_the_post_history_only(backend):
    """Seed 1620 has more than 15 postsynaptic spikes between two presynaptic spikes of some
    plastic synapses: the reference (last 15 kept) and pynn:nest (all kept) end with different
    weights there, and pynn:nest equals the oracle that keeps them all, spike and weight."""
    net, sim, _ = _check(1620, "each", n_steps=160, backend=backend, history=None)
    _, ref_w = _oracle(_random_net(1620), 160, True, HISTORY)
    differ = [k for k, x in ref_w["a-c"].items() if abs(sim.weights("a-c")[k] - x) > 1e-6]
    assert differ
