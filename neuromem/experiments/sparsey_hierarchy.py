"""Sparsey hierarchy: what an upper level adds to a level of local macrocolumns.

``sparsey-hierarchy``: items are made of parts, one per region of the input. Level 1 has one
MAC per region; level 2 has one MAC over all of level 1. Items are stored single-trial, each
part recurring in several items. A probe that recombines parts of stored items (every part
familiar, the whole never seen) looks exactly as familiar as a stored item to every level-1 MAC;
only a level that sees the parts together, and learned their combinations, can tell the two
apart. The experiment measures that with the familiarity G of the upper level against the mean
G of the level-1 MACs of a one-level model that stored the same items, in the same run, with
three ablations (the upper level frozen before it learns anything; ``chi = 0`` at both levels,
so a recurring part gets a new code each time; the upper level with the default ``G_min``) and
a bag-of-parts null.

Persistence (``seq_*`` metrics): sequences that share every frame but the first are stored
single-trial; which sequence is running must be carried from frame 0 to the last frame. Level 1
carries it through its horizontal chain of codes, which one corrupted frame (a never-seen frame,
or a blank one) breaks. An upper level whose code persists over ``persistence`` frames, and
reaches level 1 through top-down (D) weights, holds it across the corrupted frame. Reported for
the two-level model, level 1 alone, the upper level without persistence, without D, and with
``chi = 0``, against chance (the last frame is shared).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import numpy as np

from neuromem.experiments import RunContext, register
from neuromem.experiments.sparsey import _plt, roc_auc
from neuromem.sdr import pairwise_code_similarity
from neuromem.sparsey import LevelConfig, Sparsey, SparseyConfig

__all__ = ["HierarchyConfig", "sequence_model_config"]


def _sequence_levels() -> list[LevelConfig]:
    return [
        LevelConfig(Q=16, K=32, h_radius=0, use_d=True, saturation=1.0, start_unit=False),
        LevelConfig(Q=8, K=32, h_radius=0, persistence=4, saturation=1.0),
    ]


def _levels() -> list[LevelConfig]:
    return [
        LevelConfig(grid=(4, 1), rf=(1, 256), Q=8, K=16, saturation=1.0),
        LevelConfig(grid=(1, 1), rf=None, Q=8, K=32, saturation=1.0, G_min=0.9),
    ]


@dataclass
class HierarchyConfig:
    """Config of ``sparsey-hierarchy``.

    Attributes
    ----------
    model : SparseyConfig
        The two-level model. Input: one row of ``region_size`` inputs per region
        (``input_shape = (n_regions, region_size)``). Level 1: one MAC per region (grid
        ``(n_regions, 1)``, RF one row), Q = 8, K = 16; level 2: one MAC over all of level 1,
        Q = 8, K = 32, ``G_min = 0.9``. No critical period (``saturation = 1``) at either level;
        the other CSA constants are the model's defaults. The upper level's ``G_min`` is high
        so that a new combination gets a new code even when it shares all but one part with a
        stored item (G near 0.75): with the default 0.3 it takes over the code of that item,
        and recombinations become familiar through the crosstalk (reported as
        ``*_top_G_min_default``). The one-level model is level 1 alone.
    parts_per_region : int
        Random part patterns per region; items draw one part per region.
    n_items : int
        Distinct items stored (each part recurs in about ``n_items / parts_per_region`` items).
    n_active : int
        Active inputs of each part (in its region).
    n_probes : int
        Probes of each kind: stored items, recombinations of stored parts (never stored as a
        whole), and items of new parts.
    sequence_model : SparseyConfig
        The model of the persistence part: one MAC per level over 256 inputs; level 1 (Q = 16,
        K = 32) with H from its own previous code, D from level 2 and no sequence-start unit;
        level 2 (Q = 8, K = 32) with H from its own previous code and ``persistence = 4``. No
        critical period. Level 1 goes without the start unit because after a blank frame it
        has no previous code, and the start unit would make it take the next frame for the
        first of a sequence (reported as ``*_l1_start_unit``).
    n_sequences : int
        Sequences stored, one presentation each. They share every frame but the first.
    sequence_length : int
        Frames per sequence.
    sequence_active : int
        Active inputs per frame.
    corrupt_frame : int
        The frame replaced (by a never-seen random frame, or by a blank one) at recognition.
    """

    model: SparseyConfig = field(
        default_factory=lambda: SparseyConfig(
            input_shape=(4, 256), levels=_levels(), on_saturated="ignore"
        )
    )
    parts_per_region: int = 6
    n_items: int = 48
    n_active: int = 16
    n_probes: int = 48
    sequence_model: SparseyConfig = field(
        default_factory=lambda: SparseyConfig(
            input_shape=(256,), levels=_sequence_levels(), on_saturated="ignore"
        )
    )
    n_sequences: int = 10
    sequence_length: int = 8
    sequence_active: int = 24
    corrupt_frame: int = 3

    @property
    def n_regions(self) -> int:
        return int(self.model.input_shape[0])

    @property
    def region_size(self) -> int:
        return int(self.model.input_shape[1])

    def validate(self):
        shape = tuple(self.model.input_shape)
        if len(shape) != 2 or shape[0] < 2:
            raise ValueError(
                f"model.input_shape must be (n_regions >= 2, region_size), got {shape}"
            )
        if len(self.model.levels) != 2:
            raise ValueError("model: this experiment needs exactly two levels")
        l1, l2 = self.model.levels
        if tuple(l1.grid) != (shape[0], 1) or tuple(l1.rf or ()) != (1, shape[1]):
            raise ValueError(
                f"model.levels.0: one MAC per region: grid ({shape[0]}, 1) and rf (1, {shape[1]})"
                f", got grid {l1.grid} and rf {l1.rf}"
            )
        if tuple(l2.grid) != (1, 1) or (l2.rf is not None and tuple(l2.rf) != (shape[0], 1)):
            raise ValueError("model.levels.1: one MAC over all of level 1 (grid (1, 1))")
        if self.parts_per_region < 2:
            raise ValueError(f"parts_per_region must be >= 2, got {self.parts_per_region}")
        n_wholes = self.parts_per_region**self.n_regions
        if not 2 <= self.n_items <= n_wholes // 2:
            raise ValueError(
                f"n_items must be in [2, {n_wholes // 2}] (half the {n_wholes} combinations, "
                f"so that recombinations remain), got {self.n_items}"
            )
        if not 1 <= self.n_active < self.region_size:
            raise ValueError(f"n_active must be in [1, {self.region_size}), got {self.n_active}")
        if not 2 <= self.n_probes <= self.n_items:
            raise ValueError(f"n_probes must be in [2, n_items], got {self.n_probes}")
        self.model.validate()
        sm = self.sequence_model
        if len(sm.levels) != 2:
            raise ValueError("sequence_model: the persistence part needs exactly two levels")
        if sm.levels[0].h_radius < 0 or sm.levels[1].h_radius < 0:
            raise ValueError("sequence_model.levels: both levels need H (h_radius >= 0)")
        n_in = int(np.prod(sm.input_shape))
        if not 1 <= self.sequence_active < n_in:
            raise ValueError(f"sequence_active must be in [1, {n_in}), got {self.sequence_active}")
        if self.n_sequences < 2:
            raise ValueError(f"n_sequences must be >= 2, got {self.n_sequences}")
        if self.sequence_length < 3:
            raise ValueError(f"sequence_length must be >= 3, got {self.sequence_length}")
        if not 1 <= self.corrupt_frame <= self.sequence_length - 2:
            raise ValueError(
                f"corrupt_frame must be in [1, sequence_length - 2 = {self.sequence_length - 2}]"
                f", got {self.corrupt_frame}"
            )
        sm.validate()

    def model_config(self, levels: int = 2, **level) -> SparseyConfig:
        """The model: ``levels`` 1 (level 1 alone) or 2; ``level`` values replace those of
        every level (``chi=0``), or of level 2 only when given as ``top={...}``."""
        top = level.pop("top", {})
        lvs = [dataclasses.replace(lv, **level) for lv in self.model.levels[:levels]]
        if top and levels == 2:
            lvs[1] = dataclasses.replace(lvs[1], **top)
        return dataclasses.replace(self.model, levels=lvs)


def sequence_model_config(cfg: HierarchyConfig, levels: int = 2, **changes) -> SparseyConfig:
    """The persistence part's model: ``levels`` 1 (level 1 alone, no D) or 2; ``changes``
    maps ``"l1"``/``"l2"``/``"all"`` to level values replaced (ablations)."""
    lvs = list(cfg.sequence_model.levels[:levels])
    if levels == 1:
        lvs[0] = dataclasses.replace(lvs[0], use_d=False)
    for key, values in changes.items():
        idx = {"l1": [0], "l2": [1], "all": list(range(len(lvs)))}[key]
        for i in idx:
            lvs[i] = dataclasses.replace(lvs[i], **values)
    return dataclasses.replace(cfg.sequence_model, levels=lvs)


def _which_sequence(got: np.ndarray, learned: np.ndarray) -> float:
    """Fraction of sequences whose recognised last code is nearer to their own learned last
    code than to every other (a tie is a miss)."""
    sim = pairwise_code_similarity(got, learned)
    hits = [np.flatnonzero(sim[i] == sim[i].max()).tolist() == [i] for i in range(len(sim))]
    return float(np.mean(hits))


def _persistence(cfg: HierarchyConfig, rng, ctx: RunContext) -> dict:
    """The ``seq_*`` metrics: sequences told apart across a corrupted frame."""
    n_in = int(np.prod(cfg.sequence_model.input_shape))
    M, L = cfg.n_sequences, cfg.sequence_length
    starts = _frames(rng, M, n_in, cfg.sequence_active)
    shared = _frames(rng, L - 1, n_in, cfg.sequence_active)
    seqs = [np.concatenate([starts[m : m + 1], shared]) for m in range(M)]
    garbage = _frames(rng, M, n_in, cfg.sequence_active)
    probes = {"clean": seqs, "corrupted": [], "blank": []}
    for m, s in enumerate(seqs):
        g = s.copy()
        g[cfg.corrupt_frame] = garbage[m]
        probes["corrupted"].append(g)
        b = s.copy()
        b[cfg.corrupt_frame] = False
        probes["blank"].append(b)
    model_seed = int(rng.integers(2**31))
    conditions = {
        "two_level": sequence_model_config(cfg, 2),
        "one_level": sequence_model_config(cfg, 1),
        "no_persistence": sequence_model_config(cfg, 2, l2={"persistence": 1}),
        "no_d": sequence_model_config(cfg, 2, l1={"use_d": False}),
        "chi0": sequence_model_config(cfg, 2, all={"chi": 0.0}),
        "l1_start_unit": sequence_model_config(cfg, 2, l1={"start_unit": True}),
    }
    out: dict = {}
    for name, mcfg in ctx.progress(conditions.items(), desc="sequence models"):
        model = Sparsey(mcfg, seed=model_seed)
        last = np.stack([model.learn_sequence(s).winners[0][-1, 0] for s in seqs])
        for kind, ps in probes.items():
            got = np.stack([model.encode_sequence(p).winners[0][-1, 0] for p in ps])
            out[f"seq_accuracy_{kind}_{name}"] = _which_sequence(got, last)
    out["seq_chance"] = 1.0 / M
    out["seq_persistence_gain"] = (
        out["seq_accuracy_blank_two_level"] - out["seq_accuracy_blank_one_level"]
    )
    return out


def _frames(rng, n: int, n_inputs: int, n_active: int) -> np.ndarray:
    """``n`` random binary frames with ``n_active`` of ``n_inputs`` on."""
    out = np.zeros((n, n_inputs), dtype=bool)
    for i in range(n):
        out[i, rng.choice(n_inputs, n_active, replace=False)] = True
    return out


def _parts(rng, cfg: HierarchyConfig, n: int) -> np.ndarray:
    """``n`` random part patterns per region: bool ``(n_regions, n, region_size)``."""
    out = np.zeros((cfg.n_regions, n, cfg.region_size), dtype=bool)
    for r in range(cfg.n_regions):
        for i in range(n):
            out[r, i, rng.choice(cfg.region_size, cfg.n_active, replace=False)] = True
    return out


def _compose(parts: np.ndarray, combos: np.ndarray) -> np.ndarray:
    """Frames ``(n, n_regions, region_size)`` of the part indices ``combos (n, n_regions)``."""
    return np.stack([parts[np.arange(parts.shape[0]), c] for c in combos])


def _recombinations(rng, stored: np.ndarray, n: int) -> np.ndarray:
    """``n`` distinct combinations never stored, each region's part taken from a stored item
    (so every part of a probe is familiar in its region)."""
    seen = {tuple(c) for c in stored}
    possible = int(np.prod([np.unique(stored[:, r]).size for r in range(stored.shape[1])]))
    if possible - len(seen) < n:
        raise ValueError(
            f"n_probes: only {possible - len(seen)} recombinations of the stored parts exist, "
            f"{n} asked for (store fewer items or use more parts per region)"
        )
    out: list[tuple] = []
    while len(out) < n:
        c = tuple(int(stored[rng.integers(len(stored)), r]) for r in range(stored.shape[1]))
        if c not in seen:
            seen.add(c)
            out.append(c)
    return np.array(out, dtype=np.int64)


def _bag_of_parts(stored: np.ndarray, probes: np.ndarray) -> np.ndarray:
    """Null familiarity: the fraction of a probe's parts that some stored item has in that
    region (what independent regions can know)."""
    known = [set(stored[:, r].tolist()) for r in range(stored.shape[1])]
    return np.array([np.mean([c[r] in known[r] for r in range(len(c))]) for c in probes])


@register(
    "sparsey-hierarchy",
    config=HierarchyConfig,
    description="Sparsey: an upper level tells recombined familiar parts from stored wholes, and "
    "its persistence carries a sequence across a corrupted frame; one-level model, ablations, "
    "nulls in the same run",
)
def sparsey_hierarchy(cfg: HierarchyConfig, ctx: RunContext) -> dict:
    rng = ctx.child_rng()
    parts = _parts(rng, cfg, cfg.parts_per_region + 1)  # the last part of each region is new
    P = cfg.parts_per_region
    wholes = rng.permutation(P**cfg.n_regions)[: cfg.n_items]
    stored = np.stack(np.unravel_index(wholes, (P,) * cfg.n_regions), axis=1)
    X = _compose(parts, stored)
    probe_stored = stored[rng.permutation(cfg.n_items)[: cfg.n_probes]]
    probe_recomb = _recombinations(rng, stored, cfg.n_probes)
    probe_novel = np.full((cfg.n_probes, cfg.n_regions), P)  # new parts everywhere
    probes = {
        "stored": _compose(parts, probe_stored),
        "recombined": _compose(parts, probe_recomb),
        "novel": _compose(parts, probe_novel),
    }
    model_seed = int(rng.integers(2**31))
    conditions = {
        "two_level": cfg.model_config(2),
        "one_level": cfg.model_config(1),
        "upper_frozen": cfg.model_config(2, top={"saturation": 1e-9}),
        "chi0": cfg.model_config(2, chi=0.0),
        "top_G_min_default": cfg.model_config(2, top={"G_min": LevelConfig.G_min}),
    }
    G: dict[str, dict[str, np.ndarray]] = {}
    with ctx.phase("learn_probe"):
        for name, mcfg in ctx.progress(conditions.items(), desc="models"):
            model = Sparsey(mcfg, seed=model_seed)
            model.learn(X)
            G[name] = {}
            for kind, frames in probes.items():
                enc = model.encode(frames)
                # familiarity of the top level (the mean over level-1 MACs for one level)
                G[name][kind] = np.nanmean(enc.G[-1], axis=1)
                if name == "two_level":
                    G["two_level_bottom"] = G.get("two_level_bottom", {})
                    G["two_level_bottom"][kind] = np.nanmean(enc.G[0], axis=1)
    null = {
        "stored": _bag_of_parts(stored, probe_stored),
        "recombined": _bag_of_parts(stored, probe_recomb),
        "novel": _bag_of_parts(stored, probe_novel),
    }
    G["null_bag_of_parts"] = null
    out: dict = {}
    for name, g in G.items():
        out[f"auc_stored_vs_recombined_{name}"] = roc_auc(g["stored"], g["recombined"])
        out[f"auc_stored_vs_novel_{name}"] = roc_auc(g["stored"], g["novel"])
        for kind in probes:
            out[f"mean_G_{kind}_{name}"] = float(np.mean(g[kind]))
    out["upper_level_gain"] = (
        out["auc_stored_vs_recombined_two_level"] - out["auc_stored_vs_recombined_one_level"]
    )
    with ctx.phase("persistence"):
        out.update(_persistence(cfg, rng, ctx))
    with ctx.phase("plot"):
        plt = _plt()
        names = ["two_level", "one_level", "upper_frozen", "chi0", "null_bag_of_parts"]
        fig, (ax, ax2) = plt.subplots(1, 2, figsize=(13, 3.8))
        width = 0.27
        for j, kind in enumerate(probes):
            ax.bar(
                np.arange(len(names)) + (j - 1) * width,
                [np.mean(G[n][kind]) for n in names],
                width,
                label=f"{kind} probes",
            )
        ax.set_xticks(
            np.arange(len(names)),
            [f"{n}\nAUC {out[f'auc_stored_vs_recombined_{n}']:.2f}" for n in names],
            fontsize=7,
        )
        ax.set(ylabel="mean familiarity (top level)", ylim=(0, 1.3), yticks=np.linspace(0, 1, 6))
        ax.set_title("stored wholes vs recombined familiar parts", fontsize=9)
        ax.legend(fontsize=7, ncol=3, loc="upper center")
        snames = ["two_level", "one_level", "no_persistence", "no_d", "chi0", "l1_start_unit"]
        for j, kind in enumerate(("clean", "corrupted", "blank")):
            ax2.bar(
                np.arange(len(snames)) + (j - 1) * width,
                [out[f"seq_accuracy_{kind}_{n}"] for n in snames],
                width,
                label=f"{kind} frame {cfg.corrupt_frame}" if kind != "clean" else "clean",
            )
        ax2.axhline(out["seq_chance"], color="grey", ls=":", label="chance")
        ax2.set_xticks(np.arange(len(snames)), snames, fontsize=7)
        ax2.set(ylabel="sequences told apart at the last frame", ylim=(0, 1.3),
                yticks=np.linspace(0, 1, 6))  # fmt: skip
        ax2.set_title(
            f"persistence: {cfg.n_sequences} sequences sharing all but frame 0", fontsize=9
        )
        ax2.legend(fontsize=7, ncol=4, loc="upper center")
        fig.suptitle("Sparsey hierarchy: the two-level model beside its ablations and a null")
        fig.tight_layout()
        ctx.save_figure(fig, "hierarchy")
    return out
