"""Why the CA3 memory recalls wrong on ``pynn:brian2``: PyNN's Brian2 STDP, replayed by hand.

pyNN.brian2 (``STDPMechanism`` + ``SpikePairRule`` + ``AdditiveWeightDependence``, delays all
axonal) keeps two traces per synapse, :math:`P` (pre) and :math:`M` (post), that decay with
:math:`\\tau_+` and :math:`\\tau_-` and are updated online, in Brian2's ``synapses`` slot, the
presynaptic pathway (spike emitted at :math:`t`, run at :math:`t + d`) before the postsynaptic
one (run at the post spike's step):

.. math::

    \\text{pre arrival:}\\; P \\mathrel{+}= A_+,\\;
        w \\leftarrow \\max(w + w_{max} M, w_{min}),\\; \\text{then } w \\text{ is sent};
    \\qquad
    \\text{post spike:}\\; M \\mathrel{-}= A_-,\\; w \\leftarrow \\min(w + w_{max} P, w_{max}).

Every pre arrival is paired with every earlier post spike and vice versa (all-to-all). In a
learn, the cue cell and the content cells fire together on three consecutive steps, so the
cue's last spike *arrives* (one axonal step later) after the content's last spike and depresses
by :math:`w_{max} A_- (e^{-1/\\tau_-} + e^{-2/\\tau_-} + e^{-3/\\tau_-}) > w_{max}`: the
association, saturated a step earlier, ends at 0. sPyNNaker (the ``numba`` reference) times
the same pairs with a dendritic delay (post spike seen at :math:`t_{post} + d`, pre at its
emission) and defers potentiation to the next presynaptic spike: the learn's last coincident
pair counts as potentiation, applied (clipped at :math:`w_{max}`) when the recall's cue spike is
delivered, with that very spike.

The tests replay both rules by hand on the recorded spikes (parameters read back from the
simulators) and compare with the simulators' weights.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from neuromem.ca3 import CA3Memory
from neuromem.ca3.network import (
    PLASTIC_CONTENT_TO_CUE,
    PLASTIC_CUE_TO_CONTENT,
    CA3Params,
    build_network,
)
from neuromem.experiments.ca3 import FUNCTIONAL_SCENARIO, _bits
from neuromem.spiking import (
    FromListConnector,
    Network,
    SpikeSourceArray,
    StaticSynapse,
    create,
)

C, N = 5, 10
CUE, BITS = 0, (0, 1, 8, 9)
LEARN_STEPS = (0.0, 1.0, 2.0)
RECALL_AT = 13.0  # a recall by cue 13 ms after the learn (spacing 10 + read_lag 3)
TOL = 1e-6  # nA


def _rule_kw(st, d):
    """Keyword arguments of the two rules below for STDP synapse type ``st`` and delay ``d``."""
    td, wd = st.timing_dependence, st.weight_dependence
    return dict(
        d=d,
        tau_plus=td.tau_plus,
        tau_minus=td.tau_minus,
        A_plus=td.A_plus,
        A_minus=td.A_minus,
        w_min=wd.w_min,
        w_max=wd.w_max,
    )


# ----------------------------------------------------------------------------- the two rules
def brian2_rule(pre, post, *, d, tau_plus, tau_minus, A_plus, A_minus, w_min, w_max, until):
    """pyNN.brian2's online all-to-all spike-pair rule replayed on one synapse.

    Parameters
    ----------
    pre, post : sequence of float
        Emission times (ms) of the presynaptic and postsynaptic spikes.
    d : float
        Axonal delay (ms): a presynaptic spike is processed at ``t + d``.
    tau_plus, tau_minus, A_plus, A_minus, w_min, w_max : float
        PyNN's parameters as pyNN.brian2 holds them (``A`` as fractions of ``w_max``).
    until : float
        Events at ``t >= until`` are not yet simulated.

    Returns
    -------
    list of tuple
        ``(t, kind, P, M, w)`` after each event, in Brian2's order (time, then pre before
        post); the weight starts at 0.
    """
    events = sorted([(t + d, 0) for t in pre] + [(t, 1) for t in post])
    p = m = 0.0
    last, w, out = 0.0, 0.0, []
    for t, kind in events:
        if t >= until:
            break
        p *= math.exp(-(t - last) / tau_plus)
        m *= math.exp(-(t - last) / tau_minus)
        last = t
        if kind == 0:
            p += A_plus
            w = max(w + w_max * m, w_min)
        else:
            m -= A_minus
            w = min(w + w_max * p, w_max)
        out.append((t, "pre" if kind == 0 else "post", p, m, w))
    return out


def spynnaker_rule(pre, post, *, d, tau_plus, tau_minus, A_plus, A_minus, w_min, w_max):
    """sPyNNaker's deferred, pre-driven spike-pair rule (``docs/models/spiking.md``).

    At each presynaptic spike ``t`` (previous ``t_l`` with trace ``r_l``), the post spikes
    ``t_l - d < t_p <= t - d`` potentiate by ``A_plus r_l exp(-(t_p + d - t_l)/tau_plus)``
    (clipped at ``w_max`` each), then the last post spike ``t_p <= t - d`` depresses by
    ``A_minus o_p exp(-(t - t_p - d)/tau_minus)`` (``o_p`` its post trace), clipped at ``w_min``.
    ``A`` are weight changes (nA).

    Returns
    -------
    list of tuple
        ``(t, kind, w)`` after each weight change (``kind`` "pot" or "dep").
    """
    post = sorted(post)
    traces, prev = [], None
    for tp in post:
        traces.append((traces[-1] * math.exp(-(tp - prev) / tau_minus) if traces else 0) + 1)
        prev = tp
    w, t_l, r_l, out = 0.0, 0.0, 0.0, []
    for t in sorted(pre):
        begin, end = max(t_l - d, 0.0), max(t - d, 0.0)
        for tp in post:
            if begin < tp <= end and tp + d - t_l > 0:
                w = min(w + A_plus * r_l * math.exp(-(tp + d - t_l) / tau_plus), w_max)
                out.append((t, "pot", w))
        before = [k for k, tp in enumerate(post) if tp <= end]
        if before and t - post[before[-1]] - d >= 0:
            k = before[-1]
            w = max(w - A_minus * traces[k] * math.exp(-(t - post[k] - d) / tau_minus), w_min)
            out.append((t, "dep", w))
        r_l = r_l * math.exp(-(t - t_l) / tau_plus) + 1.0
        t_l = t
    return out


def _pynn_params(sim, label):
    """STDP parameters as pyNN.brian2 holds them (one value each in the projection)."""
    out = {}
    for name in ("tau_plus", "tau_minus", "A_plus", "A_minus", "w_min", "w_max", "delay"):
        v = np.asarray(sim.projs[label].get(name, format="array"), float)
        vals = np.unique(v[~np.isnan(v)])
        assert len(vals) == 1, name
        out[name] = float(vals[0])
    out["d"] = out.pop("delay")
    return out


def _trains(sim, label, size):
    t, i = sim.spikes(label)
    return [t[i == k].tolist() for k in range(size)]


def _hand_weights(rule, pre_trains, post_trains, **kw):
    w = np.zeros((len(pre_trains), len(post_trains)))
    for a, pre in enumerate(pre_trains):
        for b, post in enumerate(post_trains):
            ev = rule(pre, post, **kw)
            w[a, b] = ev[-1][-1] if ev else 0.0
    return w


def recall_threshold(p: CA3Params) -> float:
    """Smallest single-spike weight (nA) that fires a slow cell in pyNN.brian2.

    pyNN.brian2 adds the weight to the current after the step's integration; the exact
    solution then gives, ``k`` whole steps later,

    .. math::

        v(k) - v_{rest} = \\frac{w}{c_m}\\frac{\\tau_m \\tau_s}{\\tau_m - \\tau_s}
        \\left(e^{-k/\\tau_m} - e^{-k/\\tau_s}\\right),

    and the threshold is only checked at whole steps.
    """
    tm, ts = p.tau_m_slow, p.tau_syn
    k = np.arange(1, 20)
    per_na = (tm * ts / (tm - ts) / p.cm_slow) * (np.exp(-k / tm) - np.exp(-k / ts))
    return (p.v_thresh - p.v_rest) / per_na.max()


def _learn_then_recall_net():
    cue = [list(LEARN_STEPS) + [RECALL_AT] if k == CUE else [] for k in range(C)]
    cont = [list(LEARN_STEPS) if k in BITS else [] for k in range(N)]
    return build_network(C, N, cue, cont)


# ----------------------------------------------------------------------------- tests
@pytest.mark.brian2
def test_recall_threshold_of_a_slow_cell_on_pynn_brian2(pynn_brian2):
    """The derived threshold (about 3.57 nA) separates firing from silence in pyNN.brian2."""
    p = CA3Params()
    w_thr = recall_threshold(p)
    assert 3.4 < w_thr < 3.7  # a 6 nA association is well above, 1 nA well below
    net = Network(dt=1.0)
    src = net.population(2, SpikeSourceArray([[2.0], [2.0]]), "src")
    cells = net.population(2, p.cell(fast=False), "cells")
    # per-connection weights: just below and just above the threshold
    conn = FromListConnector([(0, 0, w_thr * (1 - 1e-3)), (1, 1, w_thr * (1 + 1e-3))])
    net.projection(src, cells, conn, StaticSynapse(1.0, 1.0), label="in")
    sim = create(net, pynn_brian2)
    sim.run(12.0)
    t, i = sim.spikes("cells")
    assert i.tolist() == [1]
    assert t.tolist() == [4.0]  # emitted 2, arrives 3, crosses at the check one step later


@pytest.mark.brian2
def test_one_learn_on_pynn_brian2_is_erased_by_the_cue_s_last_arrival(pynn_brian2):
    """Learn (cue 0, bits 0 1 8 9, held 3 steps) then recall by cue 13 ms later: the
    weights after every stage are pyNN.brian2's rule replayed on the recorded spikes; the
    association reaches w_max at the content spikes and the cue's trailing arrival wipes it
    out, so the recall's cue spike carries (almost) nothing and no content cell fires."""
    net = _learn_then_recall_net()
    sim = create(net, pynn_brian2)
    kw = _pynn_params(sim, PLASTIC_CUE_TO_CONTENT)
    # board amplitudes (6 nA) arrive as fractions of w_max (pyNN.brian2 multiplies by w_max)
    assert kw["A_plus"] * kw["w_max"] == pytest.approx(CA3Params().a_stdp)
    stages = {}
    for until in (4.0, 14.0, 26.0):
        sim.run(until - sim.time)
        stages[until] = sim.weights(PLASTIC_CUE_TO_CONTENT)
    pre = _trains(sim, "CA3cueCueRecall", C)
    post = _trains(sim, "CA3contCueRecall", N)

    # the cue cell and the pattern's content cells fire together, on consecutive steps
    # (each hop one step later than on the board: the learn's inputs are at 0, 1, 2)
    learn_pre = [t for t in pre[CUE] if t < RECALL_AT]
    assert len(learn_pre) == 3 and np.all(np.diff(learn_pre) == 1.0)
    for b in range(N):
        assert post[b] == (learn_pre if b in BITS else [])

    for until, w_sim in stages.items():
        w_hand = _hand_weights(brian2_rule, pre, post, until=until, **kw)
        np.testing.assert_allclose(w_sim, w_hand, rtol=0, atol=TOL)

    bits = list(BITS)
    w_max = kw["w_max"]
    assert np.allclose(stages[4.0][CUE, bits], w_max)  # saturated by the content spikes
    ev = brian2_rule(learn_pre, post[BITS[0]], until=RECALL_AT, **kw)
    last = ev[-1]
    # the last event of the learn is the cue's last spike arriving after the last content
    # spike; its depression exceeds w_max and the weight ends at w_min
    assert last[1] == "pre" and last[0] == learn_pre[-1] + kw["d"] > post[BITS[0]][-1]
    depression = -w_max * last[3]
    assert depression > w_max
    assert np.allclose(stages[14.0][CUE, bits], kw["w_min"])

    # the recall: its cue spike is processed (depressed a little more) and sent with w = 0
    w_thr = recall_threshold(CA3Params())
    assert np.nanmax(stages[26.0]) < w_thr
    recall_pre = [t for t in pre[CUE] if t >= RECALL_AT]
    assert recall_pre == [RECALL_AT + 2]  # two steps to the cue cell on pyNN.brian2
    t, _ = sim.spikes("CA3contCueRecall")
    assert not np.any(t >= RECALL_AT)  # no content recalled


