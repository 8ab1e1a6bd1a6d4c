"""``memory-compare``: one protocol (:mod:`neuromem.protocols`) on every memory, side by side.

The four models behind the memory interface (Sparsey, the CA3 spiking memory, the tensor brain's
episodic memory, PMI's working/long-term memory) and two textbook references (Willshaw's
clipped-Hebbian matrix, Kanerva's sparse distributed memory), at one size budget
(``n_synapses``) where the model allows it, on items of ``item_size`` bits with ``item_active``
on (the tensor brain's items are triples of its world: one subject, one predicate and one
object bit of ``item_size = 2 * entities + predicates``, with ``predicates = item_size / 4``).

Sizes (``size_bits`` lists what each memory holds):

- ``sparsey``: one MAC over the whole item, ``K = 8`` cells per CM and
  ``Q = n_synapses / (item_size * K)`` CMs (bottom-up binary weights ``item_size * Q * K``);
- ``ca3``: ``n_cues = n_synapses / (2 * item_size)`` cue neurons (plastic synapses
  ``2 * n_cues * item_size``); it refuses items beyond ``n_cues`` (NaN there);
- ``willshaw``: symmetric auto matrix plus a key matrix filling ``n_synapses``;
- ``sdm``: ``n_synapses`` counters (8-bit), ``n_synapses / (item_size + 64)`` hard locations;
- ``pmi``: working-memory slots ``N`` with ``N * (N + item_size) * 5`` real numbers closest to
  ``n_synapses`` (floats, not bits);
- ``tensorbrain``: not matched; its episodic memory adds one vector per episode (``size_bits``
  is the decoder's parameter count). Its decoder is trained once and shared by its memories.

Metrics (lists aligned with ``models``)
---------------------------------------
capacity_at_95
    Largest load of ``loads`` at which exact recall is >= 0.95 both by key and from partial
    cues (a fraction ``cue_drop`` of the active bits removed); 0 when there is none. A memory
    whose keys are answered well but whose content path fails (or the reverse) gets the
    smaller load.
capacity_at_95_key, capacity_at_95_content
    The same by key only and from partial cues only.
noisy_recall_10, noisy_recall_30
    Exact recall by content from cues with 10 % and 30 % of their active bits moved (bits
    flipped), at half of that memory's ``capacity_at_95`` (at ``loads[0] // 2`` when it is 0).
partial_recall_30
    The same from cues with 30 % of their active bits dropped.
stored_vs_novel_auc
    AUC of the memory's confidence between stored items (partial cues) and never-stored items
    at the load ``capacity_at_95`` (the first load when that is 0): where the memory still
    recalls, does its own confidence tell stored from novel?
stored_vs_novel_auc_max_load, max_load_stored
    The same at the largest load the memory accepted (a memory that stopped storing shows
    0.5 there), and that load.
null_*
    The same figures of the nulls: the no-storage memory (capacity 0, AUC 0.5) and the cue
    itself (no completion: 0 exact recall at any noise).
interference_drop
    Exact recall from partial cues with unrelated lures minus with lures sharing
    ``similarities[-1]`` of the probe's bits (the control is the same load of unrelated lures).
recency_slope
    Exact recall by key of the newest block minus the oldest (0 for a memory that does not
    decay).
forget_auc, null_forget_auc
    Where the memory can forget: AUC of confidence kept vs forgotten after forgetting, and
    before (the null); None elsewhere ("not applicable").
sparsey_similarity_spearman/_mad, graded_null_*, threshold_null_*
    Similarity preservation of Sparsey's codes (the only memory here with modular codes),
    beside the graded and threshold nulls; ``sparsey_no_csa_similarity_*``: the same without
    familiarity-driven code selection (the ablation).

Ablations (in ``models`` by default, after the six): ``sparsey-no-csa`` (``chi = 0``: every
new code drawn at random while learning, so the CSA's mapping of similar inputs to similar
codes is gone; recognition still takes each CM's most strongly driven cell) and
``pmi-no-ltm`` (PMI's working memory alone: what its long-term memory adds or costs).

Figures: ``capacity.png``, ``noisy_recall.png``, ``interference.png``, ``forgetting.png``,
``similarity.png``.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field

import numpy as np

from neuromem import protocols as P
from neuromem.protocols import plots

from ._registry import RunContext, register

ALL_MODELS = ("sparsey", "ca3", "tensorbrain", "pmi", "willshaw", "sdm")
#: ablations run beside the models: name -> (model, what is switched off, adapter options)
ABLATIONS = {
    # chi = 0: no familiarity-driven code selection while learning (every new code drawn at
    # random); recognition is unchanged (each CM's most strongly driven cell)
    "sparsey-no-csa": ("sparsey", {"chi": 0.0}),
    # working memory only: the long-term memory is neither written nor read
    "pmi-no-ltm": ("pmi", {"use_ltm": False}),
}
KNOWN = ALL_MODELS + tuple(ABLATIONS)


def _adapter_default(cls_path: str, name: str):
    """The default of an adapter's constructor argument (its one owner)."""
    import importlib
    import inspect

    mod, cls = cls_path.rsplit(".", 1)
    return inspect.signature(getattr(importlib.import_module(mod), cls)).parameters[name].default


