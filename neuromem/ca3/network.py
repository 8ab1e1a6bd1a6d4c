"""The CA3 content-addressable memory network of Casanueva-Morato et al.

Populations (``c`` cues, ``n`` content bits), all ``IF_curr_exp`` with ``v_rest = v_reset =
v_init = -60 mV``, ``v_thresh = -57 mV``, ``tau_refrac = 1 ms``, ``tau_syn_E = tau_syn_I = 0.3
ms``, ``i_offset = 0``; "slow" cells ``cm = 0.27 nF, tau_m = 3 ms``, "fast" cells ``cm = 0.14 nF,
tau_m = 0.5 ms``:

================== ====== ===== =================================================================
label              size   kind  role
================== ====== ===== =================================================================
INcue              c      input cue spikes (one-hot)
INcont             n      input content spikes (binary pattern)
CA3cueCueRecall    c      slow  cue cells driven by the cue input
CA3contCueRecall   n      slow  content cells: content input and learned cue->content synapses
CA3contCond        n      fast  gate: fires when content arrives without a cue
CA3contCondInt     1      fast  interneuron feeding the gate
CA3cueContRecall   c      fast  cue cells driven by learned content->cue synapses
CA3contContRecall  n      slow  content cells of the recall-by-content path
CA3MergeCue        c      slow  merge of both cue paths
CA3MergeCont       n      slow  merge of both content paths
OUTcue             c      slow  output, cue part
OUTcont            n      slow  output, content part
================== ====== ===== =================================================================

The projections (weights in nA, delays in ms) are those of the paper's configuration; the two
plastic ones (``CA3cueCueRecall -> CA3contCueRecall`` and ``CA3contContRecall ->
CA3cueContRecall``) use a spike-pair rule with ``tau_plus = tau_minus = 3 ms``, ``A_plus =
A_minus = 6`` and additive weights in ``[0, 6] nA``: one pairing saturates a weight.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields

import numpy as np

from neuromem._resources import check_memory
from neuromem.spiking import (
    AdditiveWeightDependence,
    AllToAllConnector,
    FromListConnector,
    IF_curr_exp,
    Network,
    OneToOneConnector,
    SpikePairRule,
    SpikeSourceArray,
    StaticSynapse,
    STDPMechanism,
)

__all__ = [
    "CA3Params",
    "build_network",
    "POPULATIONS",
    "INPUTS",
    "CUE_POPS",
    "CONTENT_POPS",
    "PLASTIC_CUE_TO_CONTENT",
    "PLASTIC_CONTENT_TO_CUE",
    "WEIGHT_NAMES",
    "check_weights",
    "MAX_DURATION_MS",
    "network_bytes",
    "check_network_size",
    "check_duration",
]

#: The longest stretch (ms, = steps) one CA3 call may simulate: 10**7 steps take about ten
#: seconds on one core; a longer time is almost certainly a typo (a spacing of 10**8 ms, a
#: spike time of 10**12 in a trace) and is refused before the simulator allocates per step.
MAX_DURATION_MS = 10_000_000

#: bytes per synapse while the network is built and simulated (measured: about 120)
_BYTES_PER_SYNAPSE = 128


def network_bytes(n_cues: int, n_content: int) -> float:
    """Estimated peak memory (bytes) of building and simulating a ``c x n`` CA3 network.

    The all-to-all projections dominate: ``3 c n`` (cue to gate and the two plastic ones),
    ``2 c (c - 1)`` (the two inhibitory cue to cue ones) and ``2 n`` synapses, at about
    120 bytes each (connection lists, weights, delays and the simulator's tables).
    """
    c, n = float(n_cues), float(n_content)
    return _BYTES_PER_SYNAPSE * (3 * c * n + 2 * c * max(c - 1, 0) + 2 * n) + 2048 * (c + n)


def check_network_size(n_cues: int, n_content: int, name: str = "n_cues, n_content") -> None:
    """Refuse (ValueError) a network whose memory estimate exceeds the machine's memory."""
    check_memory(
        network_bytes(n_cues, n_content),
        f"{name}: a CA3 network of {n_cues} cues and {n_content} content bits",
    )


def check_duration(ms, name: str) -> None:
    """Refuse (ValueError) a stretch of simulated time longer than :data:`MAX_DURATION_MS`."""
    if not (isinstance(ms, (int, float)) and math.isfinite(ms)) or ms > MAX_DURATION_MS:
        raise ValueError(
            f"{name}: {ms!r} ms is more than one CA3 simulation may run "
            f"({MAX_DURATION_MS} ms, about ten seconds of computing)"
        )


#: Population labels in the order of the hardware recordings.
POPULATIONS = (
    "INcue",
    "INcont",
    "CA3cueCueRecall",
    "CA3contCueRecall",
    "CA3contCond",
    "CA3contCondInt",
    "CA3cueContRecall",
    "CA3contContRecall",
    "CA3MergeCue",
    "CA3MergeCont",
    "OUTcue",
    "OUTcont",
)
INPUTS = ("INcue", "INcont")
CUE_POPS = ("INcue", "CA3cueCueRecall", "CA3cueContRecall", "CA3MergeCue", "OUTcue")
CONTENT_POPS = (
    "INcont",
    "CA3contCueRecall",
    "CA3contCond",
    "CA3contContRecall",
    "CA3MergeCont",
    "OUTcont",
)
PLASTIC_CUE_TO_CONTENT = "CA3cueCueRecall->CA3contCueRecall"
PLASTIC_CONTENT_TO_CUE = "CA3contContRecall->CA3cueContRecall"


@dataclass(frozen=True)
class CA3Params:
    """Cell, synapse and learning parameters of the CA3 network (paper values by default).

    Attributes
    ----------
    v_rest, v_thresh : float
        Resting (= reset = initial) and threshold potentials (mV).
    tau_refrac, tau_syn : float
        Refractory period and synaptic time constant (ms).
    cm_slow, tau_m_slow, cm_fast, tau_m_fast : float
        Capacitance (nF) and membrane time constant (ms) of slow and fast cells.
    w : float
        Base weight (nA).
    tau_stdp, a_stdp, w_max : float
        STDP time constants (ms), amplitudes and maximum weight (nA).
    """

    v_rest: float = -60.0
    v_thresh: float = -57.0
    tau_refrac: float = 1.0
    tau_syn: float = 0.3
    cm_slow: float = 0.27
    tau_m_slow: float = 3.0
    cm_fast: float = 0.14
    tau_m_fast: float = 0.5
    w: float = 6.0
    tau_stdp: float = 3.0
    a_stdp: float = 6.0
    w_max: float = 6.0

    def __post_init__(self) -> None:
        for f in fields(self):
            v = getattr(self, f.name)
            if isinstance(v, bool) or not isinstance(v, (int, float)):
                raise TypeError(f"params.{f.name}: expected a number, got {v!r}")
            if not math.isfinite(v):
                raise ValueError(f"params.{f.name}: expected a finite number, got {v!r}")
        for name in ("tau_syn", "cm_slow", "tau_m_slow", "cm_fast", "tau_m_fast", "tau_stdp"):
            if not getattr(self, name) > 0:
                raise ValueError(f"params.{name}: expected a number > 0, got {getattr(self, name)}")
        for name in ("tau_refrac", "w", "a_stdp", "w_max"):
            if getattr(self, name) < 0:
                raise ValueError(
                    f"params.{name}: expected a number >= 0, got {getattr(self, name)}"
                )
        if not self.v_thresh > self.v_rest:
            raise ValueError(
                f"params.v_thresh: expected a threshold above v_rest ({self.v_rest} mV), "
                f"got {self.v_thresh}"
            )

    def cell(self, fast: bool) -> IF_curr_exp:
        """The ``IF_curr_exp`` cell of the slow or fast kind."""
        return IF_curr_exp(
            cm=self.cm_fast if fast else self.cm_slow,
            tau_m=self.tau_m_fast if fast else self.tau_m_slow,
            tau_refrac=self.tau_refrac,
            tau_syn_E=self.tau_syn,
            tau_syn_I=self.tau_syn,
            v_rest=self.v_rest,
            v_reset=self.v_rest,
            v_thresh=self.v_thresh,
            i_offset=0.0,
            v_init=self.v_rest,
        )


_FAST = {"CA3cueContRecall", "CA3contCond", "CA3contCondInt"}


#: The learned weights of a CA3 memory: name -> (plastic projection, shape as (pre, post)).
WEIGHT_NAMES = ("cue_to_content", "content_to_cue")


def check_weights(weights, n_cues: int, n_content: int, w_max: float) -> dict[str, np.ndarray]:
    """Initial learned weights as ``{name: float array}``, checked.

    Parameters
    ----------
    weights : dict
        ``"cue_to_content"``: ``(n_cues, n_content)`` and/or ``"content_to_cue"``:
        ``(n_content, n_cues)`` weights in nA, each in ``[0, w_max]`` (the layout of
        ``CA3Memory.weights()``); a name left out starts at 0 as in the paper.

    Raises
    ------
    TypeError, ValueError
        Not a dict, an unknown name, a wrong shape, a value that is not a finite number in
        ``[0, w_max]``; the message names the entry.
    """
    if not isinstance(weights, dict):
        raise TypeError(f"weights must be a dict, got {type(weights).__name__}")
    shapes = {"cue_to_content": (n_cues, n_content), "content_to_cue": (n_content, n_cues)}
    out = {}
    for name, w in weights.items():
        if name not in shapes:
            raise ValueError(f"weights: unknown name {name!r}; known: {', '.join(WEIGHT_NAMES)}")
        try:
            a = np.array(w, dtype=float)
        except (TypeError, ValueError):
            raise TypeError(f"weights[{name!r}]: expected an array of numbers (nA)") from None
        if a.shape != shapes[name]:
            raise ValueError(f"weights[{name!r}]: expected shape {shapes[name]}, got {a.shape}")
        if not np.all(np.isfinite(a)):
            raise ValueError(f"weights[{name!r}]: holds NaN or infinite values")
        if a.size and (a.min() < 0 or a.max() > w_max):
            raise ValueError(
                f"weights[{name!r}]: values must lie in [0, w_max={w_max}] nA, got "
                f"[{a.min():g}, {a.max():g}]"
            )
        out[name] = a
    return out


def build_network(
    n_cues: int,
    n_content: int,
    cue_times=None,
    content_times=None,
    params: CA3Params | None = None,
    weights: dict | None = None,
) -> Network:
    """Build the CA3 memory network.

    Parameters
    ----------
    n_cues : int
        Number of cues ``c`` (>= 1; a Python or NumPy integer).
    n_content : int
        Number of content bits ``n`` (>= 1; a Python or NumPy integer).
    cue_times, content_times : list of array-like, optional
        Spike times (ms) of each ``INcue`` / ``INcont`` neuron (empty by default; they can be
        set later with ``Population.set_spike_times``).
    params : CA3Params, optional
        Parameters (the paper's by default).
    weights : dict, optional
        Initial weights of the plastic projections (see :func:`check_weights`): a given
        matrix replaces the paper's initial 0 nA (the projection is then a
        ``FromListConnector`` of every pair, with its weight).

    Returns
    -------
    Network
        Populations labelled as in :data:`POPULATIONS`, every one recorded.

    Raises
    ------
    ValueError, TypeError
        Non-positive sizes, sizes whose network would not fit in memory (the message gives
        the estimate), or bad spike times.
    """
    for name, val in (("n_cues", n_cues), ("n_content", n_content)):
        if isinstance(val, bool) or not isinstance(val, (int, np.integer)):
            raise TypeError(f"{name} must be an int, got {type(val).__name__}")
        if val < 1:
            raise ValueError(f"{name} must be >= 1, got {val}")
    n_cues, n_content = int(n_cues), int(n_content)
    if params is not None and not isinstance(params, CA3Params):
        raise TypeError(f"params must be a CA3Params, got {type(params).__name__}")
    check_network_size(n_cues, n_content)
    p = params or CA3Params()
    w0 = {} if weights is None else check_weights(weights, n_cues, n_content, p.w_max)
    c, n = n_cues, n_content
    net = Network(dt=1.0)
    sizes = {
        "INcue": c,
        "INcont": n,
        "CA3cueCueRecall": c,
        "CA3contCueRecall": n,
        "CA3contCond": n,
        "CA3contCondInt": 1,
        "CA3cueContRecall": c,
        "CA3contContRecall": n,
        "CA3MergeCue": c,
        "CA3MergeCont": n,
        "OUTcue": c,
        "OUTcont": n,
    }
    pops = {}
    for label in POPULATIONS:
        if label == "INcue":
            cell = SpikeSourceArray(cue_times if cue_times is not None else [[]] * c)
        elif label == "INcont":
            cell = SpikeSourceArray(content_times if content_times is not None else [[]] * n)
        else:
            cell = p.cell(label in _FAST)
        pops[label] = net.population(sizes[label], cell, label)

    one, all_, all_ns = (
        OneToOneConnector(),
        AllToAllConnector(),
        AllToAllConnector(allow_self_connections=False),
    )
    w = p.w

    def stdp():
        return STDPMechanism(
            SpikePairRule(p.tau_stdp, p.tau_stdp, p.a_stdp, p.a_stdp),
            AdditiveWeightDependence(0.0, p.w_max),
            weight=0.0,
            delay=1.0,
        )

    table = [
        ("INcue", "CA3cueCueRecall", one, StaticSynapse(w, 1), "excitatory"),
        ("INcont", "CA3contCueRecall", one, StaticSynapse(w, 1), "excitatory"),
        ("CA3cueCueRecall", "CA3cueContRecall", one, StaticSynapse(w, 2), "excitatory"),
        ("CA3cueCueRecall", "CA3cueContRecall", all_ns, StaticSynapse(w * n, 3), "inhibitory"),
        ("CA3cueCueRecall", "CA3contCond", all_, StaticSynapse(w, 2), "inhibitory"),
        ("CA3contCueRecall", "CA3contCond", one, StaticSynapse(1.5 * w, 1), "excitatory"),
        ("CA3contCond", "CA3contContRecall", one, StaticSynapse(w, 1), "excitatory"),
        ("CA3contCueRecall", "CA3contCondInt", all_, StaticSynapse(w, 1), "excitatory"),
        ("CA3contCondInt", "CA3contCond", all_, StaticSynapse(w / 3, 1), "excitatory"),
        ("CA3cueCueRecall", "CA3contCueRecall", all_, stdp(), "excitatory"),
        ("CA3contContRecall", "CA3cueContRecall", all_, stdp(), "excitatory"),
        ("CA3cueContRecall", "CA3cueContRecall", all_ns, StaticSynapse(w * n, 2), "inhibitory"),
        ("CA3cueCueRecall", "CA3MergeCue", one, StaticSynapse(w, 3), "excitatory"),
        ("CA3cueContRecall", "CA3MergeCue", one, StaticSynapse(w, 1), "excitatory"),
        ("CA3contCueRecall", "CA3MergeCont", one, StaticSynapse(w, 3), "excitatory"),
        ("CA3contContRecall", "CA3MergeCont", one, StaticSynapse(w, 1), "excitatory"),
        ("CA3MergeCue", "OUTcue", one, StaticSynapse(w, 1), "excitatory"),
        ("CA3MergeCont", "OUTcont", one, StaticSynapse(w, 1), "excitatory"),
    ]
    given = {PLASTIC_CUE_TO_CONTENT: w0.get("cue_to_content"),
             PLASTIC_CONTENT_TO_CUE: w0.get("content_to_cue")}  # fmt: skip
    for pre, post, conn, syn, rec in table:
        label = f"{pre}->{post}"
        if given.get(label) is not None:
            wm = given[label]
            ii, jj = np.meshgrid(np.arange(wm.shape[0]), np.arange(wm.shape[1]), indexing="ij")
            conn = FromListConnector(np.column_stack([ii.ravel(), jj.ravel(), wm.ravel()]))
        if rec == "inhibitory" and pre == "CA3cueCueRecall" and post == "CA3cueContRecall":
            label += ":inh"
        net.projection(pops[pre], pops[post], conn, syn, rec, label=label)
    return net
