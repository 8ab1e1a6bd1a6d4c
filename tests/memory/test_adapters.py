"""The four model adapters behind the memory interface: store/recall/forget/save/load, bad
input, seeds."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from neuromem.memory import create, load
from neuromem.memory.base import Memory

# small matched configurations, and a load each one holds exactly (measured)
CONFIGS = {
    "sparsey": (dict(item_size=128, Q=16, K=8), 20),
    "ca3": (dict(item_size=128, n_cues=24), 16),
    "tensorbrain": (dict(n_entities=16, n_predicates=8, epochs=12, n_train=1500), 16),
    "pmi": (dict(item_size=64, n_slots=16, use_ltm=False), 4),
}
NAMES = list(CONFIGS)


def build(name, seed=0, **extra) -> Memory:
    kw, _ = CONFIGS[name]
    kw = dict(kw, **extra)
    if name != "ca3":
        kw["seed"] = seed
    return create(name, **kw)


def auc(pos, neg) -> float:
    pos, neg = np.asarray(pos)[:, None], np.asarray(neg)[None, :]
    return float(np.mean((pos > neg) + 0.5 * (pos == neg)))


@pytest.fixture(scope="module")
def stored():
    """Each memory with its load stored, the items, keys and never-stored items."""
    out = {}
    for name in NAMES:
        mem = build(name)
        n = CONFIGS[name][1]
        items = mem.random_items(2 * n, np.random.default_rng(7))
        assert len(np.unique(items, axis=0)) == 2 * n
        keys = mem.store(items[:n])
        out[name] = (mem, items[:n], keys, items[n:])
    return out


@pytest.mark.parametrize("name", NAMES)
def test_recall_by_key_and_content(stored, name):
    mem, items, keys, _ = stored[name]
    assert mem.kind == name and len(mem) == len(items)
    np.testing.assert_array_equal(keys, np.arange(len(items)))
    r = mem.recall(keys, by="key")
    assert r.items.dtype == np.uint8 and r.items.shape == items.shape
    np.testing.assert_array_equal(r.keys, keys)
    assert (r.items == items).all(axis=1).mean() >= 0.9
    r = mem.recall(items, by="content")
    assert (r.items == items).all(axis=1).mean() >= 0.9
    assert (r.keys == keys).mean() >= 0.9
    assert np.isfinite(r.confidence).all()


@pytest.mark.parametrize("name", NAMES)
def test_never_stored_items_get_lower_confidence(stored, name):
    mem, items, _, foils = stored[name]
    pos = mem.recall(items).confidence
    neg = mem.recall(foils).confidence
    assert pos.mean() > neg.mean()
    assert auc(pos, neg) > 0.75


@pytest.mark.parametrize("name", NAMES)
def test_save_load_same_recall(stored, name, tmp_path):
    mem, items, keys, foils = stored[name]
    path = mem.save(tmp_path / f"{name}.npz")
    back = type(mem).load(path)
    also = load(path)  # the package-level loader picks the class from the file
    assert type(also) is type(mem)
    np.testing.assert_array_equal(back.keys, mem.keys)
    for by, cue in (("key", keys[:5]), ("content", foils[:5])):
        a, b = mem.recall(cue, by=by), back.recall(cue, by=by)
        np.testing.assert_array_equal(a.items, b.items)
        np.testing.assert_array_equal(a.keys, b.keys)
        np.testing.assert_allclose(a.confidence, b.confidence)
    other = "sparsey" if name != "sparsey" else "pmi"
    with pytest.raises(ValueError, match="memory"):
        create(other, **CONFIGS[other][0]).load(path)


@pytest.mark.parametrize("name", NAMES)
def test_forget(name):
    mem = build(name)
    items = mem.random_items(6, np.random.default_rng(3))
    keys = mem.store(items)
    if not mem.can_forget:
        with pytest.raises(NotImplementedError, match=name):
            mem.forget(keys[:1])
        assert len(mem) == 6
        return
    mem.forget(keys[:2])
    assert list(mem.keys) == list(keys[2:])
    with pytest.raises(KeyError, match="cue"):
        mem.recall(keys[:1], by="key")
    r = mem.recall(items[:2])
    assert not np.isin(r.keys, keys[:2]).any()
    kept = mem.recall(keys[2:], by="key")
    assert (kept.items == items[2:]).all(axis=1).mean() >= 0.75


@pytest.mark.parametrize("name", NAMES)
def test_bad_input_names_the_argument(stored, name):
    mem, items, keys, _ = stored[name]
    n = len(mem)
    bad = items[:2].astype(float)
    bad[0, 0] = np.nan
    with pytest.raises(ValueError, match="items.*NaN"):
        mem.store(bad)
    with pytest.raises(ValueError, match=r"items must have shape"):
        mem.store(items[:2, :-1])
    two = items[:2].copy()
    two[0, 0] = 2
    with pytest.raises(ValueError, match="items must hold only 0 and 1"):
        mem.store(two)
    with pytest.raises(ValueError, match="cue must have shape"):
        mem.recall(items[:2, :-1])
    with pytest.raises(KeyError, match="cue: keys not stored"):
        mem.recall([10_000], by="key")
    with pytest.raises(ValueError, match="by must be"):
        mem.recall(items[:1], by="address")
    with pytest.raises(ValueError, match="keys: already stored"):
        mem.store(items[:1], keys=keys[:1])
    assert len(mem) == n  # nothing was stored by the failed calls


@pytest.mark.parametrize("name", ["sparsey", "tensorbrain", "pmi"])
def test_same_seed_same_result_and_generator(name):
    def run(seed):
        mem = build(name, seed=seed)
        x = mem.random_items(8, np.random.default_rng(1))
        mem.store(x)
        r = mem.recall(x)
        return r.items, r.confidence, mem

    a_items, a_conf, _ = run(5)
    b_items, b_conf, _ = run(5)
    np.testing.assert_array_equal(a_items, b_items)
    np.testing.assert_array_equal(a_conf, b_conf)
    g_items, g_conf, mem = run(np.random.default_rng(5))
    assert g_items.shape == a_items.shape and np.isfinite(g_conf).all()
    with pytest.raises(TypeError, match="seed"):
        build(name, seed=1.5)
    with pytest.raises(ValueError, match="seed"):
        build(name, seed=-1)


def test_sparsey_codes_and_frozen_memory_shows():
    mem = build("sparsey", seed=0, saturation=0.05)
    rng = np.random.default_rng(0)
    items = mem.random_items(60, rng)
    codes = mem.codes(items[:3])
    assert codes.shape == (3, mem.Q * mem.K) and (codes.sum(axis=1) == mem.Q).all()
    winners = mem.modular_codes(items[:3])
    assert winners.shape == (3, mem.Q) and winners.min() >= 0 and winners.max() < mem.K
    np.testing.assert_array_equal(codes.reshape(3, mem.Q, mem.K).argmax(axis=2), winners)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mem.store(items[:10])
        assert mem.frozen().all()  # critical period over after a few items
        with pytest.warns(UserWarning, match="saturated"):
            mem.store(items[10:])
    early, late = mem.recall(items[:5]), mem.recall(items[-5:])
    # items stored after the MAC froze were not learned: recall fails and familiarity is low
    assert (early.items == items[:5]).all() and (early.keys == mem.keys[:5]).all()
    assert not (late.items == items[-5:]).all(axis=1).any()
    assert late.confidence.max() < early.confidence.min()
    by_key = mem.recall(mem.keys[-5:], by="key")
    assert not (by_key.items == items[-5:]).all(axis=1).any()


def test_ca3_refuses_more_items_than_cue_neurons():
    mem = create("ca3", item_size=32, n_cues=3)
    items = mem.random_items(4, np.random.default_rng(0))
    with pytest.raises(ValueError, match="free cue neurons"):
        mem.store(items)
    assert len(mem) == 0
    mem.store(items[:3])
    with pytest.raises(ValueError, match="free cue neurons"):
        mem.store(items[3])
    empty = np.zeros((1, 32), np.uint8)
    mem2 = create("ca3", item_size=32, n_cues=3)
    with pytest.raises(ValueError, match="empty pattern"):
        mem2.store(empty)


def test_tensorbrain_items_are_triples():
    mem = build("tensorbrain")
    x = mem.random_items(2, np.random.default_rng(0))
    assert (x.sum(axis=1) == 3).all()
    bad = x.copy()
    bad[0, : mem.n_entities] = 0
    with pytest.raises(ValueError, match="not a triple"):
        mem.store(bad)
    assert len(mem) == 0


def test_pmi_ltm_switch_changes_recall():
    a = build("pmi", use_ltm=True)
    b = build("pmi", use_ltm=False)
    x = a.random_items(4, np.random.default_rng(0))
    a.store(x)
    b.store(x)
    ra, rb = a.recall(x), b.recall(x)
    np.testing.assert_array_equal(ra.confidence, rb.confidence)  # same write, same attention
    assert (rb.items == x).all()


def test_sparsey_model_takes_a_generator_and_saves(tmp_path):
    from neuromem.sparsey import LevelConfig, Sparsey, SparseyConfig

    cfg = SparseyConfig(input_shape=(32,), levels=[LevelConfig(Q=4, K=4)])
    x = np.zeros((3, 32), bool)
    x[0, :5] = x[1, 5:10] = x[2, 10:15] = True
    a = Sparsey(cfg, seed=np.random.default_rng(np.random.MT19937(3)))
    assert a.seed == -1
    a.learn(x)
    back = Sparsey.load(a.save(tmp_path / "s.npz"))
    np.testing.assert_array_equal(back.levels[0].WU, a.levels[0].WU)
    assert back.rng.random() == a.rng.random()  # the Generator's stream goes on
    b, c = Sparsey(cfg, seed=7), Sparsey(cfg, seed=7)
    np.testing.assert_array_equal(b.learn(x).winners[0], c.learn(x).winners[0])
    with pytest.raises(TypeError, match="seed"):
        Sparsey(cfg, seed="7")


@pytest.mark.parametrize(
    "name, kwargs, exc, match",
    [
        ("sparsey", dict(item_size=0), ValueError, "item_size"),
        ("sparsey", dict(item_size=64, read_threshold=1.5), ValueError, "read_threshold"),
        ("sparsey", dict(item_size=64, n_macs=65), ValueError, "n_macs"),
        ("sparsey", dict(item_size=64, K=1), ValueError, "K"),
        ("ca3", dict(item_size=64, n_cues=True), TypeError, "n_cues"),
        ("ca3", dict(item_size=64, n_cues=4, item_active=65), ValueError, "item_active"),
        ("pmi", dict(item_size=64, n_slots=0), ValueError, "n_slots"),
        ("pmi", dict(item_size=64, read_gain=float("nan")), ValueError, "read_gain"),
        ("pmi", dict(item_size=64, use_ltm=1), TypeError, "use_ltm"),
        ("tensorbrain", dict(n_entities=1), ValueError, "n_entities"),
        ("tensorbrain", dict(brain=object()), ValueError, "world"),
    ],
)
def test_bad_constructor_arguments_are_named(name, kwargs, exc, match):
    with pytest.raises(exc, match=match):
        create(name, **kwargs)


def test_tensorbrain_reused_decoder_is_what_a_fresh_build_gives():
    from neuromem.memory import tensorbrain as tbm

    x = None
    out = []
    for clear in (True, False):
        if clear:
            tbm._TRAINED.clear()
        mem = build("tensorbrain", seed=11)
        x = mem.random_items(6, np.random.default_rng(0)) if x is None else x
        mem.store(x)  # perception noise comes from the generator after training
        out.append((mem.brain.A_time.copy(), mem.recall(x).confidence))
    np.testing.assert_array_equal(out[0][0], out[1][0])
    np.testing.assert_array_equal(out[0][1], out[1][1])


def test_ca3_answers_a_long_run_of_content_cues():
    """Recalls by content in a row depress CA3's cue->content synapses (STDP stays on in
    recall); the adapter reads patterns every CONTENT_CHUNK cues, so 40 cues of 2 stored items
    are all answered (in one run of 40 content recalls both patterns were erased)."""
    from neuromem.memory.ca3 import CA3ContentMemory

    m = CA3ContentMemory(128, 64, item_active=12)
    X = m.random_items(2, np.random.default_rng(1))
    m.store(X)
    cues = np.resize(X, (40, 128))
    r = m.recall(cues, by="content")
    assert (r.items == cues).all()
    assert CA3ContentMemory.CONTENT_CHUNK < 16