def _sparsey_k() -> int:
    """Cells per CM of the Sparsey memory: the adapter's default (Q follows from the budget)."""
    return _adapter_default("neuromem.memory.sparsey.SparseyMemory", "K")


@dataclass
class MemoryCompareConfig:
    """Parameters of ``memory-compare``.

    Attributes
    ----------
    models : list of str
        Memories to compare (any of ``sparsey, ca3, tensorbrain, pmi, willshaw, sdm``) and the
        ablations ``sparsey-no-csa`` (``chi = 0``: codes drawn at random while learning, no
        familiarity-driven code selection; recognition unchanged) and ``pmi-no-ltm`` (working
        memory only).
    n_synapses : int
        Size budget (modifiable synapses, counters or stored numbers) of each memory.
    item_size, item_active : int
        Bits per item and active bits (all but the tensor brain).
    loads : list of int
        Numbers of stored items of the capacity measure.
    n_probe : int
        Items tested per load (and never-stored items for the AUC); twice as many are tested
        per noise level of the noisy/partial-cue curves.
    cue_drop : float
        Fraction of active bits removed from the partial cues of capacity and interference.
    noise_levels : list of float
        Cue noise levels of the noisy/partial-cue curves (must include 0.1 and 0.3).
    similarities : list of float
        Lure similarities of the interference measure.
    interference_probes, lures_per_probe : int
        Probe items and lures per probe.
    forget_items, forget_blocks : int
        Items of the recency/forgetting measure and the blocks they are stored in.
    similarity_pairs : int
        Base inputs of the similarity-preservation measure (one variant per overlap level).
    similarity_overlaps : list of float
        Input overlap levels of the similarity-preservation measure.
    """

    models: list[str] = field(default_factory=lambda: list(KNOWN))
    n_synapses: int = 16384
    item_size: int = 128
    item_active: int = 12
    loads: list[int] = field(
        default_factory=lambda: [4, 8, 12, 16, 24, 32, 48, 64, 96, 128, 192, 256]
    )
    n_probe: int = 20
    cue_drop: float = 0.25
    noise_levels: list[float] = field(default_factory=lambda: [0.0, 0.1, 0.2, 0.3, 0.5])
    similarities: list[float] = field(default_factory=lambda: [0.0, 0.25, 0.5, 0.75])
    interference_probes: int = 8
    lures_per_probe: int = 3
    forget_items: int = 32
    forget_blocks: int = 4
    similarity_pairs: int = 10
    similarity_overlaps: list[float] = field(default_factory=lambda: [0.0, 0.2, 0.4, 0.6, 0.8, 1.0])

    def validate(self) -> None:
        if not self.models:
            raise ValueError("models is empty")
        bad = [m for m in self.models if m not in KNOWN]
        if bad:
            raise ValueError(f"models: unknown {bad}; known: {', '.join(KNOWN)}")
        if len(set(self.models)) != len(self.models):
            raise ValueError("models holds a name twice")
        if self.item_size < 8:
            raise ValueError(f"item_size must be >= 8, got {self.item_size}")
        if not 1 <= self.item_active <= self.item_size // 2:
            raise ValueError(f"item_active must lie in [1, item_size/2], got {self.item_active}")
        need = self.item_size * (self.item_size + 1) // 2 + 2 * self.item_size
        if self.n_synapses < need:
            raise ValueError(
                f"n_synapses={self.n_synapses} is too small for item_size={self.item_size} "
                f"(Willshaw needs >= {need})"
            )
        if self.n_synapses < 16 * self.item_size:
            raise ValueError(f"n_synapses must be >= 16 * item_size = {16 * self.item_size}")
        P._common.check_loads(self.loads, "loads")
        P._common.check_levels(self.noise_levels, "noise_levels")
        for need in (0.1, 0.3):
            if not any(math.isclose(v, need) for v in self.noise_levels):
                raise ValueError(f"noise_levels must include {need}")
        P._common.check_levels(self.similarities, "similarities")
        P._common.check_levels(self.similarity_overlaps, "similarity_overlaps")
        P._common.check_levels([self.cue_drop], "cue_drop", 0.0, 0.99)
        for name in (
            "n_probe",
            "interference_probes",
            "lures_per_probe",
            "forget_blocks",
            "similarity_pairs",
        ):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        if self.forget_items < max(2, self.forget_blocks):
            raise ValueError("forget_items must be >= max(2, forget_blocks)")
        from neuromem._resources import check_memory

        # every memory is built with about n_synapses modifiable synapses; the cheapest holds
        # a few bytes each while storing (bool matrices and their float32 products), the
        # spiking and learned ones tens of bytes; the items of the largest load on top
        check_memory(
            16.0 * self.n_synapses * len(self.models),
            f"n_synapses={self.n_synapses} ({len(self.models)} memories)",
        )
        check_memory(
            8.0 * self.item_size * (max(self.loads) + self.n_probe),
            f"loads (up to {max(self.loads)}) and n_probe={self.n_probe} of item_size="
            f"{self.item_size}",
        )