def test_same_learn_on_numba_potentiates_at_the_recall_up_to_w_max():
    """The same inputs on the reference: 2-spike bursts, deferred pre-driven STDP with a
    dendritic delay. The weight is 0 after the learn too, but the recall's cue spike first
    applies the learn's last coincident pair as potentiation (clipped at w_max), then a small
    depression, and delivers that weight: the content cells fire."""
    net = _learn_then_recall_net()
    sim = create(net, "numba")
    kw = _rule_kw(net.projections[PLASTIC_CUE_TO_CONTENT].synapse_type, d=1.0)
    sim.run(RECALL_AT)
    w_learn = sim.weights(PLASTIC_CUE_TO_CONTENT)
    sim.run(13.0)
    w_recall = sim.weights(PLASTIC_CUE_TO_CONTENT)
    pre = _trains(sim, "CA3cueCueRecall", C)
    post = _trains(sim, "CA3contCueRecall", N)
    learn_pre = [t for t in pre[CUE] if t < RECALL_AT]
    assert np.all(np.diff(learn_pre) == 2.0)  # refractory step: no consecutive spikes
    for b in BITS:
        assert [t for t in post[b] if t < RECALL_AT] == learn_pre  # synchronous too

    early = [[t for t in tr if t < RECALL_AT] for tr in pre]
    late_post = [[t for t in tr if t < RECALL_AT] for tr in post]
    w_hand_learn = _hand_weights(spynnaker_rule, early, late_post, **kw)
    np.testing.assert_allclose(w_learn, w_hand_learn, rtol=0, atol=TOL)
    assert np.all(w_learn[CUE, list(BITS)] == kw["w_min"])  # nothing stored yet
    w_hand = _hand_weights(spynnaker_rule, pre, post, **kw)
    np.testing.assert_allclose(w_recall, w_hand, rtol=0, atol=TOL)

    recall_pre = pre[CUE][-1]
    assert recall_pre > RECALL_AT
    for b in BITS:
        ev = spynnaker_rule(pre[CUE], post[b], **kw)
        at_recall = [e for e in ev if e[0] == recall_pre]
        assert at_recall[0][1] == "pot" and at_recall[0][2] == kw["w_max"]
        assert at_recall[-1][1] == "dep" and at_recall[-1][2] == pytest.approx(w_recall[CUE, b])
    assert np.all(w_recall[CUE, list(BITS)] > 0.9 * kw["w_max"])
    # and it recalls: every pattern bit fires after the recall's cue spike
    t, i = sim.spikes("CA3contCueRecall")
    assert sorted(set(i[t > recall_pre].tolist())) == list(BITS)


