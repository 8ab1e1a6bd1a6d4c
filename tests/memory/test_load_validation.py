"""Memory files: truncated, empty or corrupt files raise ValueError naming the file; contents
are checked on load (shapes, ranges, finiteness, keys); save and load agree on ``.npz``
(issue 17)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from neuromem.memory import create, load
from neuromem.memory.sdm import SparseDistributedMemory
from neuromem.memory.willshaw import WillshawMemory

BUILD = {
    "willshaw": lambda: WillshawMemory(32, 4, seed=0),
    "sdm": lambda: SparseDistributedMemory(32, 4, n_locations=64, seed=0),
    "ca3": lambda: create("ca3", item_size=16, n_cues=6),
    "pmi": lambda: create("pmi", item_size=16, n_slots=4, use_ltm=False, seed=0),
}


def _stored(name):
    mem = BUILD[name]()
    mem.store(mem.random_items(3, np.random.default_rng(1)))
    return mem


def _rewrite(path, meta=None, **arrays):
    with np.load(path) as z:
        data = {k: z[k] for k in z.files}
    header = json.loads(str(data["__header__"]))
    header["meta"].update(meta or {})
    data["__header__"] = np.array(json.dumps(header))
    data.update(arrays)
    np.savez(path, **data)


@pytest.mark.parametrize("name", list(BUILD))
def test_save_and_load_agree_on_the_suffix(tmp_path, name):
    mem = _stored(name)
    written = mem.save(tmp_path / "x")
    assert written == tmp_path / "x.npz"
    for p in (tmp_path / "x", written):
        back = type(mem).load(p)
        assert back.keys.tolist() == mem.keys.tolist()
        assert type(load(p)) is type(mem)


@pytest.mark.parametrize("name", list(BUILD))
@pytest.mark.parametrize("damage", ["empty", "truncated", "garbage"])
def test_unreadable_files_raise_value_error_naming_the_file(tmp_path, name, damage):
    p = _stored(name).save(tmp_path / "m")
    data = p.read_bytes()
    bad = {"empty": b"", "truncated": data[: len(data) // 3], "garbage": b"\x00" * 64}
    p.write_bytes(bad[damage])
    for loader in (load, type(_stored(name)).load):
        with pytest.raises(ValueError, match=r"m\.npz"):
            loader(p)


@pytest.mark.parametrize("name", list(BUILD))
def test_missing_entries_and_bad_keys_are_value_errors(tmp_path, name):
    mem = _stored(name)
    p = mem.save(tmp_path / "m")
    with np.load(p) as z:
        data = {k: z[k] for k in z.files}
    header = json.loads(str(data["__header__"]))
    saved = dict(header["meta"])
    del header["meta"]["keys"]
    data["__header__"] = np.array(json.dumps(header))
    np.savez(p, **data)
    with pytest.raises(ValueError, match=r"m\.npz is not a valid .* missing entry 'keys'"):
        type(mem).load(p)
    bad_keys = (([0, 0, 1], "same key twice"), ([0.5, 1, 2], "integers"), ([-1, 0, 1], ">= 0"))
    for keys, match in bad_keys:
        _rewrite(p, dict(saved, keys=keys))
        with pytest.raises(ValueError, match=match):
            type(mem).load(p)
    # a float array with NaN in it
    header["meta"] = saved
    data["__header__"] = np.array(json.dumps(header))
    data["extra_weights"] = np.array([1.0, np.nan])
    np.savez(p, **data)
    with pytest.raises(ValueError, match="extra_weights holds NaN"):
        type(mem).load(p)


def test_willshaw_contents_are_checked(tmp_path):
    mem = _stored("willshaw")
    p = mem.save(tmp_path / "w")
    with np.load(p) as z:
        codes, A = z["codes"], z["A"]
    _rewrite(p, codes=codes + 100)
    with pytest.raises(ValueError, match=r"codes: key units must lie in \[0, 32\)"):
        WillshawMemory.load(p)
    _rewrite(p, codes=codes[:2])
    with pytest.raises(ValueError, match="codes: 2 rows for 3 stored keys"):
        WillshawMemory.load(p)
    _rewrite(p, codes=codes, A=A[:5])
    with pytest.raises(ValueError, match=r"A: shape \(5, 32\), expected \(32, 32\)"):
        WillshawMemory.load(p)
    _rewrite(p, A=A.astype(float))
    with pytest.raises(ValueError, match="A: expected integers"):
        WillshawMemory.load(p)
    _rewrite(p, {"item_size": -3}, A=A)
    with pytest.raises(ValueError, match="item_size must be >= 2"):
        WillshawMemory.load(p)


def test_sdm_contents_are_checked(tmp_path):
    mem = _stored("sdm")
    p = mem.save(tmp_path / "s")
    with np.load(p) as z:
        C, codes = z["counters"], z["codes"]
    _rewrite(p, counters=np.full_like(C, 1000))
    with pytest.raises(ValueError, match=r"counters: must lie in \[-127, 127\]"):
        SparseDistributedMemory.load(p)
    _rewrite(p, counters=C[:3])
    with pytest.raises(ValueError, match="counters: shape"):
        SparseDistributedMemory.load(p)
    _rewrite(p, counters=C, codes=codes[:1])
    with pytest.raises(ValueError, match="tags: 3 rows for 1 codes"):
        SparseDistributedMemory.load(p)


def test_sizes_beyond_memory_are_refused_before_allocation(monkeypatch):
    monkeypatch.setenv("NEUROMEM_MEMORY_LIMIT", "1G")
    with pytest.raises(ValueError, match=r"item_size=100000, key_size=100000 .*needs about"):
        WillshawMemory(100_000)
    with pytest.raises(ValueError, match=r"n_locations=10000000, item_size=100 .*needs about"):
        SparseDistributedMemory(100, n_locations=10**7)


def test_saved_gains_and_thresholds_are_range_checked(tmp_path):
    mem = _stored("pmi")
    p = mem.save(tmp_path / "p")
    for bad in (float("nan"), -1.0, "8"):
        _rewrite(p, {"read_gain": bad})
        with pytest.raises(ValueError, match=r"p\.npz is not a valid 'pmi' memory: read_gain"):
            type(mem).load(p)
