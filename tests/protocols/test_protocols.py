"""The protocols: scores, cues, nulls, and each measure on a memory whose answer is known."""

from __future__ import annotations

import numpy as np
import pytest

from neuromem import protocols as P
from neuromem.memory.base import Memory, Recall
from neuromem.memory.willshaw import WillshawMemory


def _willshaw(seed=0):
    return WillshawMemory(128, 7, key_size=128, key_active=7, seed=seed)


class _Table(Memory):
    """Test fixture: a lookup table that can forget (the ideal, not a null)."""

    kind = "test-table"

    def __init__(self, item_size=64, item_active=6):
        super().__init__()
        self.item_size, self.item_active, self.size_bits = item_size, item_active, 0
        self._t: dict[int, np.ndarray] = {}

    def _store(self, items, keys):
        self._t.update({int(k): x for k, x in zip(keys, items, strict=True)})

    def _recall_key(self, keys):
        return Recall(np.stack([self._t[int(k)] for k in keys]), keys, np.ones(len(keys)))

    def _recall_content(self, cues):
        ks = np.array(list(self._t), dtype=np.int64)
        X = np.stack([self._t[int(k)] for k in ks])
        ov = cues.astype(int) @ X.T.astype(int)
        best = ov.argmax(axis=1)
        full = ov[np.arange(len(cues)), best] == cues.sum(axis=1)
        return Recall(X[best], np.where(full, ks[best], -1), full.astype(float))

    def _forget(self, keys):
        for k in keys:
            del self._t[int(k)]

    def _state(self):
        return {}, {}

    @classmethod
    def _from_state(cls, meta, arrays):
        return cls()


class _Small(WillshawMemory):
    """Willshaw that refuses items beyond 20 (as CA3 beyond its cue neurons)."""

    def _check_room(self, n):
        if len(self) + n > 20:
            raise ValueError("items: full")


# ------------------------------------------------------------------------------ scores
def test_auc_constant_perfect_reversed_and_ties():
    g = np.random.default_rng(0)
    assert P.auc(np.ones(30), np.ones(50)) == 0.5
    assert P.auc([2, 3, 4], [0, 1]) == 1.0
    assert P.auc([0, 1], [2, 3, 4]) == 0.0
    a = g.integers(0, 4, 40).astype(float)
    b = g.integers(0, 4, 35).astype(float)
    brute = np.mean([(x > y) + 0.5 * (x == y) for x in a for y in b])
    assert P.auc(a, b) == pytest.approx(brute)
    with pytest.raises(ValueError, match="at least one"):
        P.auc([], [1.0])


def test_corrupt_flip_keeps_density_and_drop_removes_the_expected_fraction():
    g = np.random.default_rng(1)
    m = _willshaw()
    X = m.random_items(200, g)
    F = P.corrupt(X, 0.3, "flip", g)
    assert (F.sum(axis=1) == X.sum(axis=1)).all()
    assert ((F & X).sum(axis=1) == 7 - np.rint(0.3 * 7)).mean() > 0.5
    D = P.corrupt(X, 0.5, "drop", g)
    assert (D <= X).all()
    assert (X.sum(1) - D.sum(1)).mean() == pytest.approx(3.5, abs=0.15)
    assert (P.corrupt(X, 0.0, "flip", g) == X).all()
    # three-bit items at 10 %: a bit moves in 30 % of the cues (expected fraction exact)
    three = np.zeros((4000, 30), np.uint8)
    three[:, :3] = 1
    moved = 3 - (P.corrupt(three, 0.1, "flip", g)[:, :3]).sum(axis=1)
    assert moved.mean() == pytest.approx(0.3, abs=0.03)
    with pytest.raises(ValueError, match="kind"):
        P.corrupt(X, 0.1, "swap", g)
    with pytest.raises(ValueError, match="level"):
        P.corrupt(X, 1.5, "drop", g)


# ---------------------------------------------------------------------------- capacity
def test_capacity_of_willshaw_beside_the_no_storage_null():
    r = P.capacity(_willshaw, [20, 100, 400], 0, n_probe=50, n_novel=50)
    assert r["exact_key"][0] == 1.0 and r["exact_key"][-1] < 0.2
    assert r["capacity_at"] == 100
    assert r["auc"][0] > 0.95
    assert all(v == 0.0 for v in r["null_exact_key"])
    assert all(v == 0.5 for v in r["null_auc"])  # constant confidence: exactly 0.5
    assert r["null_capacity_at"] == 0