@pytest.mark.brian2
def test_functional_scenario_weights_on_pynn_brian2_are_pyNN_s_rule(pynn_brian2):
    """The 9 operations (13 ms apart, read_lag 3): both plastic projections end exactly at the
    hand replay of pyNN.brian2's rule; no cue -> content weight reaches the recall threshold
    (the learned bits end at 0; what remains is earlier cue spikes' decaying traces paired with
    later content spikes, e.g. the next learn's); the first two recalls by content do bring the
    right cues, 12 steps after the operation, past the read window (t + 9)."""
    mem = CA3Memory(C, N, backend=pynn_brian2, read_lag=3)
    ops = []
    for k, (kind, cue, bits) in enumerate(FUNCTIONAL_SCENARIO):
        at = 13 * k
        if kind == "learn":
            mem.learn(cue, _bits(N, bits), at=at)
        elif kind == "recall_cue":
            mem.recall(cue=cue, at=at)
        else:
            ops.append((at, mem.recall(content=_bits(N, bits), at=at)))
    mem.sim.run(float(13 * len(FUNCTIONAL_SCENARIO) + 1 - mem.sim.t))
    sim = mem.sim
    for label, pre_lab, post_lab, n_pre, n_post in (
        (PLASTIC_CUE_TO_CONTENT, "CA3cueCueRecall", "CA3contCueRecall", C, N),
        (PLASTIC_CONTENT_TO_CUE, "CA3contContRecall", "CA3cueContRecall", N, C),
    ):
        kw = _pynn_params(sim, label)
        w_hand = _hand_weights(
            brian2_rule,
            _trains(sim, pre_lab, n_pre),
            _trains(sim, post_lab, n_post),
            until=sim.time,
            **kw,
        )
        np.testing.assert_allclose(sim.weights(label), w_hand, rtol=0, atol=TOL)
    w = mem.weights()["cue_to_content"]
    assert 0.0 < np.nanmax(w) < recall_threshold(CA3Params())
    # recall by content: nothing read in the window, the right cues 12 steps later
    t_out, i_out = mem.spikes("OUTcue")
    for at, op in ops[:2]:
        assert op.out_cues == []
        frag = op.content
        got = sorted(set(i_out[t_out == at + 12].tolist()))
        stored = {}
        for kind, c, b in FUNCTIONAL_SCENARIO[: at // 13]:
            if kind == "learn":
                stored[c] = _bits(N, b)
        exp = sorted(c for c, p in stored.items() if np.any(p & frag))
        assert got == exp


def test_functional_scenario_weights_on_numba_are_spynnaker_s_rule():
    """The same 9 operations on the reference: both plastic projections end at the hand
    replay of sPyNNaker's rule (forgetting included: a coincident post spike depresses), and
    the recalled associations stand at (nearly) w_max, above pyNN.brian2's recall threshold."""
    mem = CA3Memory(C, N, backend="numba", read_lag=3)
    stored = {}
    for k, (kind, cue, bits) in enumerate(FUNCTIONAL_SCENARIO):
        if kind == "learn":
            mem.learn(cue, _bits(N, bits), at=13 * k)
            stored[cue] = _bits(N, bits)
        elif kind == "recall_cue":
            mem.recall(cue=cue, at=13 * k)
        else:
            mem.recall(content=_bits(N, bits), at=13 * k)
    sim = mem.sim
    for label, pre_lab, post_lab, n_pre, n_post in (
        (PLASTIC_CUE_TO_CONTENT, "CA3cueCueRecall", "CA3contCueRecall", C, N),
        (PLASTIC_CONTENT_TO_CUE, "CA3contContRecall", "CA3cueContRecall", N, C),
    ):
        st = mem.network.projections[label].synapse_type
        kw = _rule_kw(st, d=st.delay)
        w_hand = _hand_weights(
            spynnaker_rule, _trains(sim, pre_lab, n_pre), _trains(sim, post_lab, n_post), **kw
        )
        np.testing.assert_allclose(sim.weights(label), w_hand, rtol=0, atol=TOL)
    w = mem.weights()["cue_to_content"]
    # cues recalled by cue (0 and 3) hold their pattern at >= 0.9 w_max, nothing else
    for c in (0, 3):
        assert np.all(w[c, stored[c]] > 0.9 * CA3Params().w_max)
        assert np.all(w[c, ~stored[c]] < 0.2 * recall_threshold(CA3Params()))
