"""The CA3 spiking content-addressable memory: learn, recall by cue or by fragment, forget.

Operations drive the input populations and are read out from the output populations
(``OUTcue``, ``OUTcont``) of :func:`~neuromem.ca3.network.build_network`; nothing is decoded
from a Python-side copy of the patterns. Timing (``t`` = first input spike of the operation):

* learn: cue and content bits held 3 steps (``t, t+1, t+2``); output at ``t+5`` and ``t+7``;
  next operation no sooner than ``t+7``;
* recall by cue: one spike of the cue at ``t``; output cue at ``t+5``, content at ``t+6``;
  next operation at ``t+6``;
* recall by content: one spike of each fragment bit at ``t``; output content at ``t+5``, cues
  at ``t+6``; next operation at ``t+6``.

Each operation is read from the output spikes in ``[t + 1, t + spacing]``. Re-learning a cue
with a new pattern depresses its old associations (forgetting).
"""

from __future__ import annotations

import dataclasses
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from neuromem import npzfile
from neuromem.spiking import create

from .network import (
    INPUTS,
    PLASTIC_CONTENT_TO_CUE,
    PLASTIC_CUE_TO_CONTENT,
    POPULATIONS,
    CA3Params,
    build_network,
    check_duration,
    check_weights,
)

__all__ = [
    "CA3Memory",
    "Operation",
    "LEARN_SPACING",
    "RECALL_SPACING",
    "CA3_FORMAT_VERSION",
    "plot_raster",
]

#: version of the ``.npz`` file format written by :meth:`CA3Memory.save`
CA3_FORMAT_VERSION = 1
_OP_KINDS = ("learn", "recall_cue", "recall_content")

LEARN_SPACING = 7  #: ms from a learn to the next operation
RECALL_SPACING = 6  #: ms from a recall to the next operation
LEARN_STEPS = 3  #: steps the cue and content are held during a learn


@dataclass
class Operation:
    """One operation and what the network answered.

    Attributes
    ----------
    kind : {"learn", "recall_cue", "recall_content"}
    t : int
        Time (ms) of the first input spike.
    cue : int or None
        Cue given (learn, recall by cue).
    content : ndarray of bool
        Content given (learn: the pattern; recall by content: the fragment; else all False).
    out_cues : list of int
        Cues that fired at the output.
    out_content : ndarray of bool
        Content bits that fired at the output.
    patterns : dict
        Recall by content with ``with_patterns=True``: pattern recalled for each cue.
    """

    kind: str
    t: int
    cue: int | None
    content: np.ndarray
    out_cues: list = field(default_factory=list)
    out_content: np.ndarray | None = None
    patterns: dict = field(default_factory=dict)

    @property
    def pattern(self) -> np.ndarray:
        """The content read at the output (recall by cue: the stored pattern)."""
        return self.out_content

    @property
    def cues(self) -> list:
        """The cues read at the output (recall by content: those sharing the fragment)."""
        return self.out_cues


def _size(val, name: str) -> int:
    """A network size as a Python int (numpy integers accepted; bools and floats refused)."""
    if isinstance(val, bool) or not isinstance(val, (int, np.integer)):
        raise TypeError(f"{name} must be an int, got {type(val).__name__}")
    return int(val)


def _record_v_labels(record_v) -> tuple[str, ...]:
    """The populations named by ``record_v`` (True: all but the inputs; False/None: none)."""
    if record_v is None or record_v is False:
        return ()
    if record_v is True:
        return tuple(p for p in POPULATIONS if p not in INPUTS)
    if isinstance(record_v, str) or not isinstance(record_v, (list, tuple)):
        raise TypeError(
            f"record_v must be True, False or a list of population labels, got {record_v!r}"
        )
    for label in record_v:
        if label not in POPULATIONS:
            raise ValueError(f"record_v: unknown population {label!r}")
        if label in INPUTS:
            raise ValueError(f"record_v: {label!r} is a spike source and has no membrane potential")
    return tuple(dict.fromkeys(record_v))