def test_a_memory_that_stops_storing_keeps_key_recall_but_loses_the_recent_auc():
    loads = [25, 50, 100, 200]

    def frozen():
        return P.StopStoringMemory(_willshaw(), n_max=50, key_table=True)

    r = P.capacity(frozen, loads, 1, n_probe=100, n_novel=100)
    assert r["exact_key"] == [1.0] * len(loads)  # a table outside the memory answers keys
    assert min(r["auc_recent"][:2]) > 0.95  # stored while it still learned
    # recently stored items were never learnt: as novel as novel items (SE ~ 0.04)
    for a in r["auc_recent"][2:]:
        assert abs(a - 0.5) < 0.15
    real = P.capacity(_willshaw, loads, 1, n_probe=100, n_novel=100)
    assert min(real["auc_recent"]) > 0.95


def test_capacity_records_a_refusal_as_nan():
    r = P.capacity(lambda: _Small(128, 7, key_size=128, key_active=7), [10, 20, 40], 0)
    assert r["refused_at"] == 40
    assert np.isnan(r["exact_key"][2]) and r["exact_key"][1] == 1.0
    assert r["capacity_at"] == 20


@pytest.mark.parametrize(
    "args, err, match",
    [
        (("nope", [1, 2]), TypeError, "make_memory"),
        ((_willshaw, [5, 5]), ValueError, "loads"),
        ((_willshaw, []), ValueError, "loads"),
        ((_willshaw, [0, 4]), ValueError, "loads"),
        ((_willshaw, "12"), TypeError, "loads"),
    ],
)
def test_capacity_bad_arguments(args, err, match):
    with pytest.raises(err, match=match):
        P.capacity(*args, rng=0)


def test_a_used_memory_instance_is_refused():
    m = _willshaw()
    m.store(m.random_items(2, 0))
    with pytest.raises(ValueError, match="empty"):
        P.capacity(m, [4], 0)
    with pytest.raises(TypeError, match="rng"):
        P.capacity(_willshaw, [4], rng="x")


# -------------------------------------------------------------------------- noisy cues
def test_noisy_recall_curves_beat_the_cue_null():
    g = np.random.default_rng(2)
    m = _willshaw()
    X = m.random_items(40, g)
    keys = m.store(X)
    for kind in ("flip", "drop"):
        r = P.noisy_recall(m, X, [0.0, 0.15, 0.3, 0.6], kind, g, keys=keys)
        assert r["exact"][0] == 1.0 and r["null_exact"][0] == 1.0
        assert r["null_exact"][1:] == [0.0, 0.0, 0.0]
        assert r["exact"][1] > 0.85  # completes what the cue lacks (1 of 7 bits)
        assert r["exact"][2] > 0.6
        assert r["overlap"][2] > r["null_overlap"][2] + 0.15
        assert r["key_accuracy"][1] > 0.85
    with pytest.raises(ValueError, match="kind"):
        P.noisy_recall(m, X, [0.1], "blur", g)
    with pytest.raises(TypeError, match="memory"):
        P.noisy_recall("m", X, [0.1], "flip", g)
    with pytest.raises(ValueError, match="noise_levels"):
        P.noisy_recall(m, X, [1.2], "flip", g)


def test_noisy_recall_cues_few_items_many_times():
    """With fewer items than n_probe, every item is cued in turn with fresh noise."""
    g = np.random.default_rng(3)
    m = _willshaw()
    X = m.random_items(2, g)
    keys = m.store(X)
    r = P.noisy_recall(m, X, [0.0, 0.3], "flip", g, keys=keys, n_probe=30)
    assert (r["n_items"], r["n_cues"]) == (2, 30)
    # 30 cues of 2 items: the fraction is a multiple of 1/30, not only 0, 0.5 or 1
    assert r["exact"][0] == 1.0 and r["key_accuracy"][0] == 1.0
    assert abs(r["exact"][1] * 30 - round(r["exact"][1] * 30)) < 1e-9
    r = P.noisy_recall(m, X, [0.3], "flip", g, keys=keys, n_probe=1)
    assert (r["n_items"], r["n_cues"]) == (1, 1)


