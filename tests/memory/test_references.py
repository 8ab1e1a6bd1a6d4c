"""The textbook reference memories: Willshaw (clipped Hebbian) and Kanerva's SDM."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from neuromem.memory.sdm import SparseDistributedMemory
from neuromem.memory.willshaw import WillshawMemory
from neuromem.protocols import auc, corrupt

N, K_ITEM, KEY, K_KEY = 128, 7, 128, 7


def _willshaw(seed=0, **kw):
    kw = {"key_size": KEY, "key_active": K_KEY, **kw}
    return WillshawMemory(N, K_ITEM, seed=seed, **kw)


# ----------------------------------------------------------------------------- Willshaw
def test_willshaw_low_load_is_exact_by_key_and_from_partial_cues():
    m = _willshaw()
    X = m.random_items(30, 1)
    keys = m.store(X)
    r = m.recall(keys, by="key")
    assert (r.items == X).all()
    assert np.allclose(r.confidence, 1.0)
    rc = m.recall(corrupt(X, 0.3, "drop", 2), by="content")
    assert (rc.items == X).all()
    assert (rc.keys == keys).all()
    # a flipped cue (wrong bits) is cleaned up by winners-take-k
    rf = m.recall(corrupt(X, 0.3, "flip", 3), by="content")
    assert (rf.items == X).mean() > 0.99


def _expected_spurious(M: int) -> float:
    """Willshaw's spurious output units per key recall, with the spread of unit usage.

    An output unit outside the item was active in n ~ Binomial(M-1, k/N) other items; each
    switched on the synapses from its key code (ka of K units), so a given cue synapse is on
    with probability 1 - (1 - ka/K)**n, and all ka of them with that to the power ka.
    """
    n = np.arange(M)
    pn = stats.binom.pmf(n, M - 1, K_ITEM / N)
    return (N - K_ITEM) * float(np.sum(pn * (1 - (1 - K_KEY / KEY) ** n) ** K_KEY))


@pytest.mark.parametrize("M", [200, 300, 400])
def test_willshaw_spurious_bits_follow_theory(M):
    spurious = []
    for seed in range(4):
        m = _willshaw(seed=seed)
        X = m.random_items(M, 100 + seed)
        r = m.recall(m.store(X), by="key")
        assert (r.items >= X).all()  # clipped Hebbian never loses a stored bit
        spurious.append((r.items.sum(axis=1) - K_ITEM).mean())
    assert np.mean(spurious) == pytest.approx(_expected_spurious(M), rel=0.2)


def test_willshaw_fill_matches_theory_and_recall_degrades():
    M = 300
    m = _willshaw(seed=5)
    X = m.random_items(M, 6)
    keys = m.store(X)
    p1 = 1 - (1 - K_ITEM * K_KEY / (N * KEY)) ** M
    assert m.load_fraction[1] == pytest.approx(p1, abs=0.02)
    exact = (m.recall(keys, by="key").items == X).all(axis=1).mean()
    assert exact < 0.2  # far past capacity (theory: about 1 %)


def test_willshaw_confidence_separates_stored_from_novel_until_saturation():
    m = _willshaw(seed=7)
    g = np.random.default_rng(8)
    X = m.random_items(60, g)
    m.store(X)
    novel = m.random_items(60, g)
    low = auc(m.recall(X).confidence, m.recall(novel).confidence)
    assert low > 0.95
    m.store(m.random_items(3000, g))  # auto matrix nearly full
    high = auc(m.recall(X).confidence, m.recall(novel).confidence)
    assert abs(high - 0.5) < 0.1


def test_willshaw_sizing_by_synapses():
    m = WillshawMemory(128, 12, n_synapses=16384)
    assert m.size_bits <= 16384
    assert m.size_bits == 128 * 129 // 2 + 128 * m.key_size
    assert 16384 - m.size_bits < 128
    d = WillshawMemory(n_synapses=65536)
    assert d.item_size == d.key_size and d.size_bits <= 65536


def test_willshaw_threshold_retrieval_fails_on_flipped_cues_wta_does_not():
    g = np.random.default_rng(9)
    thr = _willshaw(seed=1, retrieval="threshold")
    wta = _willshaw(seed=1)
    X = thr.random_items(40, g)
    thr.store(X)
    wta.store(X)
    cue = corrupt(X, 0.3, "flip", g)
    assert (thr.recall(cue).items == X).all(axis=1).mean() < 0.2
    assert (wta.recall(cue).items == X).all(axis=1).mean() >= 0.8


def test_willshaw_save_load_round_trip(tmp_path):
    m = _willshaw(seed=3)
    X = m.random_items(50, 4)
    m.store(X, keys=np.arange(100, 150))
    p = m.save(tmp_path / "w")
    back = WillshawMemory.load(p)
    assert back.keys.tolist() == m.keys.tolist()
    cue = corrupt(X, 0.2, "drop", 5)
    a, b = m.recall(cue), back.recall(cue)
    assert (a.items == b.items).all() and (a.keys == b.keys).all()
    assert np.array_equal(a.confidence, b.confidence)
    # the key-code generator continues where it stopped: same codes for the next items
    Y = m.random_items(5, 6)
    m.store(Y)
    back.store(Y)
    assert np.array_equal(m._codes, back._codes)
    with pytest.raises(ValueError, match="sdm"):
        SparseDistributedMemory.load(p)


def test_willshaw_cannot_forget():
    m = _willshaw()
    k = m.store(m.random_items(3, 0))
    assert not m.can_forget
    with pytest.raises(NotImplementedError, match="willshaw"):
        m.forget(k[:1])


@pytest.mark.parametrize(
    "kwargs, err, match",
    [
        ({"item_size": 1}, ValueError, "item_size"),
        ({"item_size": 16.0}, TypeError, "item_size"),
        ({"item_size": 16, "item_active": 20}, ValueError, "item_active"),
        ({"item_size": 16, "retrieval": "best"}, ValueError, "retrieval"),
        ({"item_size": 16, "iterations": 0}, ValueError, "iterations"),
        ({"item_size": 64, "n_synapses": 2000}, ValueError, "n_synapses"),
        ({"item_size": 64, "n_synapses": 9000, "key_size": 10}, ValueError, "not both"),
        ({}, ValueError, "item_size or n_synapses"),
        ({"item_size": 16, "seed": -1}, ValueError, "seed"),
    ],
)
def test_willshaw_bad_arguments(kwargs, err, match):
    with pytest.raises(err, match=match):
        WillshawMemory(**kwargs)


def test_bad_items_and_cues_are_refused():
    m = _willshaw()
    with pytest.raises(ValueError, match="items"):
        m.store(np.full((2, N), 2))
    with pytest.raises(ValueError, match="cue"):
        m.recall(np.zeros((2, N + 1), np.uint8))
    with pytest.raises(KeyError, match="cue"):
        m.recall([5], by="key")


# ---------------------------------------------------------------------------------- SDM
def test_sdm_radius_activates_the_fraction_theory_predicts():
    m = SparseDistributedMemory(256, 128, n_locations=2000, active_fraction=0.03, seed=0)
    X = m.random_items(200, 1)
    half = 128
    # d = half + active - 2 * overlap <= radius  <=>  overlap >= (half + active - radius) / 2
    t = np.ceil((half + 128 - m.radius) / 2)
    p = stats.hypergeom(256, half, 128).sf(t - 1)
    assert p >= 0.03
    measured = m.active_counts(X).mean() / m.n_locations
    assert measured == pytest.approx(p, rel=0.1)


def test_sdm_recalls_at_low_load_and_fails_at_high_load():
    m = SparseDistributedMemory(256, n_locations=2000, seed=2)
    g = np.random.default_rng(3)
    X = m.random_items(10, g)
    keys = m.store(X)
    assert (m.recall(keys, by="key").items == X).all()
    rc = m.recall(corrupt(X, 0.05, "flip", g))
    assert (rc.items == X).all(axis=1).mean() >= 0.9
    assert (rc.keys == keys).mean() >= 0.9
    novel = m.random_items(50, g)
    assert auc(m.recall(X).confidence, m.recall(novel).confidence) > 0.95
    more = m.random_items(400, g)
    m.store(more)
    assert (m.recall(keys, by="key").items == X).all(axis=1).mean() < 0.2


def test_sdm_sizing_and_saturating_counters():
    m = SparseDistributedMemory(128, 12, n_counters=16384)
    assert m.n_locations == 16384 // (128 + 64) and m.size_bits <= 16384
    s = SparseDistributedMemory(64, n_locations=50, counter_bits=2, active_fraction=0.5, seed=1)
    s.store(s.random_items(30, 2))
    assert np.abs(s._C).max() == 1  # 2-bit counters saturate at +-1


def test_sdm_save_load_round_trip(tmp_path):
    m = SparseDistributedMemory(64, n_locations=300, seed=4)
    X = m.random_items(12, 5)
    m.store(X)
    back = SparseDistributedMemory.load(m.save(tmp_path / "s.npz"))
    a, b = m.recall(X), back.recall(X)
    assert (a.items == b.items).all() and (a.keys == b.keys).all()
    assert np.array_equal(a.confidence, b.confidence)
    assert back.radius == m.radius and back.keys.tolist() == m.keys.tolist()


@pytest.mark.parametrize(
    "kwargs, err, match",
    [
        ({"n_locations": 10, "n_counters": 1000}, ValueError, "exactly one"),
        ({}, ValueError, "exactly one"),
        ({"n_counters": 10}, ValueError, "n_counters"),
        ({"n_locations": 10, "active_fraction": 0.0}, ValueError, "active_fraction"),
        ({"n_locations": 10, "active_fraction": "x"}, TypeError, "active_fraction"),
        ({"n_locations": 10, "counter_bits": 20}, ValueError, "counter_bits"),
        ({"n_locations": 10, "item_active": 300}, ValueError, "item_active"),
        ({"n_locations": 0}, ValueError, "n_locations"),
    ],
)
def test_sdm_bad_arguments(kwargs, err, match):
    with pytest.raises(err, match=match):
        SparseDistributedMemory(64, **kwargs)


def test_memory_load_picks_the_class_from_the_file(tmp_path):
    """neuromem.memory.load reads the kind from the file's header (.npz added as on save)."""
    from neuromem.memory import create, load
    from neuromem.memory.sdm import SparseDistributedMemory

    m = create("sdm", item_size=32, item_active=4, n_counters=2048, seed=0)
    X = m.random_items(3, 1)
    keys = m.store(X)
    m.save(tmp_path / "m")
    back = load(tmp_path / "m")
    assert isinstance(back, SparseDistributedMemory)
    assert (back.recall(keys, by="key").items == m.recall(keys, by="key").items).all()
    (tmp_path / "junk.npz").write_bytes(b"junk")
    with pytest.raises(ValueError, match="junk.npz is not a neuromem memory file"):
        load(tmp_path / "junk.npz")
    with pytest.raises(FileNotFoundError, match="path: no such file"):
        load(tmp_path / "none.npz")