def _check_backend(backend) -> None:
    """Refuse an unknown or unusable backend before anything is built (the reason given)."""
    from neuromem.errors import BackendUnavailableError
    from neuromem.spiking.backends import TABLE, get_backend, probe

    get_backend(backend)  # unknown names: ConfigError listing the known ones
    if backend in TABLE:
        st = probe(backend)
        if not st.available:
            raise BackendUnavailableError(f"backend {backend!r} is not usable here: {st.reason}")


class CA3Memory:
    """Spiking content-addressable memory of ``n_cues`` cues and ``n_content`` bits.

    Parameters
    ----------
    n_cues : int
        Number of cues ``c`` (one-hot).
    n_content : int
        Number of content bits ``n``.
    backend : str
        Spiking backend: ``"numba"`` (the reference), ``"brian2"`` (same spikes),
        ``"pynn:brian2"``, ``"pynn:spiNNaker"``, ``"pynn:nest"`` (see
        :mod:`neuromem.spiking.backends`).
    params : CA3Params, optional
        Network parameters (the paper's by default).
    read_lag : int
        Extra steps (>= 0) after each operation's minimum spacing during which its output is
        still read and the next operation may not start. 0 for backends with the board's
        timing; a backend whose synaptic hops take longer (``pynn:brian2``: one more step per
        hop) answers outside the board's windows without it.
    weights : dict, optional
        Initial learned weights (nA, in ``[0, w_max]``), in the layout :meth:`weights`
        returns: ``"cue_to_content"`` ``(n_cues, n_content)`` and/or ``"content_to_cue"``
        ``(n_content, n_cues)``; default 0 everywhere, as in the paper. A memory preloaded
        with 6 nA (``w_max``) from cue ``c`` to the bits of a pattern and back recalls it by
        cue and by content without a learn. sPyNNaker's STDP is deferred: the cue -> content
        weights read right after a learn do not yet hold it (a recall by cue applies them),
        so weights copied from another memory carry what its recalls have applied.
    record_v : bool or sequence of str
        Record the membrane potential ``v`` (every step) of these populations as well as
        their spikes; True: every population but the inputs (spike sources have none).
        Opt-in: it keeps a float per neuron and step. Read it with ``result().v(label)`` or
        as Neo ``AnalogSignal`` s in :meth:`to_neo`. A virtual SpiNNaker board returns none.
    **backend_options
        Passed to the backend's simulator, which is built at the first operation (or
        :meth:`run_schedule`); the backend's name and whether it is usable here are checked
        at once.

    Examples
    --------
    >>> mem = CA3Memory(5, 10)
    >>> _ = mem.learn(0, [1, 1, 0, 0, 0, 0, 0, 0, 1, 1])
    >>> mem.recall(cue=0).pattern.astype(int).tolist()
    [1, 1, 0, 0, 0, 0, 0, 0, 1, 1]
    """

    def __init__(
        self,
        n_cues: int,
        n_content: int,
        backend: str = "numba",
        params: CA3Params | None = None,
        read_lag: int = 0,
        weights: dict | None = None,
        record_v: bool | tuple | list = False,
        **backend_options,
    ):
        if isinstance(read_lag, bool) or not isinstance(read_lag, (int, np.integer)):
            raise TypeError(f"read_lag must be an int, got {type(read_lag).__name__}")
        if read_lag < 0:
            raise ValueError(f"read_lag must be >= 0, got {read_lag}")
        check_duration(read_lag, "read_lag")
        self.read_lag = int(read_lag)
        n_cues, n_content = _size(n_cues, "n_cues"), _size(n_content, "n_content")
        self.network = build_network(n_cues, n_content, params=params, weights=weights)
        #: populations whose membrane potential is recorded
        self.record_v = _record_v_labels(record_v)
        for label in self.record_v:
            pop = self.network.populations[label]
            pop.set_record((*pop.record, "v"))
        w_max = (params or CA3Params()).w_max
        #: the initial learned weights given (``{}``: the paper's 0 nA everywhere)
        self.initial_weights = {
            k: v.copy() for k, v in check_weights(weights or {}, n_cues, n_content, w_max).items()
        }
        self.n_cues, self.n_content = n_cues, n_content
        _check_backend(backend)
        self.backend = backend
        self.params = params or CA3Params()
        self.backend_options = dict(backend_options)
        self._sim = None  # built at the first operation (see ``sim``)
        self.operations: list[Operation] = []
        self.next_free = 0  # earliest start of the next operation (ms)

    @property
    def sim(self):
        """The backend's simulator, built from :attr:`network` when first needed.

        The build waits for the first operation (or :meth:`run_schedule`), so that a schedule
        given before anything was simulated is built once with all its input spikes (one
        build and one run on PyNN backends too); backend options are checked then.
        """
        if self._sim is None:
            self._sim = create(self.network, self.backend, **self.backend_options)
        return self._sim

    @property
    def _steps(self) -> int:
        """Steps simulated so far (0 before the simulator is built)."""
        return 0 if self._sim is None else int(self._sim.t)

    # ------------------------------------------------------------ validation
    def _check_cue(self, cue) -> int:
        if isinstance(cue, bool) or not isinstance(cue, (int, np.integer)):
            raise TypeError(f"cue must be an int, got {type(cue).__name__}")
        if not 0 <= cue < self.n_cues:
            raise ValueError(f"cue {cue} out of range [0, {self.n_cues})")
        return int(cue)

    def _check_bits(self, bits, name: str) -> np.ndarray:
        a = np.asarray(bits)
        if a.ndim != 1 or a.shape[0] != self.n_content:
            raise ValueError(f"{name} must have length {self.n_content}, got shape {a.shape}")
        if a.dtype == bool:
            return a.copy()
        if not np.issubdtype(a.dtype, np.number):
            raise TypeError(f"{name} must be binary numbers, got dtype {a.dtype}")
        if not np.all(np.isfinite(a)) or not np.all((a == 0) | (a == 1)):
            raise ValueError(f"{name} must be binary (0/1)")
        return a.astype(bool)

    @property
    def earliest(self) -> int:
        """Earliest start (ms) of the next operation: the minimum spacing after the previous
        one, and no earlier than the last simulated step."""
        return max(self.next_free, self._steps - 1)

    def _start(self, at) -> int:
        if at is None:
            return self.earliest
        if isinstance(at, bool) or not isinstance(at, (int, np.integer)):
            raise TypeError(f"at must be an int (ms), got {type(at).__name__}")
        if at < self.earliest:
            raise ValueError(
                f"at={at} ms is closer to the previous operation than its minimum spacing "
                f"(earliest: {self.earliest} ms)"
            )
        check_duration(int(at) - self._steps, f"at={at} (time to simulate until then)")
        return int(at)

    # ------------------------------------------------------------ simulation
    def _inject(self, cue_spikes, content_spikes) -> None:
        """Add input spikes (``{index: [steps]}``) to the sources; a spike on the last
        simulated step is emitted late (exact: an input acts one step later)."""
        steps_done = self._steps
        for label, spikes in (("INcue", cue_spikes), ("INcont", content_spikes)):
            pop = self.network.populations[label]
            trains = [np.asarray(t, float) for t in pop.celltype.spike_times]
            late = []
            for k, steps in spikes.items():
                new = [float(s) for s in steps if s >= steps_done]
                late += [k] * (len(steps) - len(new))  # only the last simulated step
                if new:
                    trains[k] = np.append(trains[k], new)
            pop.set_spike_times(trains)
            if late:
                self.sim.emit_late(label, late)

    def _drive(self, t0: int, spacing: int, cue_spikes, content_spikes) -> tuple:
        """Inject inputs (``{index: [steps]}``), simulate to ``t0 + spacing``, read outputs."""
        self._inject(cue_spikes, content_spikes)
        end = t0 + spacing + 1
        if end > self.sim.t:
            self.sim.run(float(end - self.sim.t))
        out = {}
        for label in ("OUTcue", "OUTcont"):
            t, i = self.sim.spikes(label)
            m = (t >= t0 + 1) & (t <= t0 + spacing)
            out[label] = np.unique(i[m])
        return out["OUTcue"], out["OUTcont"]

    def _record(self, kind, t0, cue, content, spacing, cue_sp, con_sp) -> Operation:
        spacing += self.read_lag
        oc, ob = self._drive(t0, spacing, cue_sp, con_sp)
        bits = np.zeros(self.n_content, bool)
        bits[ob] = True
        op = Operation(kind, t0, cue, content, [int(c) for c in oc], bits)
        self.operations.append(op)
        self.next_free = t0 + spacing
        return op

    # ------------------------------------------------------------ operations
    def learn(self, cue, pattern, at: int | None = None) -> Operation:
        """Store ``pattern`` under ``cue`` (re-learning a cue replaces its pattern).

        Parameters
        ----------
        cue : int
            Cue index in ``[0, n_cues)``.
        pattern : array-like of 0/1 or bool, length ``n_content``
            Content to store (at least one active bit).
        at : int, optional
            Start time (ms); default: as soon as allowed.

        Returns
        -------
        Operation
            With the output read during the learn.

        Raises
        ------
        ValueError, TypeError
            Cue out of range, pattern of the wrong length, not binary or empty, or ``at``
            closer than the minimum spacing; nothing is simulated.
        """
        c = self._check_cue(cue)
        p = self._check_bits(pattern, "pattern")
        if not p.any():
            raise ValueError("pattern must have at least one active bit")
        t0 = self._start(at)
        steps = list(range(t0, t0 + LEARN_STEPS))
        return self._record(
            "learn",
            t0,
            c,
            p,
            LEARN_SPACING,
            {c: steps},
            {int(k): steps for k in np.flatnonzero(p)},
        )

    def recall(
        self, cue=None, content=None, at: int | None = None, with_patterns: bool = False
    ) -> Operation:
        """Recall by cue (the stored pattern) or by a content fragment (the cues sharing it).

        Parameters
        ----------
        cue : int, optional
            Cue to recall; its pattern is ``result.pattern``.
        content : array-like of 0/1 or bool, optional
            Fragment (at least one active bit); the cues whose stored pattern shares an active
            bit are ``result.cues``.
        at : int, optional
            Start time (ms); default: as soon as allowed.
        with_patterns : bool
            Recall by content only: also recall each returned cue by cue and put its pattern
            in ``result.patterns`` (one more recall per cue).

        Returns
        -------
        Operation

        Raises
        ------
        ValueError, TypeError
            Neither or both of ``cue`` and ``content``, a bad cue, an empty or malformed
            fragment, or ``at`` too early; nothing is simulated.
        """
        if (cue is None) == (content is None):
            raise ValueError("give exactly one of cue= or content=")
        if cue is not None:
            c = self._check_cue(cue)
            t0 = self._start(at)
            return self._record(
                "recall_cue",
                t0,
                c,
                np.zeros(self.n_content, bool),
                RECALL_SPACING,
                {c: [t0]},
                {},
            )
        frag = self._check_bits(content, "content")
        if not frag.any():
            raise ValueError("content fragment is empty (no active bit)")
        t0 = self._start(at)
        op = self._record(
            "recall_content",
            t0,
            None,
            frag,
            RECALL_SPACING,
            {},
            {int(k): [t0] for k in np.flatnonzero(frag)},
        )
        if with_patterns:
            for c in op.out_cues:
                op.patterns[c] = self.recall(cue=c).pattern
        return op

    def forget(self, cue, pattern) -> Operation:
        """Forget ``cue``'s association by re-learning it with ``pattern`` (alias of learn)."""
        return self.learn(cue, pattern)

    # ------------------------------------------------------------ schedules
    def run_schedule(self, ops, end: bool = True) -> list[Operation]:
        """Run a whole schedule of operations in one simulation and decode each operation.

        All the schedule's input spikes are given to the input populations first, the
        network is simulated once to the last operation's last output, and each operation is
        then read from the output spikes in its own window ``[t + 1, t + spacing]`` (as
        :meth:`learn` and :meth:`recall` read them: the spikes are the same). On a memory
        that has not simulated anything yet the backend builds the network once, with every
        input spike, and runs it once; ``end=True`` then ends the simulation where the
        backend has an ``end()`` (PyNN: sPyNNaker releases the board). Later operations on
        the same memory still work (PyNN backends rebuild and run again from time 0).

        Parameters
        ----------
        ops : sequence
            Operations in time order, each a :class:`~neuromem.ca3.schedule.ScheduledOp`, a
            tuple ``(t_ms, op, cue, content)`` or a dict with those keys. ``op`` is
            ``"learn"`` (cue and content held on 3 consecutive steps from ``t_ms``),
            ``"recall_cue"`` (one spike of the cue) or ``"recall_content"`` (one spike of each
            fragment bit); ``cue`` an int or None; ``content`` 0/1 values (or a string of
            0/1) of length ``n_content``, or None. Each operation starts no sooner than the
            previous one's minimum spacing (learn 7 ms, recall 6 ms, plus ``read_lag``) and
            the first no sooner than :attr:`earliest`.
        end : bool
            End the backend's simulation after the run (where it has ``end()``).

        Returns
        -------
        list of Operation
            One per scheduled operation, with the cues and content bits the output answered
            (also appended to :attr:`operations`).

        Raises
        ------
        ValueError, TypeError
            A malformed operation (unknown kind, cue out of range, content of the wrong
            length, not binary or empty where needed, a cue or content where the kind takes
            none), operations out of order or closer than their minimum spacing, or an empty
            schedule; the message names the operation (``ops[k]`` or its file and line).
            Nothing is simulated.
        """
        from .schedule import check_schedule

        sched = check_schedule(
            ops, self.n_cues, self.n_content, read_lag=self.read_lag, start=self.earliest
        )
        cue_sp: dict[int, list[int]] = {}
        con_sp: dict[int, list[int]] = {}
        for op in sched:
            steps = list(range(op.t, op.t + LEARN_STEPS)) if op.kind == "learn" else [op.t]
            if op.cue is not None:
                cue_sp.setdefault(op.cue, []).extend(steps)
            if op.content is not None:
                for k in np.flatnonzero(op.content):
                    con_sp.setdefault(int(k), []).extend(steps)
        self._inject(cue_sp, con_sp)
        windows = [(op.t + 1, op.t + op.spacing + self.read_lag) for op in sched]
        last = windows[-1][1] + 1
        if last > self.sim.t:
            self.sim.run(float(last - self.sim.t))
        reads = {}
        for label in ("OUTcue", "OUTcont"):
            t, i = self.sim.spikes(label)
            o = np.argsort(t, kind="stable")
            reads[label] = (np.asarray(t)[o], np.asarray(i)[o])
        if end and hasattr(self.sim, "end"):
            self.sim.end()
        out = []
        for op, (lo, hi) in zip(sched, windows):
            ans = {}
            for label, (t, i) in reads.items():
                a, b = np.searchsorted(t, lo, "left"), np.searchsorted(t, hi, "right")
                ans[label] = np.unique(i[a:b])
            bits = np.zeros(self.n_content, bool)
            bits[ans["OUTcont"]] = True
            content = op.content if op.content is not None else np.zeros(self.n_content, bool)
            rec = Operation(
                op.kind, op.t, op.cue, content.copy(), [int(c) for c in ans["OUTcue"]], bits
            )
            self.operations.append(rec)
            out.append(rec)
        self.next_free = windows[-1][1]
        return out

    # ------------------------------------------------------------ persistence
    def state(self) -> tuple[dict, dict[str, np.ndarray]]:
        """Everything :meth:`from_state` needs, as JSON-ready ``meta`` and named arrays.

        ``meta``: ``format_version``, ``n_cues``, ``n_content``, ``backend``,
        ``backend_options``, ``params`` (:class:`~neuromem.ca3.network.CA3Params` fields),
        ``read_lag``, ``record_v``, ``steps`` (simulated steps), ``next_free`` and
        ``out_cues`` (per operation). Arrays: the input spike trains (``in_cue_t``/``in_cue_i``,
        ``in_cont_t``/``in_cont_i``, ms and neuron index), the operations log (``op_kind``,
        ``op_t``, ``op_cue`` (-1: none), ``op_content``, ``op_out_content``) and the learned
        weights ``w_cue_to_content`` and ``w_content_to_cue`` (nA), and the initial weights
        given to the constructor, if any (``w0_cue_to_content``, ``w0_content_to_cue``).
        """
        try:
            json.dumps(self.backend_options)
        except TypeError as e:
            raise ValueError(f"backend_options cannot be saved (not JSON data): {e}") from None
        meta = {
            "format_version": CA3_FORMAT_VERSION,
            "n_cues": self.n_cues,
            "n_content": self.n_content,
            "backend": self.backend,
            "backend_options": self.backend_options,
            "params": dataclasses.asdict(self.params),
            "read_lag": self.read_lag,
            "record_v": list(self.record_v),
            "steps": self._steps,
            "next_free": int(self.next_free),
            "out_cues": [list(op.out_cues) for op in self.operations],
        }
        arrays: dict[str, np.ndarray] = {}
        for label, key in (("INcue", "in_cue"), ("INcont", "in_cont")):
            trains = self.network.populations[label].celltype.spike_times
            lens = [len(t) for t in trains]
            arrays[f"{key}_t"] = (
                np.concatenate([np.asarray(t, float) for t in trains]) if sum(lens) else np.zeros(0)
            )
            arrays[f"{key}_i"] = np.repeat(np.arange(len(trains)), lens).astype(np.int64)
        ops = self.operations
        n = self.n_content
        arrays["op_kind"] = np.array([_OP_KINDS.index(op.kind) for op in ops], np.int64)
        arrays["op_t"] = np.array([op.t for op in ops], np.int64)
        arrays["op_cue"] = np.array([-1 if op.cue is None else op.cue for op in ops], np.int64)
        arrays["op_content"] = np.array([op.content for op in ops], bool).reshape(len(ops), n)
        arrays["op_out_content"] = np.array([op.out_content for op in ops], bool).reshape(
            len(ops), n
        )
        w = self.weights()
        arrays["w_cue_to_content"] = w["cue_to_content"]
        arrays["w_content_to_cue"] = w["content_to_cue"]
        for name, w0 in self.initial_weights.items():
            arrays[f"w0_{name}"] = w0
        return meta, arrays

    @classmethod
    def from_state(cls, meta: dict, arrays: dict[str, np.ndarray]) -> CA3Memory:
        """Rebuild a memory from :meth:`state`.

        The network is rebuilt and the saved input spike trains are simulated again up to the
        saved time (the simulators are deterministic), so the rebuilt memory has the same
        weights, neuron state and spike record as the saved one; the weights are then checked
        against the saved ones.

        Raises
        ------
        ValueError
            Another format version, missing or malformed entries, or replayed weights that
            differ from the saved ones (e.g. another backend than the one that saved).
        """
        try:
            version = meta.get("format_version")
            if version != CA3_FORMAT_VERSION:
                raise ValueError(
                    f"format version {version!r}; this neuromem reads version {CA3_FORMAT_VERSION}"
                )
            w0 = {
                name: np.asarray(arrays[f"w0_{name}"], float)
                for name in ("cue_to_content", "content_to_cue")
                if f"w0_{name}" in arrays
            }
            mem = cls(
                int(meta["n_cues"]),
                int(meta["n_content"]),
                backend=str(meta["backend"]),
                params=CA3Params(**meta["params"]),
                read_lag=int(meta["read_lag"]),
                weights=w0 or None,
                record_v=list(meta.get("record_v", [])),
                **meta["backend_options"],
            )
            c, n = mem.n_cues, mem.n_content
            for label, key, size in (("INcue", "in_cue", c), ("INcont", "in_cont", n)):
                t = np.asarray(arrays[f"{key}_t"], float)
                i = np.asarray(arrays[f"{key}_i"], np.int64)
                if t.shape != i.shape or (i.size and (i.min() < 0 or i.max() >= size)):
                    raise ValueError(f"{key}: malformed spike trains")
                mem.network.populations[label].set_spike_times([t[i == k] for k in range(size)])
            steps = int(meta["steps"])
            check_duration(steps, "steps")
            if steps > 0:
                mem.sim.run(float(steps) * mem.network.dt)
            kinds = np.asarray(arrays["op_kind"], np.int64)
            if kinds.ndim != 1 or (kinds.size and (kinds.min() < 0 or kinds.max() >= 3)):
                raise ValueError("op_kind: operation kinds must be 0, 1 or 2")
            for key in ("op_t", "op_cue", "op_content", "op_out_content"):
                if len(arrays[key]) != len(kinds):
                    raise ValueError(f"{key}: one entry per operation expected")
            out_cues = meta["out_cues"]
            if len(out_cues) != len(kinds):
                raise ValueError("out_cues: one entry per operation expected")
            for j, k in enumerate(kinds):
                cue = int(arrays["op_cue"][j])
                mem.operations.append(
                    Operation(
                        _OP_KINDS[int(k)],
                        int(arrays["op_t"][j]),
                        None if cue < 0 else cue,
                        np.asarray(arrays["op_content"][j], bool).copy(),
                        [int(v) for v in out_cues[j]],
                        np.asarray(arrays["op_out_content"][j], bool).copy(),
                    )
                )
            mem.next_free = int(meta["next_free"])
            saved = {
                "cue_to_content": np.asarray(arrays["w_cue_to_content"], float),
                "content_to_cue": np.asarray(arrays["w_content_to_cue"], float),
            }
        except (KeyError, TypeError, IndexError, AttributeError) as e:
            raise ValueError(f"not a complete CA3 memory state: {e!r}") from None
        for name, w in mem.weights().items():
            if w.shape != saved[name].shape or not np.allclose(
                w, saved[name], atol=1e-9, equal_nan=True
            ):
                raise ValueError(
                    f"the replayed {name} weights differ from the saved ones (backend "
                    f"{mem.backend!r}); the file does not describe this simulation"
                )
        return mem

    def save(self, path: str | os.PathLike) -> Path:
        """Write the memory to one ``.npz`` file (written atomically; ``.npz`` added).

        The file holds ``__header__`` (JSON: ``kind = "ca3-memory"`` and the ``meta`` of
        :meth:`state`, format version :data:`CA3_FORMAT_VERSION`) and the arrays of
        :meth:`state`. Returns the path.

        Raises
        ------
        FileNotFoundError
            The folder of ``path`` does not exist.
        ValueError
            Backend options that are not JSON data.
        """
        meta, arrays = self.state()
        try:
            return npzfile.write(path, "ca3-memory", meta, arrays)
        except TypeError as e:
            raise ValueError(f"backend options are not JSON data: {e}") from None

    @classmethod
    def load(cls, path: str | os.PathLike) -> CA3Memory:
        """Read a memory written by :meth:`save` (see :meth:`from_state`).

        Raises
        ------
        FileNotFoundError
            No such file.
        ValueError
            Corrupt file, not a CA3 memory, another format version, or a replay that does not
            give the saved weights.
        """
        meta, arrays = npzfile.read(path, "ca3-memory", "a CA3 memory file")
        p = npzfile.find(path)
        try:
            return cls.from_state(meta, arrays)
        except ValueError as e:
            raise ValueError(f"path: {p}: {e}") from None

    # ------------------------------------------------------------ outputs
    @property
    def time(self) -> float:
        """Simulated time so far (ms)."""
        return 0.0 if self._sim is None else self._sim.time

    def spikes(self, label: str) -> tuple[np.ndarray, np.ndarray]:
        """Spike times (ms) and neuron indices of population ``label`` so far."""
        if label not in POPULATIONS:
            raise ValueError(f"label: unknown population {label!r}")
        return self.sim.spikes(label)

    def weights(self) -> dict[str, np.ndarray]:
        """Current learned weights (nA): ``cue_to_content`` (c, n), ``content_to_cue`` (n, c)."""
        return {
            "cue_to_content": self.sim.weights(PLASTIC_CUE_TO_CONTENT),
            "content_to_cue": self.sim.weights(PLASTIC_CONTENT_TO_CUE),
        }

    def result(self):
        """Everything recorded so far as a :class:`~neuromem.spiking.SimulationResult`."""
        return self.sim.result()

    def to_neo(self, label: str | None = None):
        """Recorded spikes (and ``v`` where recorded) as Neo, laid out as PyNN does.

        One :class:`neo.Block` per population, one Segment for the simulation, spike trains
        built lazily (see :meth:`neuromem.spiking.SimulationResult.to_neo`).

        Parameters
        ----------
        label : str, optional
            A population (its Block); without it, a dict of every population's Block.
        """
        return self.result().to_neo(label)

    def trace(self):
        """Recorded spikes as a :class:`~neuromem.ca3.trace.Trace` (golden CSV format)."""
        from .trace import trace_from_result

        return trace_from_result(self.result())

    def plot_raster(self, populations=None, ax=None):
        """Raster plot, one panel per population (like the paper's figures)."""
        return plot_raster(self.trace(), populations=populations, ops=self.operations)


