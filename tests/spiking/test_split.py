"""A network cut into population slices (neuromem.spiking.split) is the same network: same
connections, and on the exact backends the same spikes and weights as the uncut network,
read back under the original labels and indices."""

from __future__ import annotations

import numpy as np
import pytest

from neuromem.ca3 import CA3Memory
from neuromem.ca3.network import build_network
from neuromem.spiking import create
from neuromem.spiking.split import SlicedSimulator, slice_bounds, split_network

C, N = 7, 10
PATTERNS = [
    [1, 1, 0, 0, 1, 0, 0, 0, 1, 0],
    [0, 1, 0, 1, 0, 1, 0, 0, 1, 0],
    [1, 0, 0, 0, 0, 1, 1, 0, 0, 0],
    [0, 0, 1, 0, 0, 0, 0, 1, 0, 1],
]


def _ops(lag: int = 0, n_learn: int = len(PATTERNS), n_bits: int = N):
    """Learn ``n_learn`` cues, recall each by cue, one by a fragment of its content."""
    ops, t = [], 2
    for k, p in enumerate(PATTERNS[:n_learn]):
        ops.append((t, "learn", k, p[:n_bits]))
        t += 7 + lag
    for k in range(n_learn):
        ops.append((t, "recall_cue", k, None))
        t += 6 + lag
    ops.append((t, "recall_content", None, [0, 1, 0, 1] + [0] * (n_bits - 4)))
    return ops


@pytest.mark.parametrize("size,k", [(10, 4), (7, 3), (254, 254), (255, 254), (1000, 254)])
def test_slice_bounds_cover_in_order_and_balanced(size, k):
    b = slice_bounds(size, k)
    assert b[0][0] == 0 and b[-1][1] == size
    assert all(x[1] == y[0] for x, y in zip(b, b[1:]))
    lens = [y - x for x, y in b]
    assert max(lens) <= k and max(lens) - min(lens) <= 1
    assert len(b) == -(-size // k)


def test_split_keeps_every_synapse_and_bounds_every_row():
    rng = np.random.default_rng(3)
    w = {"cue_to_content": rng.uniform(0, 6, (C, N))}
    net = build_network(C, N, weights=w)
    plan = split_network(net, 3)
    assert plan.is_split
    for label, pr in net.projections.items():
        pre, post = pr.connections()
        want = {(int(a), int(b)): x for a, b, x in zip(pre, post, pr.initial_weights())}
        got = {}
        for part, pa, qa in plan.parts[label]:
            sp = plan.network.projections[part]
            assert sp.synapse_type is pr.synapse_type and sp.receptor_type == pr.receptor_type
            a, b = sp.connections()
            assert sp.pre.size <= 3 and sp.post.size <= 3  # no row longer than a slice
            for x, y, v in zip(a, b, sp.initial_weights()):
                assert (int(x) + pa, int(y) + qa) not in got
                got[(int(x) + pa, int(y) + qa)] = v
        assert got == want, label


def test_unsplit_network_is_built_as_it_is():
    net = build_network(C, N)
    assert not isinstance(create(net, "numba", slice_size=N), SlicedSimulator)
    assert isinstance(create(net, "numba", slice_size=N - 1), SlicedSimulator)


@pytest.mark.parametrize(
    "bad,err", [(0, ValueError), (-3, ValueError), (2.5, TypeError), (True, TypeError)]
)
def test_bad_slice_size_is_refused_by_name(bad, err):
    with pytest.raises(err, match="slice_size"):
        create(build_network(C, N), "numba", slice_size=bad)


def _same(r0, r1):
    assert r0.labels == r1.labels
    for lab in r0.labels:
        t0, i0 = r0.spikes(lab)
        t1, i1 = r1.spikes(lab)
        assert np.array_equal(t0, t1) and np.array_equal(i0, i1), lab
    for lab, w in r0.weights.items():
        np.testing.assert_array_equal(w, r1.weights[lab], err_msg=lab)


def test_numba_memory_split_gives_the_same_spikes_answers_and_weights():
    """Operation by operation (sources changed between runs, late emission): every spike of
    every population, every answer and the learned weights equal the unsplit memory's."""
    runs = []
    for opts in ({}, {"slice_size": 3}):
        m = CA3Memory(C, N, **opts)
        answers = [m.learn(k, p).out_cues for k, p in enumerate(PATTERNS)]
        answers += [m.recall(cue=k).pattern.tolist() for k in range(len(PATTERNS))]
        answers.append(m.recall(content=[0, 1, 0, 1, 0, 0, 0, 0, 0, 0]).cues)
        runs.append((m, answers, m.result()))
    (m0, a0, r0), (m1, a1, r1) = runs
    assert isinstance(m1.sim, SlicedSimulator) and not isinstance(m0.sim, SlicedSimulator)
    assert sum(r0.spike_counts().values()) > 100  # the memory did something
    assert a0 == a1
    _same(r0, r1)
    for k, w in m0.weights().items():
        np.testing.assert_array_equal(w, m1.weights()[k])


@pytest.mark.parametrize(
    "backend",
    ["brian2", pytest.param("pynn:brian2", marks=pytest.mark.slow), "pynn:nest"],
    indirect=True,
)
def test_schedule_split_gives_the_same_spikes(backend):
    """The whole schedule in one run: the split network's spikes equal the unsplit one's
    (pyNN.brian2 builds every projection slowly: a smaller memory there, only its content
    populations cut)."""
    pynn = backend == "pynn:brian2"
    lag = 3 if pynn else 0
    c, n, k = (4, 6, 2) if pynn else (C, N, len(PATTERNS))
    res = []
    for opts in ({}, {"slice_size": 4}):  # pyNN.brian2: the 6 content neurons cut in two
        m = CA3Memory(c, n, backend=backend, read_lag=lag, **opts)
        ops = m.run_schedule(_ops(lag, k, n))
        assert isinstance(m.sim, SlicedSimulator) == bool(opts)
        res.append(([(o.out_cues, o.pattern.tolist()) for o in ops], m.result()))
    assert res[0][0] == res[1][0]
    assert sum(res[0][1].spike_counts().values()) > 100
    _same(res[0][1], res[1][1])


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["pynn:brian2"], indirect=True)
def test_embedding_a_sliced_memory_connects_every_slice(backend, caller_network):
    """connect_in/connect_out on a sliced memory: one projection per slice, from and to the
    matching views of the caller's populations; the caller's cue 0 recalls the preloaded
    pattern in the caller's reader cells, under the original indices (pyNN.brian2 builds
    projections slowly: only the content populations are cut here)."""
    from neuromem.spiking.split import PyNNSlices

    def wire(sim, pops):
        assert isinstance(pops["OUTcont"], PyNNSlices) and len(pops["OUTcont"].slices) == 2
        caller_network.wire(sim, pops)

    mem = CA3Memory(5, 10, backend=backend, weights=caller_network.weights, on_build=wire,
                    slice_size=5)  # fmt: skip
    mem.sim.run(20.0)
    mine = caller_network.mine
    assert not isinstance(mine["in"], list) and len(mine["out"]) == 2  # cues: one slice
    assert caller_network.fired() == [0, 1, 8, 9]
    assert sorted(set(mem.spikes("OUTcont")[1].tolist())) == [0, 1, 8, 9]


