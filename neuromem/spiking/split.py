"""Splitting a network into population slices, and running it with the slices joined again.

sPyNNaker keeps the synapses of one presynaptic neuron onto one core's neurons in one row of
at most 254 plastic synapses (sPyNNaker 7.4.1: ``SynapseRowTooBigException``); an all-to-all
plastic projection onto more than 254 neurons does not map. :func:`split_network` cuts every
population larger than ``slice_size`` into slices of at most ``slice_size`` neurons (balanced:
``ceil(size / slice_size)`` slices whose sizes differ by at most one, in order) and every
projection into one projection per pair of (pre slice, post slice) that holds synapses, with
the same synapse type and receptor: each slice is then a population of its own (on sPyNNaker
its own cores), and no row is longer than ``slice_size``. Connectors are kept where they
mean the same on the slice pair (one-to-one on aligned slices, all-to-all, all-to-all without
same-index pairs on aligned slices); anything else becomes a ``FromListConnector`` of the
block's pairs in local indices, with their weights.

:class:`SlicedSimulator` runs the split network on any backend and shows the caller the
network it gave: spike-source times set on the original populations (and
:meth:`~SlicedSimulator.emit_late`) are handed to the slices before each run, and spikes,
weights and the mapping are joined back under the original labels and indices. The split
network is the same network: on the exact backends (numba, brian2) it gives the same spikes
(tested).

Slices are labelled ``"<label>[a:b]"`` (neurons ``a`` to ``b - 1`` of the original) and the
projections between them ``"<label>[a:b->c:d]"``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .network import (
    AllToAllConnector,
    FromListConnector,
    Network,
    OneToOneConnector,
    Projection,
    SpikeSourceArray,
)

__all__ = ["SplitPlan", "split_network", "slice_bounds", "check_slice_size", "SlicedSimulator"]


def check_slice_size(slice_size, name: str = "slice_size") -> int:
    """``slice_size`` as an int >= 1 (TypeError or ValueError naming ``name`` otherwise)."""
    if isinstance(slice_size, bool) or not isinstance(slice_size, (int, np.integer)):
        raise TypeError(f"{name} must be an int, got {type(slice_size).__name__}")
    if slice_size < 1:
        raise ValueError(f"{name} must be >= 1, got {slice_size}")
    return int(slice_size)


def slice_bounds(size: int, slice_size: int) -> list[tuple[int, int]]:
    """``[(a, b), ...]``: ``size`` neurons cut into ``ceil(size / slice_size)`` balanced slices.

    Examples
    --------
    >>> slice_bounds(10, 4)
    [(0, 4), (4, 7), (7, 10)]
    >>> slice_bounds(3, 4)
    [(0, 3)]
    """
    k = max(1, math.ceil(size / slice_size))
    # the larger slices first: sizes differ by one at most, each <= slice_size
    q, r = divmod(size, k)
    edges = [0]
    for i in range(k):
        edges.append(edges[-1] + q + (1 if i < r else 0))
    return [(edges[i], edges[i + 1]) for i in range(k)]


@dataclass
class SplitPlan:
    """A network and its split version.

    Attributes
    ----------
    original : Network
        The network as described.
    network : Network
        The split network (the same objects' labels where nothing was split).
    slices : dict
        Original population label -> ``[(slice label, a, b), ...]`` in order.
    parts : dict
        Original projection label -> ``[(part label, pre a, post a), ...]`` (the offsets of
        the part's local indices in the original populations).
    slice_size : int
    """

    original: Network
    network: Network
    slices: dict
    parts: dict
    slice_size: int

    @property
    def is_split(self) -> bool:
        """True when some population was cut into more than one slice."""
        return any(len(s) > 1 for s in self.slices.values())


def _block(pr: Projection, pa, pb, qa, qb):
    """The connector of the synapses of ``pr`` from pre ``[pa, pb)`` to post ``[qa, qb)``, in
    local indices, or None when the block holds none."""
    c = pr.connector
    if isinstance(c, AllToAllConnector):
        if c.allow_self_connections or max(pa, qa) >= min(pb, qb):
            return AllToAllConnector()
        if (pa, pb) == (qa, qb):
            return AllToAllConnector(allow_self_connections=False)
    if isinstance(c, OneToOneConnector) and (pa, pb) == (qa, qb):
        return OneToOneConnector()
    pre, post = pr.connections()
    keep = (pre >= pa) & (pre < pb) & (post >= qa) & (post < qb)
    if not keep.any():
        return None
    rows = [pre[keep] - pa, post[keep] - qa]
    if getattr(c, "weights", None) is not None:
        rows.append(pr.initial_weights()[keep])
    return FromListConnector(np.column_stack(rows))


def split_network(network: Network, slice_size: int) -> SplitPlan:
    """Cut ``network`` into slices of at most ``slice_size`` neurons (see the module).

    Populations of ``slice_size`` neurons or fewer keep their label and are the same objects
    in the split network; so are projections between them.

    Raises
    ------
    TypeError, ValueError
        ``network`` not a Network, ``slice_size`` not an int >= 1.
    """
    if not isinstance(network, Network):
        raise TypeError(f"network must be a Network, got {type(network).__name__}")
    slice_size = check_slice_size(slice_size)
    out = Network(dt=network.dt)
    slices: dict[str, list] = {}
    new_pops: dict[str, list] = {}
    for p in network.populations.values():
        bounds = slice_bounds(p.size, slice_size)
        if len(bounds) == 1:
            out.add(p)
            slices[p.label], new_pops[p.label] = [(p.label, 0, p.size)], [p]
            continue
        slices[p.label], new_pops[p.label] = [], []
        for a, b in bounds:
            if p.is_source:
                cell = SpikeSourceArray(p.celltype.spike_times[a:b])
            else:
                cell = p.celltype
            sp = out.population(b - a, cell, f"{p.label}[{a}:{b}]", p.record)
            slices[p.label].append((sp.label, a, b))
            new_pops[p.label].append(sp)
    parts: dict[str, list] = {}
    for pr in network.projections.values():
        pre_s, post_s = slices[pr.pre.label], slices[pr.post.label]
        if len(pre_s) == 1 and len(post_s) == 1:
            out.add(pr)
            parts[pr.label] = [(pr.label, 0, 0)]
            continue
        parts[pr.label] = []
        for (_, pa, pb), pre_pop in zip(pre_s, new_pops[pr.pre.label]):
            for (_, qa, qb), post_pop in zip(post_s, new_pops[pr.post.label]):
                conn = _block(pr, pa, pb, qa, qb)
                if conn is None:
                    continue
                label = f"{pr.label}[{pa}:{pb}->{qa}:{qb}]"
                out.projection(pre_pop, post_pop, conn, pr.synapse_type, pr.receptor_type, label)
                parts[pr.label].append((label, pa, qa))
    return SplitPlan(network, out, slices, parts, slice_size)


class SlicedSimulator:
    """A backend's simulator of the split network, read and driven as the original network.

    Parameters
    ----------
    network : Network
        The network as described (its sources are read at every :meth:`run`).
    backend : callable
        The backend's simulator class (``backend(split_network, **options)``).
    slice_size : int
        Largest slice (see :func:`split_network`).
    **options
        Passed to the backend. A PyNN ``on_build(sim, populations)`` hook gets the original
        labels: a population cut into slices is handed as a :class:`PyNNSlices`.
    """

    def __init__(self, network: Network, backend, slice_size: int, **options):
        network.validate()
        self.plan = split_network(network, slice_size)
        self.network = network
        self.dt = network.dt
        hook = options.get("on_build")
        if hook is not None and callable(hook):
            options["on_build"] = self._wrap_hook(hook)
        self._sync_sources()
        self.inner = backend(self.plan.network, **options)
        self.name = self.inner.name

    # ------------------------------------------------------------------ driving
    def _wrap_hook(self, hook):
        def joined(sim, populations):
            pops = {}
            for label, sl in self.plan.slices.items():
                if len(sl) == 1:
                    pops[label] = populations[sl[0][0]]
                else:
                    pops[label] = PyNNSlices(label, [(populations[s], a, b) for s, a, b in sl])
            for k, v in populations.items():  # anything the backend adds beyond the network
                if k not in self.plan.network.populations:
                    pops.setdefault(k, v)
            return hook(sim, pops)

        return joined

    def _sync_sources(self) -> None:
        """Hand the original sources' times to their slices."""
        for label, sl in self.plan.slices.items():
            p = self.network.populations[label]
            if not p.is_source or len(sl) == 1:
                continue
            trains = p.celltype.spike_times
            for s, a, b in sl:
                self.plan.network.populations[s].celltype.spike_times = trains[a:b]

    @property
    def t(self) -> int:
        """Simulated steps so far."""
        return self.inner.t

    @property
    def time(self) -> float:
        """Simulated time so far (ms)."""
        return self.inner.time

    def run(self, duration: float) -> None:
        """Hand the sources' times to the slices and advance ``duration`` ms."""
        self._sync_sources()
        self.inner.run(duration)

    def emit_late(self, label: str, indices) -> None:
        """The backend's ``emit_late`` for the original population ``label`` (see
        :meth:`~neuromem.spiking.backends.numba_sim.NumbaSimulator.emit_late`)."""
        from .backends._common import _check_late_source, _late_indices, _population

        pop = _population(self.network, label)
        _check_late_source(pop, label, self.t)
        idx = _late_indices(pop, label, indices)
        if len(idx) == 0:
            return
        sl = self.plan.slices[label]
        if len(sl) > 1:  # the original keeps the spikes too, so that the next sync agrees
            t = (self.t - 1) * self.dt
            for k in idx:
                pop.celltype.spike_times[k] = np.sort(np.append(pop.celltype.spike_times[k], t))
        for s, a, b in sl:
            local = idx[(idx >= a) & (idx < b)] - a
            if len(local):
                self.inner.emit_late(s, local)

    def end(self) -> None:
        """End the backend's simulation (PyNN); results stay readable."""
        if hasattr(self.inner, "end"):
            self.inner.end()

    # ------------------------------------------------------------------ reading
    def spikes(self, label: str) -> tuple[np.ndarray, np.ndarray]:
        """Spike times (ms) and original neuron indices of ``label`` so far."""
        from .backends._common import _population

        _population(self.network, label)
        sl = self.plan.slices[label]
        if len(sl) == 1:
            return self.inner.spikes(sl[0][0])
        ts, ids = [], []
        for s, a, _ in sl:
            t, i = self.inner.spikes(s)
            ts.append(np.asarray(t))
            ids.append(np.asarray(i, np.int64) + a)
        t, i = np.concatenate(ts), np.concatenate(ids)
        o = np.lexsort((i, t))
        return t[o], i[o]

    def weights(self, label: str) -> np.ndarray:
        """``(n_pre, n_post)`` weights of the original projection ``label`` (NaN: none)."""
        if label not in self.network.projections:
            raise ValueError(f"label: unknown projection {label!r}")
        parts = self.plan.parts[label]
        if parts == [(label, 0, 0)]:
            return self.inner.weights(label)
        pr = self.network.projections[label]
        w = np.full((pr.pre.size, pr.post.size), np.nan)
        for s, pa, qa in parts:
            ws = self.inner.weights(s)
            w[pa : pa + ws.shape[0], qa : qa + ws.shape[1]] = ws
        return w

    def recorded_v(self, label: str):
        """The backend's membrane potential of ``label`` (``(steps, size)``), slices joined
        along the neurons (None where the backend returned none)."""
        from .backends._common import _population

        _population(self.network, label)
        sl = self.plan.slices[label]
        if len(sl) == 1:
            return self.inner.recorded_v(sl[0][0])
        parts = [self.inner.recorded_v(s) for s, _, _ in sl]
        if any(p is None for p in parts):
            return None
        return np.concatenate([np.asarray(p) for p in parts], axis=1)

    def mapping(self) -> dict:
        """The backend's mapping (sPyNNaker), with cores counted per original population and
        ``slices`` (number of slices per original population)."""
        m = dict(self.inner.mapping())
        per = m.get("cores_per_population", {})
        joined = {}
        for label, sl in self.plan.slices.items():
            n = sum(per.get(s, 0) for s, _, _ in sl)
            if n or label in per:
                joined[label] = n
        m["cores_per_population"] = joined
        m["slices"] = {label: len(sl) for label, sl in self.plan.slices.items()}
        m["slice_size"] = self.plan.slice_size
        return m

    def result(self):
        """Spikes of every recorded population and the weights of every projection, under
        the original labels."""
        from .backends._common import _result

        return _result(self)

    def __getattr__(self, name: str):
        # anything else a backend offers (workdir, quirks, ...) is the backend's
        if name.startswith("_") or name in ("inner", "plan"):
            raise AttributeError(name)
        return getattr(self.inner, name)


class PyNNSlices:
    """A population that a split network holds as slices, as handed to an ``on_build`` hook.

    Attributes
    ----------
    label : str
    slices : list of (PyNN population, a, b)
        Each slice and the original indices ``a`` to ``b - 1`` it holds.
    size : int
    """

    def __init__(self, label: str, slices: list):
        self.label = label
        self.slices = list(slices)
        self.size = self.slices[-1][2]

    def __len__(self) -> int:
        return self.size

    def __repr__(self) -> str:
        return f"PyNNSlices({self.label!r}, {len(self.slices)} slices of {self.size} neurons)"