# ------------------------------------------------------------------------------ factories
def _factories(cfg: MemoryCompareConfig, rng: np.random.Generator) -> dict:
    """``name -> zero-argument factory of an empty memory`` at the matched size."""
    N, k, B = cfg.item_size, cfg.item_active, cfg.n_synapses
    seeds = {name: int(rng.integers(2**31)) for name in ALL_MODELS}
    out = {}
    counter = {"n": 0}

    def next_seed(name):
        counter["n"] += 1
        return seeds[name] + counter["n"]

    for name in cfg.models:
        base, extra = ABLATIONS.get(name, (name, {}))
        if base == "sparsey":
            from neuromem.memory.sparsey import SparseyMemory

            K = _sparsey_k()
            Q = max(1, B // (N * K))
            out[name] = lambda Q=Q, K=K, extra=extra: SparseyMemory(
                N, Q=Q, K=K, item_active=k, seed=next_seed("sparsey"), on_saturated="ignore",
                **extra,
            )  # fmt: skip
        elif name == "ca3":
            from neuromem.memory.ca3 import CA3ContentMemory

            n_cues = max(1, B // (2 * N))
            out[name] = lambda n_cues=n_cues: CA3ContentMemory(N, n_cues, item_active=k)
        elif name == "tensorbrain":
            from neuromem.memory.tensorbrain import TensorBrainEpisodicMemory

            # a world whose triples fill item_size bits: 2 * entities + predicates
            n_pred = max(2, N // 4)
            n_ent = (N - n_pred) // 2
            n_pred = N - 2 * n_ent
            trained = TensorBrainEpisodicMemory(  # trains the decoder once
                n_entities=n_ent, n_predicates=n_pred, seed=seeds[name]
            )
            world, brain = trained.world, trained.brain
            out[name] = lambda w=world, b=brain: TensorBrainEpisodicMemory(
                world=w, brain=b, seed=next_seed("tensorbrain")
            )
        elif base == "pmi":
            from neuromem.memory.pmi import PMIMemoryAdapter

            # N slots hold N * (N + item_size) * (1 + 4 segments) numbers (the ablation keeps
            # the same slots; its unused long-term memory still counts)
            slots = max(1, int((-N + math.sqrt(N * N + 4 * B / 5)) / 2))
            out[name] = lambda s=slots, extra=extra: PMIMemoryAdapter(
                N, n_slots=s, item_active=k, seed=next_seed("pmi"), **extra
            )
        elif name == "willshaw":
            from neuromem.memory.willshaw import WillshawMemory

            out[name] = lambda: WillshawMemory(N, k, n_synapses=B, seed=next_seed("willshaw"))
        elif name == "sdm":
            from neuromem.memory.sdm import SparseDistributedMemory

            out[name] = lambda: SparseDistributedMemory(N, k, n_counters=B, seed=next_seed("sdm"))
    return out


def _sparsey_code_fn(make_memory, rng: np.random.Generator):
    """code_fn for :func:`~neuromem.protocols.similarity_preservation`: learns the base inputs,
    then codes each variant as Sparsey's CSA chooses it while learning it
    (:meth:`~neuromem.memory.sparsey.SparseyMemory.modular_codes` with ``learn=True``), each
    variant in a copy of the memory that holds the bases only, so variants do not interfere.
    Each copy draws its code from a generator of its own (spawned from ``rng``): a copy of the
    memory's generator would give every variant the same random draws, so that codes chosen at
    random (a novel input, or the ablation without familiarity) would all be the same."""
    state = {}
    seeds = np.random.SeedSequence(int(rng.integers(2**63)))

    def code_fn(X):
        if "mem" not in state:
            state["mem"] = make_memory()
            return state["mem"].modular_codes(X, learn=True)
        codes = []
        for x, child in zip(X, seeds.spawn(len(X))):
            mem = copy.deepcopy(state["mem"])
            mem.model.rng = np.random.default_rng(child)
            codes.append(mem.modular_codes(x[None], learn=True))
        return np.concatenate(codes)

    return code_fn


def _at_capacity(cap: dict) -> int:
    """Index of the load ``capacity_at_both`` (the first load when it is 0)."""
    return cap["loads"].index(cap["capacity_at_both"]) if cap["capacity_at_both"] else 0


def _last_ok(cap: dict) -> int:
    """Index of the largest load the memory accepted."""
    ok = [i for i, v in enumerate(cap["exact_key"]) if not math.isnan(v)]
    return ok[-1]


@register(
    "memory-compare",
    config=MemoryCompareConfig,
    description="capacity, noisy cues, interference, forgetting of six memories beside nulls",
    demo=True,
)
def memory_compare(cfg: MemoryCompareConfig, ctx: RunContext) -> dict:
    rng = ctx.child_rng()
    with ctx.phase("build"):
        makers = _factories(cfg, rng)
    caps, noisy, inter, forg = {}, {}, {}, {}
    sim, sims = None, {}
    for name in ctx.progress(cfg.models, desc="memories"):
        make = makers[name]
        with ctx.phase(f"{name}: capacity"):
            caps[name] = P.capacity(
                make,
                cfg.loads,
                rng,
                n_probe=cfg.n_probe,
                n_novel=cfg.n_probe,
                cue_drop=cfg.cue_drop,
            )
        with ctx.phase(f"{name}: noisy"):
            cap = caps[name]["capacity_at_both"]
            half = max(1, cap // 2 if cap else cfg.loads[0] // 2)
            mem = make()
            items = mem.random_items(half, rng)
            keys = mem.store(items)
            noisy[name] = {
                kind: P.noisy_recall(
                    mem, items, cfg.noise_levels, kind, rng, keys=keys, n_probe=2 * cfg.n_probe
                )
                for kind in ("flip", "drop")
            }
            noisy[name]["load"] = half
        with ctx.phase(f"{name}: interference"):
            inter[name] = P.interference(
                make,
                cfg.similarities,
                rng,
                n_probe=cfg.interference_probes,
                lures_per_probe=cfg.lures_per_probe,
                cue_drop=cfg.cue_drop,
            )
        with ctx.phase(f"{name}: forgetting"):
            forg[name] = P.forgetting(
                make, cfg.forget_items, rng, n_blocks=cfg.forget_blocks, cue_drop=cfg.cue_drop
            )
        if ABLATIONS.get(name, (name,))[0] == "sparsey":  # Sparsey and its ablation
            with ctx.phase(f"{name}: similarity"):
                r = P.similarity_preservation(
                    _sparsey_code_fn(make, rng),
                    cfg.item_size,
                    make().Q,
                    make().K,
                    cfg.similarity_overlaps,
                    rng,
                    n_active=cfg.item_active,
                    n_pairs=cfg.similarity_pairs,
                )
            if name == "sparsey":
                sim = r
            else:
                sims[name] = r
    if sim is None:
        K = _sparsey_k()
        sim = P.similarity_preservation(
            None,
            cfg.item_size,
            max(1, cfg.n_synapses // (cfg.item_size * K)),
            K,
            cfg.similarity_overlaps,
            rng,
            n_active=cfg.item_active,
            n_pairs=cfg.similarity_pairs,
        )

    def level(name, kind, lv):
        r = noisy[name][kind]
        return r["exact"][[math.isclose(v, lv) for v in r["noise_levels"]].index(True)]

    def null_level(name, lv):
        r = noisy[name]["flip"]
        return r["null_exact"][[math.isclose(v, lv) for v in r["noise_levels"]].index(True)]

    models = list(cfg.models)
    metrics: dict = {
        "models": models,
        "size_bits": [caps[m]["size_bits"] for m in models],
        "capacity_at_95": [caps[m]["capacity_at_both"] for m in models],
        "capacity_at_95_key": [caps[m]["capacity_at"] for m in models],
        "capacity_at_95_content": [caps[m]["capacity_at_content"] for m in models],
        "noisy_recall_10": [level(m, "flip", 0.1) for m in models],
        "noisy_recall_30": [level(m, "flip", 0.3) for m in models],
        "partial_recall_30": [level(m, "drop", 0.3) for m in models],
        "noisy_recall_load": [noisy[m]["load"] for m in models],
        "stored_vs_novel_auc": [caps[m]["auc"][_at_capacity(caps[m])] for m in models],
        "stored_vs_novel_auc_max_load": [caps[m]["auc"][_last_ok(caps[m])] for m in models],
        "max_load_stored": [cfg.loads[_last_ok(caps[m])] for m in models],
        "null_capacity_at_95": [caps[m]["null_capacity_at"] for m in models],
        "null_noisy_recall_10": [null_level(m, 0.1) for m in models],
        "null_noisy_recall_30": [null_level(m, 0.3) for m in models],
        "null_stored_vs_novel_auc": [caps[m]["null_auc"][_at_capacity(caps[m])] for m in models],
        "interference_drop": [
            inter[m]["control_exact_content"] - inter[m]["exact_content"][-1] for m in models
        ],
        "recency_slope": [
            forg[m]["recency_exact_key"][-1] - forg[m]["recency_exact_key"][0] for m in models
        ],
        "can_forget": [forg[m]["applicable"] for m in models],
        "forget_auc": [forg[m]["forget_auc"] for m in models],
        "null_forget_auc": [forg[m]["null_forget_auc"] for m in models],
        "sparsey_similarity_spearman": sim["model_spearman"],
        "sparsey_similarity_mad": sim["model_mad"],
        "graded_null_spearman": sim["graded_spearman"],
        "graded_null_mad": sim["graded_mad"],
        "threshold_null_spearman": sim["threshold_spearman"],
        "threshold_null_mad": sim["threshold_mad"],
        "loads": list(cfg.loads),
    }
    for m, r in sims.items():  # the same measure without the code selection's mechanism
        key = m.replace("-", "_")
        metrics[f"{key}_similarity_spearman"] = r["model_spearman"]
        metrics[f"{key}_similarity_mad"] = r["model_mad"]
    for m in models:
        metrics[f"{m}_exact_key"] = caps[m]["exact_key"]
        metrics[f"{m}_auc"] = caps[m]["auc"]

    with ctx.phase("plot"):
        title = f"matched size: {cfg.n_synapses} synapses/counters"
        ctx.save_figure(plots.plot_capacity(caps, title=f"capacity ({title})"), "capacity")
        ctx.save_figure(
            plots.plot_noisy_recall(
                {m: {k: noisy[m][k] for k in ("flip", "drop")} for m in models},
                title="recall from noisy and partial cues (at half of each capacity)",
            ),
            "noisy_recall",
        )
        ctx.save_figure(plots.plot_interference(inter), "interference")
        ctx.save_figure(plots.plot_forgetting(forg), "forgetting")
        ctx.save_figure(plots.plot_similarity(sim, name="sparsey", ablations=sims), "similarity")
    return metrics