def test_connect_in_slices_the_callers_population_as_the_memory():
    from types import SimpleNamespace

    from neuromem.ca3 import connect_in
    from neuromem.spiking.split import PyNNSlices

    calls = []
    fake = SimpleNamespace(
        Projection=lambda *a, **k: calls.append((a, k)) or len(calls),
        OneToOneConnector=lambda: "one-to-one",
        FromListConnector=lambda pairs: ("list", pairs),
        StaticSynapse=lambda **k: ("static", k),
    )
    parts = [SimpleNamespace(size=s) for s in (4, 3, 3)]
    sliced = PyNNSlices("CA3contCueRecall", list(zip(parts, (0, 4, 7), (4, 7, 10))))
    mine = SimpleNamespace(size=10)
    assert connect_in(fake, {"CA3contCueRecall": sliced}, mine, "content") == [1, 2, 3]
    assert [c[0][:3] for c in calls] == [
        (mine, parts[0], ("list", [(0, 0), (1, 1), (2, 2), (3, 3)])),
        (mine, parts[1], ("list", [(4, 0), (5, 1), (6, 2)])),
        (mine, parts[2], ("list", [(7, 0), (8, 1), (9, 2)])),
    ]
    assert [c[1]["label"] for c in calls] == [
        "connect_in:content[0:4]",
        "connect_in:content[4:7]",
        "connect_in:content[7:10]",
    ]
    with pytest.raises(ValueError, match="sizes differ"):
        connect_in(fake, {"CA3contCueRecall": sliced}, SimpleNamespace(size=9), "content")