# ------------------------------------------------------------------------ interference
def test_similar_items_share_the_asked_fraction():
    g = np.random.default_rng(3)
    m = WillshawMemory(200, 20, seed=0)
    X = m.random_items(50, g)
    L = P.similar_items(X, 0.6, m.random_items, g)
    assert (L.sum(1) == 20).all()
    assert ((L & X).sum(1) == 12).all()


def test_interference_similar_lures_hurt_more_than_unrelated_ones():
    # 20 probes + 60 lures: well within Willshaw's capacity when the lures are unrelated
    r = P.interference(_willshaw, [0.0, 0.8], 4, n_probe=20, lures_per_probe=3)
    assert r["lure_method"] == "bits"
    assert r["realised"][1] == pytest.approx(0.8, abs=0.1)
    assert r["control_exact_content"] >= 0.8 and r["exact_content"][0] >= 0.8
    assert r["exact_content"][1] < r["control_exact_content"] - 0.3


def test_interference_falls_back_to_a_pool_for_structured_items():
    class Triples(_Table):
        kind = "test-triples"

        def random_items(self, n, rng):
            g = np.random.default_rng(rng) if isinstance(rng, int) else rng
            out = np.zeros((n, 30), np.uint8)
            for grp in range(3):
                out[np.arange(n), 10 * grp + g.integers(0, 10, n)] = 1
            return out

        def _store(self, items, keys):
            if not all((items[:, 10 * j : 10 * j + 10].sum(1) == 1).all() for j in range(3)):
                raise ValueError("items: not a triple")
            super()._store(items, keys)

    r = P.interference(lambda: Triples(30, 3), [0.0, 0.67], 5, n_probe=6, lures_per_probe=2)
    assert r["lure_method"] == "pool"
    assert r["realised"][1] == pytest.approx(2 / 3, abs=0.1)


# -------------------------------------------------------------------------- forgetting
def test_forgetting_not_applicable_to_willshaw():
    r = P.forgetting(_willshaw, 40, 0, n_blocks=4)
    assert r["applicable"] is False and r["forget_auc"] is None
    assert len(r["recency_exact_key"]) == 4 and min(r["recency_exact_key"]) == 1.0


def test_forgetting_of_a_memory_that_forgets_beats_its_null():
    r = P.forgetting(_Table, 40, 0, n_blocks=4)
    assert r["applicable"] is True
    assert r["forget_auc"] == 1.0
    assert r["null_forget_auc"] == 0.5  # before forgetting both halves are stored
    assert r["kept_exact_content"] >= 0.9 and r["forgotten_exact_content"] == 0.0
    with pytest.raises(ValueError, match="n_blocks"):
        P.forgetting(_Table, 3, 0, n_blocks=5)


# ------------------------------------------------------------- similarity preservation
OVERLAPS = [0.0, 0.2, 0.4, 0.6, 0.8, 1.0]


def test_nulls_match_their_theory():
    Q, K = 16, 8
    r = P.similarity_preservation(None, 200, Q, K, OVERLAPS, 0, n_active=20, n_pairs=400)
    th = P.similarity_nulls_theory(Q, K, r["input_overlap"])
    # per-pair |dev| has sd < 0.5; over 2400 pairs the SE is < 0.011
    assert r["graded_mad"] == pytest.approx(th["graded_mad"], abs=0.03)
    assert r["threshold_mad"] == pytest.approx(th["threshold_mad"], abs=0.03)
    assert np.allclose(r["graded_mean"], th["graded_mean"], atol=0.03)
    assert np.allclose(r["threshold_mean"], th["threshold_mean"], atol=0.03)
    assert r["graded_mad"] < 0.08 and r["threshold_mad"] > 0.15
    assert r["graded_spearman"] > 0.9 and r["threshold_spearman"] > 0.7  # Spearman alone fails
    assert r["model_mad"] is None


def _minhash(Q, K, n_bits, seed):
    perms = np.random.default_rng(seed).permuted(np.tile(np.arange(n_bits), (Q, 1)), axis=1)

    def code(X):
        ranks = np.where(X[:, None, :] == 1, perms[None], n_bits)  # (n, Q, n_bits)
        return ranks.argmin(axis=2) % K

    return code


