"""The CA3 memory: learn, recall by cue and by fragment, forgetting, bad input."""

from __future__ import annotations

import numpy as np
import pytest

from neuromem.ca3 import CA3Memory, read_trace
from neuromem.ca3.trace import compare


def bits(n, idx):
    b = np.zeros(n, int)
    b[list(idx)] = 1
    return b


@pytest.fixture(scope="module")
def paper_memory():
    """The recording's first three learns, 10 ms apart (as on the board)."""
    mem = CA3Memory(5, 10)
    mem.learn(0, bits(10, [0, 1, 8, 9]), at=0)
    mem.learn(4, bits(10, [1, 5, 6]), at=10)
    mem.learn(3, bits(10, [4, 5, 6]), at=20)
    return mem


def test_recall_by_cue_and_content(paper_memory):
    mem = paper_memory
    assert np.flatnonzero(mem.recall(cue=0).pattern).tolist() == [0, 1, 8, 9]
    assert mem.recall(content=bits(10, [6])).cues == [3, 4]
    op = mem.recall(content=bits(10, [0, 4]), with_patterns=True)
    assert op.cues == [0, 3]
    assert np.flatnonzero(op.patterns[3]).tolist() == [4, 5, 6]


def test_forgetting_by_relearning():
    mem = CA3Memory(5, 10)
    mem.learn(4, bits(10, [1, 5, 6]))
    mem.learn(3, bits(10, [4, 5, 6]), at=10)
    assert mem.recall(content=bits(10, [6])).cues == [3, 4]
    mem.learn(3, bits(10, [1, 3, 4, 8]))
    assert np.flatnonzero(mem.recall(cue=3).pattern).tolist() == [1, 3, 4, 8]
    assert mem.recall(content=bits(10, [6])).cues == [4]  # cue 3 no longer holds bit 6


def test_functional_via_memory_matches_recording(golden_dir):
    """The 9 operations of the functional recording (every 10 ms) through the memory API."""
    path = golden_dir / "ca3" / "functional_c5_n10.csv"
    if not path.is_file():
        pytest.skip(f"{path} not found")
    mem = CA3Memory(5, 10)
    mem.learn(0, bits(10, [0, 1, 8, 9]), at=0)
    mem.learn(4, bits(10, [1, 5, 6]), at=10)
    mem.learn(3, bits(10, [4, 5, 6]), at=20)
    assert np.flatnonzero(mem.recall(cue=0, at=30).pattern).tolist() == [0, 1, 8, 9]
    assert mem.recall(content=bits(10, [6]), at=40).cues == [3, 4]
    assert mem.recall(content=bits(10, [0, 4]), at=50).cues == [0, 3]
    mem.learn(3, bits(10, [1, 3, 4, 8]), at=60)
    assert np.flatnonzero(mem.recall(cue=3, at=70).pattern).tolist() == [1, 3, 4, 8]
    assert mem.recall(content=bits(10, [6]), at=80).cues == [4]
    tr = mem.trace()
    tr.spikes = {k: (t[t < 90], i[t < 90]) for k, (t, i) in tr.spikes.items()}
    assert compare(read_trace(path), tr).identical


def test_back_to_back_learns_sharing_bits_interfere():
    """At the 7 ms minimum spacing, a learn whose pattern shares bits with the previous one
    erases the previous cue's content->cue association (the new content spikes follow the
    previous cue's spikes closely enough to depress it); 3 ms more and both survive."""
    for gap, expected in ((0, [1]), (3, [0, 1])):
        mem = CA3Memory(2, 4)
        mem.learn(0, [1, 1, 0, 0])
        mem.learn(1, [0, 1, 1, 0], at=mem.next_free + gap)
        assert mem.recall(content=[0, 1, 0, 0]).cues == expected


def test_minimum_spacing_and_times():
    mem = CA3Memory(2, 3)
    a = mem.learn(0, [1, 0, 0])
    b = mem.recall(cue=0)
    c = mem.recall(content=[1, 0, 0])
    assert (a.t, b.t, c.t) == (0, 7, 13)
    with pytest.raises(ValueError, match="minimum spacing"):
        mem.recall(cue=0, at=18)
    assert mem.recall(cue=0, at=30).t == 30
    mem.sim.run(20.0)  # the simulation was advanced by hand: operations start after it
    assert mem.earliest == int(mem.time) - 1
    with pytest.raises(ValueError, match="minimum spacing"):
        mem.recall(cue=0, at=40)
    assert mem.recall(cue=0).out_content.tolist() == [True, False, False]


