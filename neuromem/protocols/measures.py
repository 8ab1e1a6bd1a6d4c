"""The measures: each takes any memory (or a factory of fresh ones) and an rng, and returns a
plain dict of numbers and lists that holds the model's figures and, beside them, the figures of
a null that lacks the mechanism being measured.

Only the measuring happens here; :mod:`neuromem.protocols.plots` draws the dicts.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from neuromem.memory.base import Memory, check_items
from neuromem.rng import as_generator

from ._common import (
    auc,
    check_int,
    check_levels,
    check_loads,
    corrupt,
    exact_match,
    item_overlap,
    make_memory_fn,
    spearman,
)
from .nulls import NoStorageMemory

__all__ = [
    "capacity",
    "capacity_at",
    "noisy_recall",
    "similar_items",
    "interference",
    "forgetting",
    "similarity_preservation",
    "similarity_nulls_theory",
]


# ---------------------------------------------------------------------------------- capacity
def _capacity_run(mem: Memory, items, novel, loads, n_probe, cue_drop, g) -> dict:
    out = {
        k: []
        for k in (
            "exact_key",
            "exact_content",
            "key_from_content",
            "auc",
            "auc_recent",
            "confidence_stored",
            "confidence_novel",
        )
    }
    keys = np.zeros(0, dtype=np.int64)
    novel_cues = corrupt(novel, cue_drop, "drop", g)
    prev = 0
    out["refused_at"] = None
    for load in loads:
        if out["refused_at"] is None:
            try:
                keys = np.concatenate([keys, mem.store(items[prev:load])])
            except ValueError as e:  # the memory is full (e.g. CA3: no free cue neuron)
                out["refused_at"] = int(load)
                out["refused"] = str(e)
        if out["refused_at"] is not None:
            for k in out:
                if isinstance(out[k], list):
                    out[k].append(float("nan"))
            continue
        idx = np.sort(g.choice(load, size=min(n_probe, load), replace=False))
        rk = mem.recall(keys[idx], by="key")
        out["exact_key"].append(float(exact_match(rk.items, items[idx]).mean()))
        rc = mem.recall(corrupt(items[idx], cue_drop, "drop", g), by="content")
        out["exact_content"].append(float(exact_match(rc.items, items[idx]).mean()))
        out["key_from_content"].append(float(np.mean(rc.keys == keys[idx])))
        rn = mem.recall(novel_cues, by="content")
        out["auc"].append(auc(rc.confidence, rn.confidence))
        recent = np.arange(prev, load)
        recent = np.sort(g.choice(recent, size=min(n_probe, len(recent)), replace=False))
        rr = mem.recall(corrupt(items[recent], cue_drop, "drop", g), by="content")
        out["auc_recent"].append(auc(rr.confidence, rn.confidence))
        out["confidence_stored"].append(float(rc.confidence.mean()))
        out["confidence_novel"].append(float(rn.confidence.mean()))
        prev = load
    return out


def capacity_at(loads: Sequence[int], recall: Sequence[float], level: float = 0.95) -> int:
    """Largest load whose recall is at least ``level`` (0 when none is)."""
    ok = [int(n) for n, r in zip(loads, recall, strict=True) if r >= level]
    return max(ok) if ok else 0


def capacity(
    make_memory,
    loads: Sequence[int],
    rng,
    *,
    n_probe: int = 100,
    n_novel: int = 100,
    cue_drop: float = 0.25,
    level: float = 0.95,
    null: bool = True,
) -> dict:
    """Exact recall and stored-vs-novel AUC against the number of stored items.

    One memory is filled item by item; at each load of ``loads`` up to ``n_probe`` stored items
    (a random sample of all stored so far) are recalled

    - by key: ``exact_key`` is the fraction returned bit for bit;
    - by content from a partial cue (a fraction ``cue_drop`` of the active bits switched off, so
      a memory that merely echoes its cue cannot pass): ``exact_content`` and
      ``key_from_content`` (the right key named);

    and the model's confidence on those cues is compared with its confidence on ``n_novel``
    never-stored items (same cue treatment): ``auc`` over all stored items, ``auc_recent`` over
    the items stored since the previous load. A memory that stopped storing keeps a high
    ``exact_key`` if a table outside it answers keys, but its ``auc_recent`` falls to 0.5.

    Null
        :class:`~neuromem.protocols.nulls.NoStorageMemory` (stores nothing, answers a random
        item with a constant confidence), run through the same steps on the same items:
        ``null_exact_key`` ~ 0 and ``null_auc`` = 0.5 exactly. Only storage beats it.

    Parameters
    ----------
    make_memory : callable or Memory
        A zero-argument factory of an empty memory, or an empty memory.
    loads : sequence of int
        Strictly increasing numbers of stored items.
    rng : int or numpy.random.Generator
        Items, probes and cues.
    n_probe, n_novel : int
        Stored items tested per load; never-stored items.
    cue_drop : float
        Fraction of active bits removed from content cues.
    level : float
        Recall level of ``capacity_at`` (0.95 by default).
    null : bool
        Also run the null.

    Returns
    -------
    dict
        ``loads``, ``exact_key``, ``exact_content``, ``key_from_content``, ``auc``,
        ``auc_recent``, ``confidence_stored``, ``confidence_novel`` (lists aligned with
        ``loads``; NaN from the load that the memory refused to store, named in
        ``refused_at``, e.g. CA3 beyond its number of cue neurons), ``capacity_at`` and
        ``capacity_at_content``, ``capacity_at_both`` (largest load with exact
        recall >= ``level`` by key, from partial cues, both), the same with a ``null_`` prefix,
        ``size_bits``.
    """
    make = make_memory_fn(make_memory)
    loads = check_loads(loads)
    g = as_generator(rng, "rng")
    n_probe = check_int(n_probe, "n_probe")
    n_novel = check_int(n_novel, "n_novel")
    cue_drop = check_levels([cue_drop], "cue_drop", 0.0, 0.99)[0]
    level = check_levels([level], "level")[0]
    mem = make()
    items = check_items(mem.random_items(loads[-1], g), mem.item_size, "random_items")
    novel = check_items(mem.random_items(n_novel, g), mem.item_size, "random_items")
    res: dict = {"loads": loads, "size_bits": int(mem.size_bits)}
    res.update(_capacity_run(mem, items, novel, loads, n_probe, cue_drop, g))
    res["capacity_at"] = capacity_at(loads, res["exact_key"], level)
    res["capacity_at_content"] = capacity_at(loads, res["exact_content"], level)
    both = [min(a, b) for a, b in zip(res["exact_key"], res["exact_content"], strict=True)]
    res["capacity_at_both"] = capacity_at(loads, both, level)
    if null:
        nul = _capacity_run(NoStorageMemory(mem, seed=g), items, novel, loads, n_probe, 0.0, g)
        res.update({f"null_{k}": v for k, v in nul.items()})
        res["null_capacity_at"] = capacity_at(loads, nul["exact_key"], level)
    return res


# ------------------------------------------------------------------------------ noisy cues
def noisy_recall(
    memory: Memory,
    items,
    noise_levels: Sequence[float],
    kind: str = "flip",
    rng=0,
    *,
    keys=None,
    n_probe: int | None = None,
) -> dict:
    """Recall by content from noisy (``"flip"``) or partial (``"drop"``) cues, as curves.

    ``memory`` already holds ``items``; at each level of ``noise_levels`` every item is
    corrupted (:func:`~neuromem.protocols.corrupt`: that fraction of its active bits moved or
    switched off) and recalled. ``exact`` is the fraction recalled bit for bit, ``overlap`` the
    mean :func:`item_overlap` of the recalled item with the stored one, ``key_accuracy`` the
    fraction naming the right key (when ``keys`` are given). With ``n_probe``, a random sample
    of that many items (the same at every level) is recalled instead of all; when ``n_probe``
    exceeds the number of items, each item is cued several times (``n_probe`` cues in all,
    items in turn, each cue with its own noise), so that a memory holding few items is still
    measured on ``n_probe`` cues.

    Null
        No completion: the cue itself as the answer (``null_exact``, ``null_overlap``). At any
        noise > 0 its exact recall is 0 and its overlap ``1 - level``; only a memory that
        restores the missing or wrong bits beats it.
    """
    if not isinstance(memory, Memory):
        raise TypeError(f"memory must be a Memory, got {type(memory).__name__}")
    x = check_items(items, memory.item_size, "items")
    levels = check_levels(noise_levels, "noise_levels")
    if kind not in ("flip", "drop"):
        raise ValueError(f"kind must be 'flip' or 'drop', got {kind!r}")
    if keys is not None:
        keys = np.asarray(keys, dtype=np.int64)
        if keys.shape != (len(x),):
            raise ValueError(f"keys must have shape ({len(x)},), got {keys.shape}")
    g = as_generator(rng, "rng")
    if n_probe is not None:
        n_probe = check_int(n_probe, "n_probe")
        if n_probe < len(x):
            pick = np.sort(g.choice(len(x), size=n_probe, replace=False))
        else:
            pick = np.resize(np.arange(len(x)), n_probe)
        n_items = len(np.unique(pick))
        x = x[pick]
        keys = None if keys is None else keys[pick]
    else:
        n_items = len(x)
    out: dict = {"kind": kind, "noise_levels": levels, "n_items": n_items, "n_cues": len(x)}
    for k in ("exact", "overlap", "key_accuracy", "null_exact", "null_overlap"):
        out[k] = []
    for lv in levels:
        cues = corrupt(x, lv, kind, g)
        r = memory.recall(cues, by="content")
        out["exact"].append(float(exact_match(r.items, x).mean()))
        out["overlap"].append(float(item_overlap(r.items, x).mean()))
        out["key_accuracy"].append(
            float(np.mean(r.keys == keys)) if keys is not None else float("nan")
        )
        out["null_exact"].append(float(exact_match(cues, x).mean()))
        out["null_overlap"].append(float(item_overlap(cues, x).mean()))
    return out


# ---------------------------------------------------------------------------- interference
def similar_items(items, similarity: float, source, rng, method: str = "bits") -> np.ndarray:
    """One lure per item sharing about a fraction ``similarity`` of its active bits.

    ``method="bits"``: the lure keeps ``round(similarity * active)`` of the item's active bits
    and takes the rest from a fresh random item drawn from ``source`` (a memory's
    :meth:`random_items`), using its active bits that the item does not have (random inactive
    bits of the item if too few); the lure has as many active bits as the item.

    ``method="pool"``: for memories whose items have a structure that bit surgery breaks
    (one-hot groups), each lure is the item of a pool of ``50 * len(items)`` fresh random items
    whose overlap with the item is nearest ``similarity`` (the realised overlap can only take
    the values the structure allows).
    """
    x = np.asarray(items, dtype=np.uint8)
    s = check_levels([similarity], "similarity")[0]
    if method not in ("bits", "pool"):
        raise ValueError(f"method must be 'bits' or 'pool', got {method!r}")
    g = as_generator(rng, "rng")
    if method == "pool":
        pool = np.asarray(source(50 * len(x), g), dtype=np.uint8)
        ov = (x.astype(np.float32) @ pool.T.astype(np.float32)) / np.maximum(
            x.sum(axis=1, keepdims=True), 1
        )
        gap = np.abs(ov - s) + 1e-3 * g.random(ov.shape)  # random choice among equals
        return pool[gap.argmin(axis=1)]
    fresh = np.asarray(source(len(x), g), dtype=np.uint8)
    out = np.zeros_like(x)
    for i in range(len(x)):
        on = np.flatnonzero(x[i])
        keep = g.choice(on, size=int(round(s * len(on))), replace=False)
        need = len(on) - len(keep)
        pool = np.flatnonzero((fresh[i] == 1) & (x[i] == 0))
        if len(pool) < need:
            extra = np.setdiff1d(np.flatnonzero(x[i] == 0), pool)
            pool = np.concatenate([pool, g.permutation(extra)[: need - len(pool)]])
        add = g.choice(pool, size=need, replace=False) if need else np.zeros(0, np.int64)
        out[i, keep] = 1
        out[i, add] = 1
    return out


def interference(
    make_memory,
    similarities: Sequence[float],
    rng,
    *,
    n_probe: int = 20,
    lures_per_probe: int = 4,
    cue_drop: float = 0.25,
) -> dict:
    """Recall of a probe set as items increasingly similar to it are stored after it.

    For each similarity ``s``, a fresh memory stores ``n_probe`` probe items, then
    ``lures_per_probe`` lures per probe (:func:`similar_items`, sharing a fraction ``s`` of the
    probe's active bits; ``realised`` is the mean overlap obtained); the probes are then recalled
    by key (``exact_key``) and from partial cues (``exact_content``, ``key_from_content``; a
    recall naming one of the probe's own lures counts in ``lure_confusion``). When the memory
    refuses the bit-built lures (structured items), lures are picked from a pool instead
    (``lure_method="pool"``, see :func:`similar_items`).

    Null / control
        The same number of unrelated lures (random items of the memory's kind; ``control_*``):
        the load is the same, only the similarity differs, so the curve's fall below the
        control is the interference of similarity itself. A memory storing nothing would show
        no fall at all, at recall ~ 0 (the capacity null).
    """
    make = make_memory_fn(make_memory)
    sims = check_levels(similarities, "similarities")
    g = as_generator(rng, "rng")
    n_probe = check_int(n_probe, "n_probe")
    lures_per_probe = check_int(lures_per_probe, "lures_per_probe")
    cue_drop = check_levels([cue_drop], "cue_drop", 0.0, 0.99)[0]
    out: dict = {
        "similarities": sims,
        "n_probe": n_probe,
        "lures_per_probe": lures_per_probe,
        "lure_method": "bits",
    }
    names = ("exact_key", "exact_content", "key_from_content", "lure_confusion", "realised")
    for k in names:
        out[k] = []

    def one(similarity: float | None) -> tuple[float, ...]:
        mem = make()
        probes = check_items(mem.random_items(n_probe, g), mem.item_size, "random_items")
        pk = mem.store(probes)
        lures = []
        for _ in range(lures_per_probe):
            if similarity is None:
                lures.append(mem.random_items(n_probe, g))
            else:
                lures.append(
                    similar_items(probes, similarity, mem.random_items, g, out["lure_method"])
                )
        lures_all = np.concatenate(lures)
        try:
            lk = mem.store(lures_all)
        except ValueError:
            if out["lure_method"] == "pool" or similarity is None:
                raise
            out["lure_method"] = "pool"  # structured items: bit surgery made invalid items
            return one(similarity)
        lk = lk.reshape(lures_per_probe, n_probe).T
        realised = np.mean([(lu & probes).sum(1) / probes.sum(1) for lu in lures])
        rk = mem.recall(pk, by="key")
        rc = mem.recall(corrupt(probes, cue_drop, "drop", g), by="content")
        confused = np.array([rc.keys[i] in set(lk[i].tolist()) for i in range(n_probe)])
        return (
            float(exact_match(rk.items, probes).mean()),
            float(exact_match(rc.items, probes).mean()),
            float(np.mean(rc.keys == pk)),
            float(confused.mean()),
            float(realised),
        )

    for s in sims:
        for k, v in zip(names, one(s), strict=True):
            out[k].append(v)
    for k, v in zip(names, one(None), strict=True):
        out[f"control_{k}"] = v
    return out


# ------------------------------------------------------------------------------ forgetting
def forgetting(
    make_memory,
    n_items: int,
    rng,
    *,
    n_blocks: int = 5,
    forget_fraction: float = 0.5,
    cue_drop: float = 0.25,
) -> dict:
    """Recency curve, and what :meth:`~neuromem.memory.base.Memory.forget` removes.

    Recency: ``n_items`` items are stored in ``n_blocks`` equal blocks; afterwards each block is
    recalled by key and from partial cues (``recency_exact_key``, ``recency_exact_content``,
    oldest block first). A memory that decays shows a rising curve; one that does not, a flat
    one.

    Forgetting (only where the memory ``can_forget``; otherwise ``applicable`` is False and these
    figures are None, "not applicable"): a random ``forget_fraction`` of the items is forgotten;
    ``kept_exact_content`` is the exact recall of the others, ``forgotten_exact_content`` the
    fraction of forgotten items still completed from a partial cue, and ``forget_auc`` the AUC
    of the model's confidence on kept against forgotten items.

    Null
        The same AUC measured on the same two sets *before* forgetting (``null_forget_auc``):
        both sets are stored then, so it sits near 0.5; only a forget operation that really
        removes the items lifts ``forget_auc`` above it.
    """
    make = make_memory_fn(make_memory)
    n_items = check_int(n_items, "n_items", 2)
    n_blocks = check_int(n_blocks, "n_blocks")
    if n_blocks > n_items:
        raise ValueError(f"n_blocks must be <= n_items={n_items}, got {n_blocks}")
    forget_fraction = check_levels([forget_fraction], "forget_fraction", 0.01, 0.99)[0]
    cue_drop = check_levels([cue_drop], "cue_drop", 0.0, 0.99)[0]
    g = as_generator(rng, "rng")
    mem = make()
    items = check_items(mem.random_items(n_items, g), mem.item_size, "random_items")
    bounds = np.linspace(0, n_items, n_blocks + 1).round().astype(int)
    keys = np.concatenate([mem.store(items[a:b]) for a, b in zip(bounds, bounds[1:], strict=False)])
    cues = corrupt(items, cue_drop, "drop", g)
    rk = mem.recall(keys, by="key")
    rc = mem.recall(cues, by="content")
    ek = exact_match(rk.items, items)
    ec = exact_match(rc.items, items)
    out: dict = {
        "n_items": n_items,
        "block_age": list(range(n_blocks - 1, -1, -1)),
        "recency_exact_key": [
            float(ek[a:b].mean()) for a, b in zip(bounds, bounds[1:], strict=False)
        ],
        "recency_exact_content": [
            float(ec[a:b].mean()) for a, b in zip(bounds, bounds[1:], strict=False)
        ],
        "applicable": bool(mem.can_forget),
        "kept_exact_content": None,
        "forgotten_exact_content": None,
        "forget_auc": None,
        "null_forget_auc": None,
    }
    if not mem.can_forget:
        return out
    n_f = max(1, int(round(forget_fraction * n_items)))
    sel = np.zeros(n_items, dtype=bool)
    sel[g.choice(n_items, size=min(n_f, n_items - 1), replace=False)] = True
    out["null_forget_auc"] = auc(rc.confidence[~sel], rc.confidence[sel])
    mem.forget(keys[sel])
    after = mem.recall(cues, by="content")
    ea = exact_match(after.items, items)
    out["kept_exact_content"] = float(ea[~sel].mean())
    out["forgotten_exact_content"] = float(ea[sel].mean())
    out["forget_auc"] = auc(after.confidence[~sel], after.confidence[sel])
    return out


# ------------------------------------------------------------------ similarity preservation
def _modular_variant(n_bits: int, x: np.ndarray, k_keep: int, g) -> np.ndarray:
    on = np.flatnonzero(x)
    keep = g.choice(on, size=k_keep, replace=False)
    off = np.flatnonzero(x == 0)
    add = g.choice(off, size=len(on) - k_keep, replace=False)
    y = np.zeros(n_bits, dtype=np.uint8)
    y[keep] = 1
    y[add] = 1
    return y


def similarity_nulls_theory(Q: int, K: int, overlaps: Sequence[float]) -> dict:
    """Expected code similarity and mean ``|code similarity - overlap|`` of the two nulls.

    Graded: ``B ~ Binomial(Q, o)``, similarity ``B / Q``, so the expected similarity is ``o`` and
    the expected deviation is ``E|B/Q - o|``. Threshold: similarity 1 above overlap 0.5,
    ``Binomial(Q, 1/K)/Q`` at or below it.
    """
    from scipy import stats

    ov = np.asarray(overlaps, dtype=np.float64)
    js = np.arange(Q + 1) / Q
    g_mean, g_dev, t_mean, t_dev = [], [], [], []
    for o in ov:
        pg = stats.binom.pmf(np.arange(Q + 1), Q, o)
        g_mean.append(float(pg @ js))
        g_dev.append(float(pg @ np.abs(js - o)))
        if o > 0.5:
            t_mean.append(1.0)
            t_dev.append(float(1.0 - o))
        else:
            pt = stats.binom.pmf(np.arange(Q + 1), Q, 1.0 / K)
            t_mean.append(float(pt @ js))
            t_dev.append(float(pt @ np.abs(js - o)))
    return {
        "graded_mean": g_mean,
        "graded_abs_dev": g_dev,
        "threshold_mean": t_mean,
        "threshold_abs_dev": t_dev,
        "graded_mad": float(np.mean(g_dev)),
        "threshold_mad": float(np.mean(t_dev)),
    }


def similarity_preservation(
    code_fn: Callable[[np.ndarray], np.ndarray] | None,
    n_bits: int,
    Q: int,
    K: int,
    overlaps: Sequence[float],
    rng,
    *,
    n_active: int | None = None,
    n_pairs: int = 20,
) -> dict:
    """Input overlap against code overlap, beside a threshold null and a graded null.

    ``n_pairs`` random base inputs (``n_active`` of ``n_bits`` on) each get, for every level
    ``o`` of ``overlaps``, a variant sharing ``round(o * n_active)`` active bits. ``code_fn``
    maps a batch ``(n, n_bits)`` of inputs to modular codes ``(n, Q)`` (the winning cell,
    ``0..K-1``, of each module; -1 for a module without a winner, which never agrees). It is
    called twice, first with the base inputs, then with all the variants (level by level), so
    a model that learns may learn the bases first and then code each variant as it learns it.
    The code similarity of a pair is the fraction of modules with the same winner. Figures:
    the Spearman rank correlation of input overlap with code
    similarity and the mean absolute deviation from the identity line (MAD).

    Nulls (drawn for the same pairs)
        - threshold: the same code above input overlap 0.5, an unrelated random code at or below
          (similarity ``Binomial(Q, 1/K)/Q``): high Spearman, large MAD -- a memory that only
          tells "same" from "different";
        - graded: each module keeps its winner with probability ``o`` and otherwise takes one of
          the other ``K - 1`` cells (similarity ``Binomial(Q, o)/Q``): high Spearman, small MAD
          (``E|B/Q - o|``, about ``sqrt(o(1-o)/Q) * 0.8``) -- what a graded, similarity-preserving
          code looks like.

        Spearman alone does not separate them; a model earns "graded" by a MAD near the graded
        null's and well below the threshold null's.

    ``code_fn=None`` measures only the nulls (model figures are None).
    """
    n_bits = check_int(n_bits, "n_bits", 2)
    Q = check_int(Q, "Q")
    K = check_int(K, "K", 2)
    ovl = check_levels(overlaps, "overlaps")
    n_pairs = check_int(n_pairs, "n_pairs")
    if n_active is None:
        n_active = max(1, n_bits // 10)
    n_active = check_int(n_active, "n_active")
    if 2 * n_active > n_bits:
        raise ValueError(f"n_active must be <= n_bits / 2 = {n_bits // 2}, got {n_active}")
    if code_fn is not None and not callable(code_fn):
        raise TypeError("code_fn must be callable or None")
    g = as_generator(rng, "rng")
    base = np.zeros((n_pairs, n_bits), dtype=np.uint8)
    for i in range(n_pairs):
        base[i, g.choice(n_bits, size=n_active, replace=False)] = 1
    var, real = [], []
    for o in ovl:
        k_keep = int(round(o * n_active))
        for i in range(n_pairs):
            var.append(_modular_variant(n_bits, base[i], k_keep, g))
            real.append(k_keep / n_active)
    var = np.asarray(var)
    real = np.asarray(real)
    level_of = np.repeat(np.arange(len(ovl)), n_pairs)

    # nulls
    w0 = g.integers(0, K, size=(len(real), Q))
    keep = g.random((len(real), Q)) < real[:, None]
    other = (w0 + g.integers(1, K, size=w0.shape)) % K
    graded_sim = (np.where(keep, w0, other) == w0).mean(axis=1)
    rand = g.integers(0, K, size=w0.shape)
    thr_sim = (np.where(real[:, None] > 0.5, w0, rand) == w0).mean(axis=1)

    def summary(sim):
        return {
            "spearman": spearman(real, sim),
            "mad": float(np.mean(np.abs(sim - real))),
            "mean": [float(sim[level_of == j].mean()) for j in range(len(ovl))],
        }

    out: dict = {
        "overlaps": ovl,
        "input_overlap": [float(np.mean(real[level_of == j])) for j in range(len(ovl))],
        "Q": Q,
        "K": K,
        "n_pairs": n_pairs,
    }
    for name, sim in (("graded", graded_sim), ("threshold", thr_sim)):
        s = summary(sim)
        out[f"{name}_spearman"] = s["spearman"]
        out[f"{name}_mad"] = s["mad"]
        out[f"{name}_mean"] = s["mean"]
    if code_fn is None:
        out.update(model_spearman=None, model_mad=None, model_mean=None)
        return out
    c0 = np.asarray(code_fn(base))
    cv = np.asarray(code_fn(var))
    if c0.shape != (n_pairs, Q) or cv.shape != (len(var), Q):
        raise ValueError(
            f"code_fn must return (n, Q={Q}) winners; got {c0.shape} for {base.shape[0]} inputs"
        )
    c0 = np.tile(c0, (len(ovl), 1))  # variant j*n_pairs+i is compared with base i
    sim = ((cv == c0) & (c0 >= 0)).mean(axis=1)
    s = summary(sim)
    out["model_spearman"] = s["spearman"]
    out["model_mad"] = s["mad"]
    out["model_mean"] = s["mean"]
    return out
