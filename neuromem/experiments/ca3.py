"""CA3 spiking content-addressable memory experiments (Numba reference simulator).

``ca3-functional``
    The 9-operation scenario of the hardware recording ``functional_c5_n10.csv``: three
    learns, recall by cue, two recalls by content fragment, a re-learn that overwrites a cue
    (forgetting), recall by cue and by fragment. Each answer read from the output spikes is
    checked against what a content-addressable memory must answer.
``ca3-statemap``
    The 4x4 map application of the paper: 16 cells (cues), each with state flags (content
    bits), the authors' map or a random one; flags are queried by content (the authors'
    queries or every flag alone) and every cell by cue; the cells a query missed and the
    back-to-back learns sharing a flag are counted.
``ca3-capacity``
    Random patterns, orthogonal or overlapping, for growing numbers of stored cues; recall
    accuracy cue -> content and content -> cue against the load.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from neuromem.spiking.backends import BACKENDS

from ._registry import RunContext, register

#: Backends the CA3 experiments accept: the backend table's (numba the default, the reference).
CA3_BACKENDS = BACKENDS

#: Longest spacing or extra gap between operations (ms). The network is silent again a few
#: ms after each operation, so longer waits change nothing but the simulated time (and a
#: spacing of 10**8 ms would simulate for minutes).
MAX_SPACING_MS = 10_000


def _check_network(c: int, n: int, what: str) -> None:
    from neuromem.ca3.network import check_network_size

    check_network_size(c, n, what)


def _provenance(res) -> dict:
    """``{"provenance": summary}`` where the backend reports one (pynn:spiNNaker: lost or
    late packets, overflows, timer overruns; see :mod:`neuromem.spiking.provenance`)."""
    return {} if res.provenance is None else {"provenance": res.provenance}


def _expected_cues(stored: dict[int, np.ndarray], fragment: np.ndarray) -> list[int]:
    return sorted(c for c, p in stored.items() if np.any(p & fragment))


def _bits(n: int, idx) -> np.ndarray:
    b = np.zeros(n, bool)
    b[list(idx)] = True
    return b


# ----------------------------------------------------------------------------- functional
@dataclass
class CA3FunctionalConfig:
    """Parameters of ``ca3-functional``.

    Attributes
    ----------
    spacing : int
        Time between operation starts (ms); the recording used 10, the minimum is 7 (a
        learn's) plus ``read_lag``, the maximum :data:`MAX_SPACING_MS`.
    read_lag : int
        Extra ms during which each operation's output is still read (``CA3Memory``'s
        ``read_lag``): 0 for the backends with the board's timing (``pynn:nest`` among them);
        ``pynn:brian2`` answers three steps late (3).
    """

    spacing: int = 10
    read_lag: int = 0

    def validate(self) -> None:
        if not 0 <= self.read_lag <= 100:
            raise ValueError(f"read_lag must lie in [0, 100] ms, got {self.read_lag}")
        low = 7 + self.read_lag
        if not low <= self.spacing <= MAX_SPACING_MS:
            raise ValueError(
                f"spacing must lie in [{low}, {MAX_SPACING_MS}] ms (7: a learn's minimum, "
                f"plus read_lag={self.read_lag}), got {self.spacing}"
            )


FUNCTIONAL_SCENARIO = (
    ("learn", 0, (0, 1, 8, 9)),
    ("learn", 4, (1, 5, 6)),
    ("learn", 3, (4, 5, 6)),
    ("recall_cue", 0, None),
    ("recall_content", None, (6,)),
    ("recall_content", None, (0, 4)),
    ("learn", 3, (1, 3, 4, 8)),
    ("recall_cue", 3, None),
    ("recall_content", None, (6,)),
)


@register(
    "ca3-functional",
    config=CA3FunctionalConfig,
    description="CA3 memory: the 9-operation learn/recall/forget scenario of the recording",
    backends=CA3_BACKENDS,
)
def ca3_functional(cfg: CA3FunctionalConfig, ctx: RunContext) -> dict:
    """Run the recorded scenario and check every answer read from the output spikes."""
    from neuromem.ca3 import CA3Memory

    c, n = 5, 10
    mem = CA3Memory(c, n, backend=ctx.backend, read_lag=cfg.read_lag)
    stored: dict[int, np.ndarray] = {}
    correct, kinds = [], []
    with ctx.phase("simulate"):
        for k, (kind, cue, bits) in enumerate(FUNCTIONAL_SCENARIO):
            at = k * cfg.spacing
            if kind == "learn":
                p = _bits(n, bits)
                op = mem.learn(cue, p, at=at)
                stored[cue] = p
                # the output shows the new pattern (old associations may echo: forgetting
                # happens during the learn, as on the board)
                ok = op.out_cues == [cue] and bool(np.all(op.out_content[p]))
            elif kind == "recall_cue":
                op = mem.recall(cue=cue, at=at)
                ok = op.out_cues == [cue] and np.array_equal(op.out_content, stored[cue])
            else:
                frag = _bits(n, bits)
                op = mem.recall(content=frag, at=at)
                ok = op.out_cues == _expected_cues(stored, frag)
            correct.append(bool(ok))
            kinds.append(kind)
        mem.sim.run(float(len(FUNCTIONAL_SCENARIO) * cfg.spacing + 1 - mem.sim.t))
    res = mem.result()
    counts = res.spike_counts()
    ctx.save_array(
        "spikes",
        **{f"{lab}_t": res.spikes(lab)[0] for lab in res.labels},
        **{f"{lab}_i": res.spikes(lab)[1] for lab in res.labels},
    )
    ctx.save_figure(mem.plot_raster(), "raster")
    return {
        "n_operations": len(correct),
        "operations_correct": int(sum(correct)),
        "operation_ok": [int(x) for x in correct],
        "simulated_ms": mem.time,
        "total_spikes": int(sum(counts.values())),
        **_provenance(res),
    }


# ----------------------------------------------------------------------------- statemap
#: The authors' state flags (content bits) of the state-map application.
STATEMAP_FLAG_NAMES = ("unknown", "initial", "goal", "free", "path", "obstacle")


@dataclass
class CA3StatemapConfig:
    """Parameters of ``ca3-statemap``.

    Attributes
    ----------
    side : int
        The map has ``side x side`` cells (cues).
    n_flags : int
        State flags per cell (content bits).
    flags_per_cell : int
        Active flags drawn at random for each cell when no ``map`` is given (the recording
        used 1).
    map : list of list of int
        The map itself: ``side`` rows of ``side`` flags, one flag per cell (the authors':
        ``[[0, 5, 1, 3], [0, 3, 4, 5], [0, 5, 4, 3], [2, 4, 4, 3]]``); empty: drawn at random
        from the seed.
    queries : list of list of int
        Recalls by content, each a set of flags (the authors': ``[[1, 2, 4], [3], [5],
        [0]]``: the robot's path from start to goal, free cells, obstacles, unknown cells);
        empty: one query per flag.
    cell_queries : bool
        Also recall every cell by cue after the flag queries.
    gap : int
        Extra ms between operations beyond their minimum spacing (0: minimum spacing; at
        most :data:`MAX_SPACING_MS`).
    """

    side: int = 4
    n_flags: int = 6
    flags_per_cell: int = 1
    map: list[list[int]] = field(default_factory=list)
    queries: list[list[int]] = field(default_factory=list)
    cell_queries: bool = True
    gap: int = 0

    def validate(self) -> None:
        if self.side < 1 or self.n_flags < 1:
            raise ValueError("side and n_flags must be >= 1")
        if not 0 <= self.gap <= MAX_SPACING_MS:
            raise ValueError(f"gap must lie in [0, {MAX_SPACING_MS}] ms, got {self.gap}")
        if not 1 <= self.flags_per_cell <= self.n_flags:
            raise ValueError(f"flags_per_cell must lie in [1, n_flags={self.n_flags}]")
        _check_network(self.side * self.side, self.n_flags, f"side={self.side}, n_flags")
        if self.map:
            if self.flags_per_cell != 1:
                raise ValueError("flags_per_cell: a given map has one flag per cell; leave it 1")
            if len(self.map) != self.side or any(len(r) != self.side for r in self.map):
                raise ValueError(
                    f"map: expected {self.side} rows of {self.side} flags (side={self.side}), "
                    f"got rows of {[len(r) for r in self.map]}"
                )
            for r, row in enumerate(self.map):
                for f in row:
                    if not 0 <= f < self.n_flags:
                        raise ValueError(
                            f"map: row {r} names flag {f}; flags lie in [0, n_flags={self.n_flags})"
                        )
        for k, q in enumerate(self.queries):
            if not q:
                raise ValueError(f"queries[{k}]: a query needs at least one flag")
            if len(set(q)) != len(q) or any(not 0 <= f < self.n_flags for f in q):
                raise ValueError(
                    f"queries[{k}]: expected distinct flags in [0, n_flags={self.n_flags}), got {q}"
                )
        if len(self.queries) > 10_000:
            raise ValueError(f"queries: at most 10000 queries, got {len(self.queries)}")


def statemap_flags(cfg: CA3StatemapConfig, rng) -> np.ndarray:
    """The ``(cells, flags)`` boolean map: ``cfg.map`` or drawn from ``rng``."""
    c, n = cfg.side * cfg.side, cfg.n_flags
    flags = np.zeros((c, n), bool)
    if cfg.map:
        for cell, f in enumerate(np.asarray(cfg.map, int).ravel()):
            flags[cell, f] = True
        return flags
    for cell in range(c):
        flags[cell, rng.choice(n, cfg.flags_per_cell, replace=False)] = True
    return flags


def adjacent_same_flag_pairs(flags: np.ndarray) -> list[tuple[int, int]]:
    """Cells learned one after the other (``k``, ``k + 1``) whose flags share one."""
    return [(k, k + 1) for k in range(len(flags) - 1) if np.any(flags[k] & flags[k + 1])]


@register(
    "ca3-statemap",
    config=CA3StatemapConfig,
    description="CA3 memory: 4x4 grid map with state flags, queried by cell and by flag",
    backends=CA3_BACKENDS,
)
def ca3_statemap(cfg: CA3StatemapConfig, ctx: RunContext) -> dict:
    """Store a flag map (given or random), then query flags by content and cells by cue.

    The whole run is one schedule (:meth:`~neuromem.ca3.CA3Memory.run_schedule`): the cells
    learned in order at the minimum spacing plus ``gap``, then the flag queries, then (with
    ``cell_queries``) every cell by cue.
    """
    import matplotlib.pyplot as plt

    from neuromem.ca3 import CA3Memory
    from neuromem.ca3.schedule import ScheduledOp

    c, n = cfg.side * cfg.side, cfg.n_flags
    flags = statemap_flags(cfg, ctx.rng)
    queries = [list(q) for q in cfg.queries] or [[f] for f in range(n)]
    sched, t = [], 0
    for cell in range(c):
        sched.append(ScheduledOp(t, "learn", cell, flags[cell]))
        t += 7 + cfg.gap
    for q in queries:
        sched.append(ScheduledOp(t, "recall_content", None, _bits(n, q)))
        t += 6 + cfg.gap
    if cfg.cell_queries:
        for cell in range(c):
            sched.append(ScheduledOp(t, "recall_cue", cell, None))
            t += 6 + cfg.gap
    mem = CA3Memory(c, n, backend=ctx.backend)
    with ctx.phase("simulate"):
        done = mem.run_schedule(sched)
    stored = {cell: flags[cell] for cell in range(c)}
    flag_ok, lost, extra, answered = [], [], [], []
    for q, op in zip(queries, done[c : c + len(queries)]):
        exp = _expected_cues(stored, _bits(n, q))
        flag_ok.append(op.out_cues == exp)
        lost.append(sorted(set(exp) - set(op.out_cues)))
        extra.append(sorted(set(op.out_cues) - set(exp)))
        answered.append(list(op.out_cues))
    cell_ok = [
        np.array_equal(op.out_content, flags[k]) for k, op in enumerate(done[c + len(queries) :])
    ]
    pairs = adjacent_same_flag_pairs(flags)
    fig, axes = plt.subplots(1, 2, figsize=(11, 4), gridspec_kw={"wspace": 0.45})
    img = np.zeros((cfg.side, cfg.side))
    for cell in range(c):
        img[cell // cfg.side, cell % cfg.side] = int(np.flatnonzero(flags[cell])[0])
    im = axes[0].imshow(img, cmap="tab10", vmin=-0.5, vmax=9.5)
    cb = fig.colorbar(im, ax=axes[0], ticks=range(10), fraction=0.046)
    cb.set_label("first stored flag")
    for cell in range(c):
        axes[0].text(
            cell % cfg.side,
            cell // cfg.side,
            ",".join(map(str, np.flatnonzero(flags[cell]))),
            ha="center",
            va="center",
            fontsize=8,
        )
    axes[0].set_title("stored flags per cell (text: all of them)")
    axes[0].set(xlabel="grid column", ylabel="grid row",
                xticks=range(cfg.side), yticks=range(cfg.side))  # fmt: skip
    lost_cells = sorted({k for ks in lost for k in ks})
    for cell in lost_cells:
        axes[0].add_patch(
            plt.Rectangle((cell % cfg.side - 0.45, cell // cfg.side - 0.45), 0.9, 0.9,
                          fill=False, edgecolor="red", lw=2)
        )  # fmt: skip
    if lost_cells:
        axes[0].set_xlabel("grid column (red: a cell a flag query missed)")
    bars = {"by flag": np.mean(flag_ok)}
    if cell_ok:
        bars["by cell"] = np.mean(cell_ok)
    axes[1].bar(list(bars), list(bars.values()))
    axes[1].set_ylim(0, 1.05)
    axes[1].set(title="query accuracy", ylabel="fraction of queries answered exactly",
                xlabel="query (flag -> cells, cell -> flags)")  # fmt: skip
    fig.suptitle("CA3 state map: the memory as a map of cells and their flags")
    ctx.save_figure(fig, "statemap")
    ctx.save_figure(mem.plot_raster(), "raster")
    res = mem.result()
    return {
        "n_cells": c,
        "n_flags": n,
        "map": [[int(np.flatnonzero(flags[r * cfg.side + k])[0]) for k in range(cfg.side)]
                for r in range(cfg.side)] if cfg.flags_per_cell == 1 else [],
        "query_flags": queries,
        "flag_query_accuracy": float(np.mean(flag_ok)),
        "flag_query_ok": [int(x) for x in flag_ok],
        "query_cells_answered": answered,
        "cells_lost_per_query": [len(x) for x in lost],
        "cells_extra_per_query": [len(x) for x in extra],
        "cells_lost": int(sum(len(x) for x in lost)),
        "lost_cells": lost_cells,
        "adjacent_same_flag_pairs": len(pairs),
        "adjacent_same_flag_pair_cells": [list(p) for p in pairs],
        "cell_query_accuracy": float(np.mean(cell_ok)) if cell_ok else None,
        "simulated_ms": mem.time,
        "total_spikes": int(sum(res.spike_counts().values())),
        **_provenance(res),
    }  # fmt: skip


# ----------------------------------------------------------------------------- capacity
@dataclass
class CA3CapacityConfig:
    """Parameters of ``ca3-capacity``.

    Attributes
    ----------
    n_cues : int
        Cues ``c`` of the memory (the largest load).
    n_content : int
        Content bits ``n``.
    active : int
        Active bits per pattern.
    loads : list of int
        Numbers of stored cues to test (each <= n_cues).
    modes : list of str
        ``"orthogonal"`` (disjoint patterns; needs ``load * active <= n_content``, larger
        loads are skipped) and/or ``"overlapping"`` (independent random patterns).
    gap : int
        Extra ms between operations beyond their minimum spacing (0: minimum spacing; at
        most :data:`MAX_SPACING_MS`).
    """

    n_cues: int = 16
    n_content: int = 32
    active: int = 3
    loads: list[int] = field(default_factory=lambda: [1, 2, 4, 6, 8, 10, 12, 16])
    modes: list[str] = field(default_factory=lambda: ["orthogonal", "overlapping"])
    gap: int = 0

    def validate(self) -> None:
        if not 0 <= self.gap <= MAX_SPACING_MS:
            raise ValueError(f"gap must lie in [0, {MAX_SPACING_MS}] ms, got {self.gap}")
        if self.n_cues < 1 or self.n_content < 1:
            raise ValueError("n_cues and n_content must be >= 1")
        _check_network(self.n_cues, self.n_content, "n_cues, n_content")
        if not 1 <= self.active <= self.n_content:
            raise ValueError(f"active must lie in [1, n_content={self.n_content}]")
        if not self.loads or any(not 1 <= int(x) <= self.n_cues for x in self.loads):
            raise ValueError(f"loads must be a non-empty list within [1, n_cues={self.n_cues}]")
        if not self.modes:
            raise ValueError("modes is empty: give orthogonal and/or overlapping")
        for m in self.modes:
            if m not in ("orthogonal", "overlapping"):
                raise ValueError(f"modes: unknown mode {m!r} (orthogonal, overlapping)")


def _capacity_point(c, n, patterns, backend, rng, gap):
    from neuromem.ca3 import CA3Memory

    mem = CA3Memory(c, n, backend=backend)
    stored = {}
    for cue, p in enumerate(patterns):
        mem.learn(cue, p, at=mem.earliest + (gap if cue else 0))
        stored[cue] = p
    cue_ok = [
        np.array_equal(mem.recall(cue=k, at=mem.earliest + gap).out_content, stored[k])
        for k in stored
    ]
    cont_ok = []
    for k in stored:
        frag = _bits(n, [rng.choice(np.flatnonzero(stored[k]))])
        op = mem.recall(content=frag, at=mem.earliest + gap)
        cont_ok.append(op.out_cues == _expected_cues(stored, frag))
    return float(np.mean(cue_ok)), float(np.mean(cont_ok))


@register(
    "ca3-capacity",
    config=CA3CapacityConfig,
    description="CA3 memory: recall accuracy (cue->content, content->cue) against load",
    backends=CA3_BACKENDS,
)
def ca3_capacity(cfg: CA3CapacityConfig, ctx: RunContext) -> dict:
    """Store random patterns at growing loads and measure both recall directions."""
    import matplotlib.pyplot as plt

    out: dict[str, list] = {}
    fig, ax = plt.subplots(1, 2, figsize=(9, 3.5), sharey=True)
    for mode in cfg.modes:
        loads, acc_cue, acc_cont = [], [], []
        for load in ctx.progress(sorted(int(x) for x in cfg.loads), desc=mode):
            if mode == "orthogonal" and load * cfg.active > cfg.n_content:
                continue
            rng = ctx.child_rng()
            if mode == "orthogonal":
                perm = rng.permutation(cfg.n_content)
                pats = [
                    _bits(cfg.n_content, perm[k * cfg.active : (k + 1) * cfg.active])
                    for k in range(load)
                ]
            else:
                pats = [
                    _bits(cfg.n_content, rng.choice(cfg.n_content, cfg.active, replace=False))
                    for _ in range(load)
                ]
            with ctx.phase(f"simulate_{mode}"):
                a, b = _capacity_point(cfg.n_cues, cfg.n_content, pats, ctx.backend, rng, cfg.gap)
            loads.append(load)
            acc_cue.append(a)
            acc_cont.append(b)
        out[f"{mode}_n_stored"] = loads
        out[f"{mode}_cue_recall_accuracy"] = acc_cue
        out[f"{mode}_content_recall_accuracy"] = acc_cont
        ax[0].plot(loads, acc_cue, "o-", label=mode)
        ax[1].plot(loads, acc_cont, "o-", label=mode)
    from matplotlib.ticker import MaxNLocator

    ax[0].set_title("recall by cue (cue -> content)")
    ax[1].set_title("recall by content (content -> cue)")
    for a in ax:
        a.set_xlabel("stored cues (one pattern each)")
        a.set_ylim(-0.05, 1.05)
        a.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax[0].set_ylabel("recall accuracy (fraction exact)")
    ax[0].legend(title="patterns")
    fig.suptitle(f"CA3 capacity: {cfg.n_cues} cues, {cfg.n_content} content neurons, "
                 f"{cfg.active} active per pattern")  # fmt: skip
    fig.tight_layout()
    ctx.save_figure(fig, "capacity")
    first = cfg.modes[0] if cfg.modes else "overlapping"
    out["n_stored"] = out.get(f"{first}_n_stored", [])
    out["cue_recall_accuracy"] = out.get(f"{first}_cue_recall_accuracy", [])
    out["content_recall_accuracy"] = out.get(f"{first}_content_recall_accuracy", [])
    return out
