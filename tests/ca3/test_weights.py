"""Initial learned weights: a CA3 memory built with given weights, read back, saved, loaded."""

from __future__ import annotations

import numpy as np
import pytest

from neuromem.ca3 import CA3Memory, build_network
from neuromem.ca3.network import PLASTIC_CONTENT_TO_CUE, PLASTIC_CUE_TO_CONTENT

C, N = 5, 10
PATTERNS = {0: [0, 1, 8, 9], 3: [4, 5, 6]}


def preloaded() -> dict[str, np.ndarray]:
    """Saturated (6 nA) weights from each cue to its pattern's bits and back."""
    w1, w2 = np.zeros((C, N)), np.zeros((N, C))
    for cue, b in PATTERNS.items():
        w1[cue, b] = 6.0
        w2[b, cue] = 6.0
    return {"cue_to_content": w1, "content_to_cue": w2}


def test_preloaded_memory_recalls_without_learning():
    w = preloaded()
    mem = CA3Memory(C, N, weights=w)
    for name in w:
        np.testing.assert_array_equal(mem.weights()[name], w[name])  # read back before a run
        assert mem.initial_weights[name] is not w[name]  # a copy
    assert np.flatnonzero(mem.recall(cue=0).pattern).tolist() == [0, 1, 8, 9]
    assert np.flatnonzero(mem.recall(cue=3).pattern).tolist() == [4, 5, 6]
    assert mem.recall(content=np.eye(N)[5]).cues == [3]
    assert mem.recall(content=np.eye(N)[0]).cues == [0]
    assert not mem.recall(cue=1).pattern.any()  # nothing preloaded for cue 1
    # the paper's memory (no weights given) knows nothing
    assert not CA3Memory(C, N).recall(cue=0).pattern.any()


def test_one_direction_only_and_the_network_description():
    w = preloaded()["content_to_cue"]
    net = build_network(C, N, weights={"content_to_cue": w})
    pr = net.projections[PLASTIC_CONTENT_TO_CUE]
    assert len(pr) == C * N
    pre, post = pr.connections()
    np.testing.assert_array_equal(pr.initial_weights(), w[pre, post])
    assert np.all(net.projections[PLASTIC_CUE_TO_CONTENT].initial_weights() == 0.0)
    mem = CA3Memory(C, N, weights={"content_to_cue": w})
    assert mem.recall(content=np.eye(N)[6]).cues == [3]  # content -> cue preloaded
    assert not mem.recall(cue=3).pattern.any()  # cue -> content still 0


def test_initial_weights_survive_save_and_load(tmp_path):
    mem = CA3Memory(C, N, weights=preloaded())
    mem.learn(1, np.eye(N)[2].astype(bool))
    mem.recall(cue=0)
    back = CA3Memory.load(mem.save(tmp_path / "m"))
    for name, w in preloaded().items():
        np.testing.assert_array_equal(back.initial_weights[name], w)
        np.testing.assert_array_equal(back.weights()[name], mem.weights()[name])
    assert back.recall(content=np.eye(N)[4]).cues == mem.recall(content=np.eye(N)[4]).cues == [3]


@pytest.mark.parametrize(
    "weights, exc, match",
    [
        ([[0.0]], TypeError, "weights must be a dict"),
        ({"cue_to_cue": np.zeros((C, C))}, ValueError, "unknown name 'cue_to_cue'"),
        ({"cue_to_content": np.zeros((N, C))}, ValueError, r"expected shape \(5, 10\)"),
        ({"content_to_cue": np.full((N, C), np.nan)}, ValueError, "NaN or infinite"),
        ({"cue_to_content": np.full((C, N), 6.5)}, ValueError, r"in \[0, w_max=6.0\]"),
        ({"cue_to_content": -np.ones((C, N))}, ValueError, r"in \[0, w_max=6.0\]"),
        ({"cue_to_content": [["a"] * N] * C}, TypeError, "array of numbers"),
    ],
)
def test_bad_weights_are_refused_naming_the_entry(weights, exc, match):
    with pytest.raises(exc, match=match):
        CA3Memory(C, N, weights=weights)
