"""Backend-neutral description of spiking networks (PyNN names and units).

Nothing here imports a simulator: a :class:`Network` is plain, validated data that a backend
(see :mod:`neuromem.spiking.backends`) turns into something it can run. Names and units follow
PyNN so that a PyNN builder (``pyNN.brian2``, ``pyNN.spiNNaker``) can map them one to one:
times in ms, potentials in mV, currents (and current-based weights) in nA, capacitance in nF.

Cells
-----
:class:`IF_curr_exp`
    Leaky integrate-and-fire neuron with exponentially decaying current synapses,

    .. math::

        c_m \\frac{dV}{dt} = \\frac{c_m}{\\tau_m}(v_{rest} - V) + I_E - I_I + i_{offset},
        \\qquad \\frac{dI_X}{dt} = -\\frac{I_X}{\\tau_{syn,X}},

    a spike when :math:`V \\ge v_{thresh}`, then :math:`V = v_{reset}` for ``tau_refrac`` ms.
:class:`SpikeSourceArray`
    Neurons that fire at given times.

Connectivity
------------
:class:`OneToOneConnector`, :class:`AllToAllConnector` (with or without self-connections),
:class:`FromListConnector`; synapses :class:`StaticSynapse` or :class:`STDPMechanism` with a
:class:`SpikePairRule` timing dependence and :class:`AdditiveWeightDependence`:

.. math::

    \\Delta w^+ = A_+ w_{max}\\, e^{-\\Delta t/\\tau_+}, \\qquad
    \\Delta w^- = A_- w_{max}\\, e^{-\\Delta t/\\tau_-}, \\qquad
    w \\in [w_{min}, w_{max}]

in PyNN's convention, where ``A_plus`` and ``A_minus`` are fractions of ``w_max``. The
sPyNNaker that made the CA3 hardware recordings applied them as absolute weight changes
(:math:`\\Delta w^+ = A_+ e^{-\\Delta t/\\tau_+}` in nA); the Numba backend does the same by
default (``amplitude_times_wmax=False``) and a Brian2 or PyNN builder that must agree with the
board has to scale ``A`` by ``1 / w_max``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, fields

import numpy as np

__all__ = [
    "IF_curr_exp",
    "SpikeSourceArray",
    "Population",
    "OneToOneConnector",
    "AllToAllConnector",
    "FromListConnector",
    "StaticSynapse",
    "SpikePairRule",
    "AdditiveWeightDependence",
    "STDPMechanism",
    "Projection",
    "Network",
    "RECEPTORS",
    "RECORDABLE",
]

RECEPTORS = ("excitatory", "inhibitory")


def _finite(name: str, value, *, positive: bool = False, nonneg: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a number, got {type(value).__name__}")
    v = float(value)
    if not math.isfinite(v):
        raise ValueError(f"{name} must be finite, got {value!r}")
    if positive and v <= 0:
        raise ValueError(f"{name} must be > 0, got {value!r}")
    if nonneg and v < 0:
        raise ValueError(f"{name} must be >= 0, got {value!r}")
    return v


@dataclass(frozen=True)
class IF_curr_exp:  # noqa: N801  (PyNN's name)
    """PyNN standard cell ``IF_curr_exp`` (PyNN defaults; ms, mV, nA, nF).

    Parameters
    ----------
    cm : float
        Membrane capacitance (nF).
    tau_m : float
        Membrane time constant (ms).
    tau_refrac : float
        Refractory period (ms).
    tau_syn_E, tau_syn_I : float
        Decay time constants of the excitatory and inhibitory synaptic currents (ms).
    v_rest, v_reset, v_thresh : float
        Resting, reset and threshold potentials (mV).
    i_offset : float
        Constant injected current (nA).
    v_init : float or None
        Initial membrane potential (mV); ``None`` means ``v_rest``.

    Raises
    ------
    ValueError, TypeError
        A parameter that is not a finite number, a non-positive time constant or capacitance,
        a negative refractory period, or ``v_reset >= v_thresh``.
    """

    cm: float = 1.0
    tau_m: float = 20.0
    tau_refrac: float = 0.1
    tau_syn_E: float = 5.0
    tau_syn_I: float = 5.0
    v_rest: float = -65.0
    v_reset: float = -65.0
    v_thresh: float = -50.0
    i_offset: float = 0.0
    v_init: float | None = None

    def __post_init__(self):
        for f in fields(self):
            val = getattr(self, f.name)
            if f.name == "v_init" and val is None:
                continue
            pos = f.name in ("cm", "tau_m", "tau_syn_E", "tau_syn_I")
            object.__setattr__(
                self,
                f.name,
                _finite(f.name, val, positive=pos, nonneg=f.name == "tau_refrac"),
            )
        if self.v_reset >= self.v_thresh:
            raise ValueError(f"v_reset ({self.v_reset}) must be below v_thresh ({self.v_thresh})")

    @property
    def initial_v(self) -> float:
        """Initial membrane potential (mV)."""
        return self.v_rest if self.v_init is None else float(self.v_init)

    def parameters(self) -> dict[str, float]:
        """The PyNN parameters as a dict (``v_init`` excluded)."""
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name != "v_init"}


class SpikeSourceArray:
    """PyNN ``SpikeSourceArray``: neurons firing at given times (ms).

    Parameters
    ----------
    spike_times : sequence of array-like
        One array of spike times (ms, >= 0) per neuron; a single flat sequence of numbers is
        taken as the times of every neuron.

    Raises
    ------
    ValueError, TypeError
        Negative, NaN or non-numeric times.
    """

    def __init__(self, spike_times: Sequence = ()):
        self.spike_times = spike_times

    @property
    def spike_times(self) -> list[np.ndarray]:
        """Spike times (ms) per neuron, sorted."""
        return self._times

    @spike_times.setter
    def spike_times(self, value) -> None:
        self._times = self._check(value)

    @staticmethod
    def _check(value) -> list[np.ndarray]:
        if isinstance(value, np.ndarray) and value.ndim == 1:
            value = [value]
        elif (
            isinstance(value, (list, tuple))
            and len(value) > 0
            and all(
                isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool)
                for v in value
            )
        ):
            value = [value]
        out = []
        for i, t in enumerate(value):
            try:
                a = np.asarray(t, dtype=float).ravel()
            except (TypeError, ValueError) as exc:
                raise TypeError(f"spike_times[{i}] must be numbers (ms)") from exc
            if not np.all(np.isfinite(a)):
                raise ValueError(f"spike_times[{i}] contains NaN or infinity")
            if np.any(a < 0):
                raise ValueError(f"spike_times[{i}] contains negative times")
            out.append(np.sort(a))
        return out

    def __repr__(self) -> str:
        return f"SpikeSourceArray({len(self._times)} trains)"


#: Variables a population can record.
RECORDABLE = ("spikes", "v")


def _check_record(record, label: str, is_source: bool) -> tuple[str, ...]:
    """``record`` as a tuple of unique recordable variables (ValueError/TypeError if not)."""
    if isinstance(record, str):
        record = (record,)
    try:
        rec = tuple(record)
    except TypeError:
        raise TypeError(f"record must be a sequence of names, got {record!r}") from None
    for r in rec:
        if r not in RECORDABLE:
            raise ValueError(f"record: unknown variable {r!r} (supported: 'spikes', 'v')")
    if "v" in rec and is_source:
        raise ValueError(f"record: spike source {label!r} has no membrane potential 'v'")
    return tuple(dict.fromkeys(rec))


@dataclass
class Population:
    """A group of identical neurons (or spike sources).

    Parameters
    ----------
    size : int
        Number of neurons (>= 1).
    celltype : IF_curr_exp or SpikeSourceArray
        The cell model and its parameters.
    label : str
        Unique name inside a network.
    record : tuple of str
        Variables to record: ``"spikes"`` and, for ``IF_curr_exp`` cells, the membrane
        potential ``"v"`` (every step; it costs a float per neuron and step, so it is opt-in);
        ``("spikes",)`` by default, ``()`` to record nothing.

    Raises
    ------
    ValueError, TypeError
        Bad size, unknown cell type, empty label, unknown record variable, or a spike source
        whose number of trains is neither 1 nor ``size``.
    """

    size: int
    celltype: IF_curr_exp | SpikeSourceArray
    label: str
    record: tuple[str, ...] = ("spikes",)

    def __post_init__(self):
        if isinstance(self.size, bool) or not isinstance(self.size, (int, np.integer)):
            raise TypeError(f"size must be an int, got {type(self.size).__name__}")
        if self.size < 1:
            raise ValueError(f"size must be >= 1, got {self.size}")
        self.size = int(self.size)
        if not isinstance(self.celltype, (IF_curr_exp, SpikeSourceArray)):
            raise TypeError(
                f"celltype must be IF_curr_exp or SpikeSourceArray, got {self.celltype!r}"
            )
        if not isinstance(self.label, str) or not self.label:
            raise ValueError("label must be a non-empty string")
        self.record = _check_record(self.record, self.label, self.is_source)
        if self.is_source:
            n = len(self.celltype.spike_times)
            if n == 1 and self.size > 1:
                self.celltype.spike_times = [self.celltype.spike_times[0]] * self.size
            elif n == 0:
                self.celltype.spike_times = [np.zeros(0)] * self.size
            elif n != self.size:
                raise ValueError(
                    f"population {self.label!r}: {n} spike trains for {self.size} neurons"
                )

    @property
    def is_source(self) -> bool:
        """True for a spike source population."""
        return isinstance(self.celltype, SpikeSourceArray)

    def set_record(self, variables) -> None:
        """Replace the recorded variables (``"spikes"``, ``"v"``), before a simulator is built.

        Raises
        ------
        ValueError, TypeError
            An unknown variable, or ``"v"`` of a spike source.
        """
        self.record = _check_record(variables, self.label, self.is_source)

    def set_spike_times(self, spike_times) -> None:
        """Replace the spike times of a spike-source population (like PyNN's ``set``).

        Raises
        ------
        TypeError
            The population is not a spike source.
        ValueError
            Bad times or wrong number of trains.
        """
        if not self.is_source:
            raise TypeError(f"population {self.label!r} is not a spike source")
        trains = SpikeSourceArray._check(spike_times)
        if len(trains) == 1 and self.size > 1:
            trains = trains * self.size
        if len(trains) != self.size:
            raise ValueError(
                f"spike_times: {len(trains)} trains for {self.size} neurons of {self.label!r}"
            )
        self.celltype.spike_times = trains

    def __len__(self) -> int:
        return self.size

    def __hash__(self) -> int:
        return id(self)

    def __eq__(self, other) -> bool:
        return self is other


@dataclass(frozen=True)
class OneToOneConnector:
    """Neuron ``i`` of the source to neuron ``i`` of the target (same sizes)."""

    def connections(self, n_pre: int, n_post: int) -> tuple[np.ndarray, np.ndarray]:
        """Pre and post indices of the connections."""
        if n_pre != n_post:
            raise ValueError(f"OneToOneConnector needs equal sizes, got {n_pre} and {n_post}")
        i = np.arange(n_pre, dtype=np.int64)
        return i, i.copy()


@dataclass(frozen=True)
class AllToAllConnector:
    """Every source neuron to every target neuron.

    Parameters
    ----------
    allow_self_connections : bool
        When False, neuron ``i`` is not connected to neuron ``i``, also between two different
        populations (as sPyNNaker does, and as the CA3 network's "all except same index"
        projections need). PyNN's reference implementation (used by ``pyNN.brian2``) only
        drops pairs of the *same* cell, so between different populations it keeps them all:
        a PyNN builder must pass such a projection as a ``FromListConnector`` of
        :meth:`connections`.
    """

    allow_self_connections: bool = True

    def connections(self, n_pre: int, n_post: int) -> tuple[np.ndarray, np.ndarray]:
        """Pre and post indices of the connections."""
        pre, post = np.meshgrid(
            np.arange(n_pre, dtype=np.int64), np.arange(n_post, dtype=np.int64), indexing="ij"
        )
        pre, post = pre.ravel(), post.ravel()
        if not self.allow_self_connections:
            keep = pre != post
            pre, post = pre[keep], post[keep]
        return pre, post


@dataclass(frozen=True)
class FromListConnector:
    """Explicit list of connections ``(pre, post)`` or ``(pre, post, weight)``.

    Parameters
    ----------
    conn_list : sequence of (int, int) or (int, int, float)
        Pre and post indices, optionally with a per-connection weight (nA, >= 0) that
        replaces the synapse type's weight (PyNN's ``FromListConnector`` columns; delays stay
        those of the synapse type).

    Raises
    ------
    ValueError, TypeError
        Not 2 or 3 columns, non-integer or negative indices, negative or non-finite weights,
        or repeated ``(pre, post)`` pairs.
    """

    conn_list: tuple
    weights: tuple | None

    def __init__(self, conn_list):
        try:
            arr = np.asarray(conn_list, dtype=float)
        except (TypeError, ValueError) as exc:
            raise TypeError("conn_list must hold numbers") from exc
        if arr.size == 0:
            arr = np.zeros((0, 2))
        if arr.ndim != 2 or arr.shape[1] not in (2, 3):
            raise ValueError(
                f"conn_list must be rows (pre, post) or (pre, post, weight), got shape {arr.shape}"
            )
        idx = arr[:, :2]
        if not np.all(np.isfinite(idx)) or np.any(idx != np.round(idx)):
            raise TypeError("conn_list must hold integer indices")
        if np.any(idx < 0):
            raise ValueError("conn_list holds negative indices")
        pairs = idx.astype(np.int64)
        if len(np.unique(pairs, axis=0)) != len(pairs):
            raise ValueError("conn_list repeats a (pre, post) pair")
        weights = None
        if arr.shape[1] == 3:
            w = arr[:, 2]
            if not np.all(np.isfinite(w)) or np.any(w < 0):
                raise ValueError("conn_list weights must be finite and >= 0")
            weights = tuple(w.tolist())
        object.__setattr__(self, "conn_list", tuple(map(tuple, pairs.tolist())))
        object.__setattr__(self, "weights", weights)

    def connections(self, n_pre: int, n_post: int) -> tuple[np.ndarray, np.ndarray]:
        """Pre and post indices of the connections."""
        arr = np.asarray(self.conn_list, dtype=np.int64).reshape(-1, 2)
        if np.any(arr[:, 0] >= n_pre) or np.any(arr[:, 1] >= n_post):
            raise ValueError(f"conn_list index out of range for sizes {n_pre} -> {n_post}")
        return arr[:, 0].copy(), arr[:, 1].copy()


@dataclass(frozen=True)
class StaticSynapse:
    """Fixed synapse.

    Parameters
    ----------
    weight : float
        Weight (nA, >= 0; the receptor type gives the sign).
    delay : float
        Delay (ms, > 0).
    """

    weight: float = 0.0
    delay: float = 1.0

    def __post_init__(self):
        object.__setattr__(self, "weight", _finite("weight", self.weight, nonneg=True))
        object.__setattr__(self, "delay", _finite("delay", self.delay, positive=True))


@dataclass(frozen=True)
class SpikePairRule:
    """PyNN ``SpikePairRule``: all-to-all spike pairing with exponential windows.

    Parameters
    ----------
    tau_plus, tau_minus : float
        Time constants (ms) of the potentiation and depression windows.
    A_plus, A_minus : float
        Amplitudes (fractions of ``w_max``).
    """

    tau_plus: float = 20.0
    tau_minus: float = 20.0
    A_plus: float = 0.01
    A_minus: float = 0.01

    def __post_init__(self):
        for n in ("tau_plus", "tau_minus"):
            object.__setattr__(self, n, _finite(n, getattr(self, n), positive=True))
        for n in ("A_plus", "A_minus"):
            object.__setattr__(self, n, _finite(n, getattr(self, n), nonneg=True))


@dataclass(frozen=True)
class AdditiveWeightDependence:
    """PyNN ``AdditiveWeightDependence``: weight changes independent of the weight, clipped.

    Parameters
    ----------
    w_min, w_max : float
        Bounds of the weight (nA), ``0 <= w_min <= w_max``.
    """

    w_min: float = 0.0
    w_max: float = 1.0

    def __post_init__(self):
        object.__setattr__(self, "w_min", _finite("w_min", self.w_min, nonneg=True))
        object.__setattr__(self, "w_max", _finite("w_max", self.w_max, nonneg=True))
        if self.w_min > self.w_max:
            raise ValueError(f"w_min ({self.w_min}) must be <= w_max ({self.w_max})")


@dataclass(frozen=True)
class STDPMechanism:
    """Plastic synapse: PyNN ``STDPMechanism``.

    Parameters
    ----------
    timing_dependence : SpikePairRule
    weight_dependence : AdditiveWeightDependence
    weight : float
        Initial weight (nA), inside ``[w_min, w_max]``.
    delay : float
        Delay (ms, > 0).
    """

    timing_dependence: SpikePairRule = field(default_factory=SpikePairRule)
    weight_dependence: AdditiveWeightDependence = field(default_factory=AdditiveWeightDependence)
    weight: float = 0.0
    delay: float = 1.0

    def __post_init__(self):
        if not isinstance(self.timing_dependence, SpikePairRule):
            raise TypeError("timing_dependence must be a SpikePairRule")
        if not isinstance(self.weight_dependence, AdditiveWeightDependence):
            raise TypeError("weight_dependence must be an AdditiveWeightDependence")
        object.__setattr__(self, "weight", _finite("weight", self.weight, nonneg=True))
        object.__setattr__(self, "delay", _finite("delay", self.delay, positive=True))
        wd = self.weight_dependence
        if not wd.w_min <= self.weight <= wd.w_max:
            raise ValueError(
                f"weight {self.weight} outside [w_min, w_max] = [{wd.w_min}, {wd.w_max}]"
            )


_CONNECTORS = (OneToOneConnector, AllToAllConnector, FromListConnector)


@dataclass
class Projection:
    """Connections from one population to another.

    Parameters
    ----------
    pre, post : Population
    connector : OneToOneConnector, AllToAllConnector or FromListConnector
    synapse_type : StaticSynapse or STDPMechanism
    receptor_type : {"excitatory", "inhibitory"}
    label : str, optional
        Unique name; defaults to ``"pre->post"`` (with a counter if repeated).

    Raises
    ------
    ValueError, TypeError
        Unknown receptor, connector or synapse type; a spike source as target; connections
        out of range.
    """

    pre: Population
    post: Population
    connector: OneToOneConnector | AllToAllConnector | FromListConnector
    synapse_type: StaticSynapse | STDPMechanism = field(default_factory=StaticSynapse)
    receptor_type: str = "excitatory"
    label: str | None = None

    def __post_init__(self):
        if not isinstance(self.pre, Population) or not isinstance(self.post, Population):
            raise TypeError("pre and post must be Population objects")
        if self.post.is_source:
            raise ValueError(f"post: {self.post.label!r} is a spike source and takes no input")
        if not isinstance(self.connector, _CONNECTORS):
            raise TypeError(f"connector: unknown connector {self.connector!r}")
        if not isinstance(self.synapse_type, (StaticSynapse, STDPMechanism)):
            raise TypeError(f"synapse_type: unknown synapse type {self.synapse_type!r}")
        if self.receptor_type not in RECEPTORS:
            raise ValueError(
                f"receptor_type must be one of {RECEPTORS}, got {self.receptor_type!r}"
            )
        pre_i, post_i = self.connector.connections(self.pre.size, self.post.size)
        self._pre_idx, self._post_idx = pre_i, post_i
        w = getattr(self.connector, "weights", None)
        if w is None:
            self._weights = np.full(len(pre_i), self.synapse_type.weight)
        else:
            self._weights = np.asarray(w, dtype=float)
            if self.plastic:
                wd = self.synapse_type.weight_dependence
                if np.any(self._weights < wd.w_min) or np.any(self._weights > wd.w_max):
                    raise ValueError(
                        f"conn_list weights outside [w_min, w_max] = [{wd.w_min}, {wd.w_max}]"
                    )

    @property
    def plastic(self) -> bool:
        """True for an STDP projection."""
        return isinstance(self.synapse_type, STDPMechanism)

    def connections(self) -> tuple[np.ndarray, np.ndarray]:
        """Arrays of pre and post neuron indices, one entry per synapse."""
        return self._pre_idx, self._post_idx

    def initial_weights(self) -> np.ndarray:
        """Initial weight of each synapse (nA), in the order of :meth:`connections`."""
        return self._weights.copy()

    def __len__(self) -> int:
        return len(self._pre_idx)


class Network:
    """A set of populations and projections, validated as they are added.

    Parameters
    ----------
    dt : float
        Simulation time step (ms) that backends use.

    Examples
    --------
    >>> net = Network()
    >>> src = net.population(1, SpikeSourceArray([[0.0]]), "in")
    >>> cell = net.population(1, IF_curr_exp(), "cell")
    >>> _ = net.projection(src, cell, OneToOneConnector(), StaticSynapse(5.0, 1.0))
    """

    def __init__(self, dt: float = 1.0):
        self.dt = _finite("dt", dt, positive=True)
        self.populations: dict[str, Population] = {}
        self.projections: dict[str, Projection] = {}

    def add(self, *items: Population | Projection) -> None:
        """Add populations and projections (checked for unique labels and membership).

        Raises
        ------
        ValueError
            A repeated label, or a projection between populations not in this network.
        TypeError
            Anything that is neither a Population nor a Projection.
        """
        for it in items:
            if isinstance(it, Population):
                if it.label in self.populations:
                    raise ValueError(f"duplicate population label {it.label!r}")
                self.populations[it.label] = it
            elif isinstance(it, Projection):
                for end, pop in (("pre", it.pre), ("post", it.post)):
                    if self.populations.get(pop.label) is not pop:
                        raise ValueError(
                            f"projection {end}: population {pop.label!r} is not in this network"
                        )
                if it.label is None:
                    base = f"{it.pre.label}->{it.post.label}"
                    label, k = base, 1
                    while label in self.projections:
                        k += 1
                        label = f"{base}#{k}"
                    it.label = label
                if it.label in self.projections:
                    raise ValueError(f"duplicate projection label {it.label!r}")
                self.projections[it.label] = it
            else:
                raise TypeError(f"cannot add {type(it).__name__} to a Network")

    def population(self, size, celltype, label, record=("spikes",)) -> Population:
        """Create a :class:`Population`, add it and return it."""
        p = Population(size, celltype, label, record)
        self.add(p)
        return p

    def projection(
        self, pre, post, connector, synapse_type=None, receptor_type="excitatory", label=None
    ) -> Projection:
        """Create a :class:`Projection`, add it and return it."""
        pr = Projection(pre, post, connector, synapse_type or StaticSynapse(), receptor_type, label)
        self.add(pr)
        return pr

    def validate(self) -> None:
        """Check the whole network (non-empty; delays not below ``dt``).

        Raises
        ------
        ValueError
            An empty network or a delay shorter than one time step.
        """
        if not self.populations:
            raise ValueError("network has no populations")
        for pr in self.projections.values():
            if pr.synapse_type.delay < self.dt - 1e-9:
                raise ValueError(
                    f"projection {pr.label!r}: delay {pr.synapse_type.delay} ms is shorter "
                    f"than the time step {self.dt} ms"
                )

    def __repr__(self) -> str:
        return (
            f"Network({len(self.populations)} populations, "
            f"{len(self.projections)} projections, dt={self.dt} ms)"
        )