def test_statemap_via_memory_matches_recording(golden_dir):
    """The 20 operations of the state-map recording, issued through the memory API at minimum
    spacing, reproduce the board's spikes exactly."""
    path = golden_dir / "ca3" / "statemap_c16_n6.csv"
    if not path.is_file():
        pytest.skip(f"{path} not found")
    mem = CA3Memory(16, 6)
    for cue, b in enumerate([0, 5, 1, 3, 0, 3, 4, 5, 0, 5, 4, 3, 2, 4, 4, 3]):
        mem.learn(cue, bits(6, [b]))
    for frag in ([1, 2, 4], [3], [5], [0]):
        mem.recall(content=bits(6, frag))
    tr = mem.trace()
    tr.spikes = {k: (t[t < 140], i[t < 140]) for k, (t, i) in tr.spikes.items()}
    assert compare(read_trace(path), tr).identical


@pytest.mark.parametrize(
    "call, exc, match",
    [
        (lambda m: m.learn(5, bits(4, [0])), ValueError, "out of range"),
        (lambda m: m.learn(-1, bits(4, [0])), ValueError, "out of range"),
        (lambda m: m.learn(1.0, bits(4, [0])), TypeError, "cue"),
        (lambda m: m.learn(0, bits(5, [0])), ValueError, "length"),
        (lambda m: m.learn(0, [0, 2, 0, 0]), ValueError, "binary"),
        (lambda m: m.learn(0, [0, np.nan, 0, 0]), ValueError, "binary"),
        (lambda m: m.learn(0, [0, 0, 0, 0]), ValueError, "at least one"),
        (lambda m: m.recall(content=[0, 0, 0, 0]), ValueError, "empty"),
        (lambda m: m.recall(), ValueError, "exactly one"),
        (lambda m: m.recall(cue=0, content=[1, 0, 0, 0]), ValueError, "exactly one"),
        (lambda m: m.spikes("OUTx"), ValueError, "unknown population"),
    ],
)
def test_bad_input_simulates_nothing(call, exc, match):
    mem = CA3Memory(3, 4)
    with pytest.raises(exc, match=match):
        call(mem)
    assert mem.time == 0.0 and mem.operations == []


def test_outputs_numpy_neo_and_raster(paper_memory):
    neo = pytest.importorskip("neo")
    mem = paper_memory
    t, i = mem.spikes("OUTcont")
    assert t.dtype.kind == "f" and len(t) == len(i) > 0
    w = mem.weights()
    assert w["cue_to_content"].shape == (5, 10) and w["content_to_cue"].shape == (10, 5)
    assert np.nanmax(w["cue_to_content"]) <= 6.0
    blocks = mem.to_neo()
    assert isinstance(blocks["OUTcont"], neo.Block)
    assert isinstance(mem.to_neo("OUTcont"), neo.Block)
    fig = mem.plot_raster()
    assert len(fig.axes) == 12
    for ax in fig.axes:  # rows are neurons: whole-number ticks only, one-neuron rows too
        assert all(float(t).is_integer() for t in ax.get_yticks()), ax.get_ylabel()
    import matplotlib.pyplot as plt

    plt.close(fig)


def test_numpy_integer_sizes_are_accepted_and_floats_refused():
    mem = CA3Memory(np.int64(5), np.int32(10))
    assert (type(mem.n_cues), type(mem.n_content)) == (int, int)
    assert mem.learn(np.int64(0), bits(10, [0, 9])).out_cues == [0]
    with pytest.raises(TypeError, match="n_cues must be an int, got float"):
        CA3Memory(5.0, 10)
    with pytest.raises(TypeError, match="n_content must be an int, got bool"):
        CA3Memory(5, True)
    with pytest.raises(ValueError, match="n_cues must be >= 1"):
        CA3Memory(np.int64(0), 10)