def plot_raster(trace, populations=None, ops=None):
    """Raster plot of a CA3 trace: one panel per population, time on the x axis.

    Parameters
    ----------
    trace : Trace
        Spikes (e.g. :func:`~neuromem.ca3.trace.read_trace` or ``CA3Memory.trace()``).
    populations : sequence of str, optional
        Panels to draw (default: all of :data:`POPULATIONS`).
    ops : list of Operation, optional
        Operations to mark with vertical lines.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    pops = list(populations or POPULATIONS)
    for p in pops:
        if p not in POPULATIONS:
            raise ValueError(f"populations: unknown population {p!r}")
    fig, axes = plt.subplots(len(pops), 1, sharex=True, figsize=(9, 0.75 * len(pops) + 1))
    axes = np.atleast_1d(axes)
    t_end = max(trace.last_time + 2, 10)
    colors = {"learn": "tab:green", "recall_cue": "tab:blue", "recall_content": "tab:orange"}
    for ax, p in zip(axes, pops):
        t, i = trace.get(p)
        ax.scatter(t, i, s=6, marker="|", color="k")
        ax.set_ylabel(p, rotation=0, ha="right", va="center", fontsize=7)
        ax.tick_params(labelsize=6)
        ax.yaxis.set_major_locator(MaxNLocator(integer=True, nbins=4))
        # rows are neurons: whole-number ticks, even for a one-neuron population
        top = int(i.max()) if len(i) else 0
        ax.set_ylim(-0.5, top + 0.5)
        if top == 0:
            ax.set_yticks([0])  # MaxNLocator falls back to fractions for a single row
        ax.set_xlim(-1, t_end)
        for op in ops or []:
            ax.axvline(op.t, color=colors.get(op.kind, "grey"), lw=0.6, alpha=0.6)
    axes[-1].set_xlabel("time (ms)")
    fig.suptitle("CA3 memory: spikes per population (y: neuron index)", fontsize=9, y=0.995)
    kinds = sorted({op.kind for op in ops or []})
    if kinds:
        from matplotlib.lines import Line2D

        labels = {"learn": "learn", "recall_cue": "recall by cue",
                  "recall_content": "recall by content"}  # fmt: skip
        handles = [Line2D([], [], color=colors.get(k, "grey"), lw=1.5) for k in kinds]
        fig.legend(handles, [f"{labels.get(k, k)} starts" for k in kinds], loc="upper center",
                   bbox_to_anchor=(0.5, 0.975), fontsize=7, ncol=len(kinds),
                   frameon=False)  # fmt: skip
    top = 1 - 0.6 / fig.get_figheight()
    fig.tight_layout(h_pad=0.1, rect=(0, 0, 1, top))
    return fig
