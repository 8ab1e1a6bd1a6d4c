"""CA3Memory.save/load: a loaded memory recalls what the saved one learned; bad files."""

from __future__ import annotations

import json

import numpy as np
import pytest

from neuromem.ca3 import CA3Memory
from neuromem.ca3.memory import CA3_FORMAT_VERSION


@pytest.fixture(scope="module")
def trained():
    rng = np.random.default_rng(0)
    mem = CA3Memory(6, 20)
    pats = rng.random((6, 20)) < 0.2
    pats[:, 0] = True
    for c in range(6):
        mem.learn(c, pats[c])
    mem.recall(content=pats[2])
    mem.learn(1, pats[4])  # forgetting by re-learning is in the log too
    return mem, pats


def test_loaded_memory_recalls_the_same(trained, tmp_path):
    mem, pats = trained
    path = mem.save(tmp_path / "ca3")
    assert path.name == "ca3.npz"
    back = CA3Memory.load(path)
    assert (back.n_cues, back.n_content, back.backend) == (6, 20, "numba")
    assert back.time == mem.time and back.next_free == mem.next_free
    assert [op.kind for op in back.operations] == [op.kind for op in mem.operations]
    for name, w in mem.weights().items():
        np.testing.assert_array_equal(back.weights()[name], w)
    # same spikes so far, and the same answers from now on
    for label in ("OUTcue", "OUTcont"):
        for a, b in zip(mem.spikes(label), back.spikes(label)):
            np.testing.assert_array_equal(a, b)
    for c in range(6):
        np.testing.assert_array_equal(back.recall(cue=c).pattern, mem.recall(cue=c).pattern)
    np.testing.assert_array_equal(back.recall(cue=1).pattern, pats[4])
    assert back.recall(content=pats[3]).cues == mem.recall(content=pats[3]).cues


def test_bad_files(trained, tmp_path):
    mem, _ = trained
    with pytest.raises(FileNotFoundError, match="path"):
        CA3Memory.load(tmp_path / "missing.npz")
    with pytest.raises(FileNotFoundError, match="path: folder"):
        mem.save(tmp_path / "no" / "such" / "dir.npz")
    junk = tmp_path / "junk.npz"
    junk.write_bytes(b"not a zip file")
    with pytest.raises(ValueError, match="not a CA3 memory file"):
        CA3Memory.load(junk)
    # another format version, and tampered weights, are refused
    path = mem.save(tmp_path / "good.npz")
    with np.load(path) as z:
        arrays = {k: z[k] for k in z.files}
    header = json.loads(str(arrays["__header__"]))
    header["meta"]["format_version"] = CA3_FORMAT_VERSION + 1
    np.savez(tmp_path / "v2.npz", **{**arrays, "__header__": np.array(json.dumps(header))})
    with pytest.raises(ValueError, match="format version"):
        CA3Memory.load(tmp_path / "v2.npz")
    w = arrays["w_cue_to_content"].copy()
    w[np.isfinite(w)] = 3.0
    np.savez(tmp_path / "tampered.npz", **{**arrays, "w_cue_to_content": w})
    with pytest.raises(ValueError, match="differ from the saved"):
        CA3Memory.load(tmp_path / "tampered.npz")
    header["kind"] = "sparsey"
    np.savez(tmp_path / "kind.npz", **{**arrays, "__header__": np.array(json.dumps(header))})
    with pytest.raises(ValueError, match="not a CA3 memory file"):
        CA3Memory.load(tmp_path / "kind.npz")


def test_empty_memory_round_trip(tmp_path):
    back = CA3Memory.load(CA3Memory(2, 4).save(tmp_path / "empty.npz"))
    assert back.operations == [] and back.time == 0
    back.learn(0, [1, 0, 0, 1])
    assert back.recall(cue=0).pattern.astype(int).tolist() == [1, 0, 0, 1]