def _hash(Q, K):
    def code(X):
        h = (X.astype(np.int64) * np.arange(1, X.shape[1] + 1) ** 3).sum(axis=1)
        return (h[:, None] * np.arange(1, Q + 1) * 2654435761 >> 7) % K

    return code


def test_a_graded_code_scores_near_the_graded_null_and_a_hash_near_neither():
    Q, K, n = 32, 8, 200
    kw = {"n_active": 20, "n_pairs": 50}
    graded = P.similarity_preservation(_minhash(Q, K, n, 1), n, Q, K, OVERLAPS, 2, **kw)
    hashed = P.similarity_preservation(_hash(Q, K), n, Q, K, OVERLAPS, 2, **kw)
    # min-hash agreement is Jaccard + chance: graded, below the identity line
    assert graded["model_spearman"] > 0.9
    assert graded["model_mad"] < graded["threshold_mad"]
    # a hash keeps only identity: code similarity 1/K below overlap 1
    assert hashed["model_mad"] > graded["model_mad"] + 0.15
    assert hashed["model_mean"][-1] == 1.0 and hashed["model_mean"][3] < 0.3


def test_similarity_preservation_bad_arguments():
    with pytest.raises(ValueError, match="n_active"):
        P.similarity_preservation(None, 20, 4, 4, OVERLAPS, 0, n_active=15)
    with pytest.raises(ValueError, match="overlaps"):
        P.similarity_preservation(None, 20, 4, 4, [1.5], 0)
    with pytest.raises(TypeError, match="code_fn"):
        P.similarity_preservation(3, 20, 4, 4, OVERLAPS, 0)
    with pytest.raises(ValueError, match="code_fn"):
        P.similarity_preservation(lambda X: np.zeros((len(X), 3)), 20, 4, 4, OVERLAPS, 0)


# ------------------------------------------------------------------------------- plots
def test_plots_draw_titled_figures_with_legends():
    import matplotlib

    matplotlib.use("Agg")
    from neuromem.protocols import plots

    cap = {"willshaw": P.capacity(_willshaw, [10, 50], 0, n_probe=10, n_novel=10)}
    m = _willshaw()
    X = m.random_items(10, 0)
    m.store(X)
    noisy = {"willshaw": {k: P.noisy_recall(m, X, [0, 0.2], k, 0) for k in ("flip", "drop")}}
    inter = {"willshaw": P.interference(_willshaw, [0, 0.5], 0, n_probe=4, lures_per_probe=2)}
    forg = {
        "willshaw": P.forgetting(_willshaw, 8, 0, n_blocks=2),
        "table": P.forgetting(_Table, 8, 0, n_blocks=2),
    }
    sim = P.similarity_preservation(None, 50, 8, 4, OVERLAPS, 0, n_active=5, n_pairs=5)
    figs = [
        plots.plot_capacity(cap),
        plots.plot_noisy_recall(noisy),
        plots.plot_interference(inter),
        plots.plot_forgetting(forg),
        plots.plot_similarity(sim),
    ]
    for fig in figs:
        assert fig._suptitle is not None or fig.axes[0].get_title()
        for ax in fig.axes:
            assert ax.get_xlabel() and ax.get_ylabel()
            assert ax.get_legend() is not None
        matplotlib.pyplot.close(fig)


def test_a_frozen_sparsey_mac_shows_in_the_recent_auc():
    """Sparsey's MAC ends its critical period at ~20 items here (saturation 0.2): items stored
    after it get codes without weights, and its familiarity no longer tells them from novel."""
    import warnings

    from neuromem.memory.sparsey import SparseyMemory

    def frozen_mac():
        return SparseyMemory(
            128, Q=16, K=8, item_active=12, seed=0, saturation=0.2, on_saturated="ignore"
        )

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = P.capacity(frozen_mac, [10, 20, 40, 80, 160], 1, n_probe=50, n_novel=50)
    assert r["auc_recent"][:2] == [1.0, 1.0] and r["exact_key"][:2] == [1.0, 1.0]
    # 50 recent vs 50 novel: SE of the AUC ~ 0.058; 0.2 is 3.4 SE
    for a in r["auc_recent"][2:]:
        assert abs(a - 0.5) < 0.2
    assert r["exact_key"][-1] < 0.3
