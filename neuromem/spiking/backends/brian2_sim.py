"""Brian2 backend: the :class:`~neuromem.spiking.network.Network` built with Brian2 itself.

The network is built from Brian2 objects (``NeuronGroup`` with a threshold, a reset and a
``run_regularly`` update; ``SpikeGeneratorGroup``; ``Synapses`` with ``on_pre`` code and
delays) scheduled so that one Brian2 time step is one step of the Numba reference
(:mod:`neuromem.spiking.backends.numba_sim`), operation for operation:

* slot ``groups`` (``run_regularly``): the currents decay by :math:`e^{-dt/\\tau_{syn}}`
  (the decay that ends step ``t - 1`` in the reference, moved to the start of step ``t``;
  currents below 1e-30 nA are flushed to 0), the input that arrived for this step is added,
  scaled by :math:`\\frac{\\tau_{syn}}{dt}(1 - e^{-dt/\\tau_{syn}})`, and outside the
  refractory period :math:`\\alpha = (I_E - I_I + i_{offset}) \\tau_m / c_m + v_{rest}`,
  :math:`V \\leftarrow \\alpha - e^{-dt/\\tau_m}(\\alpha - V)`; inside it the refractory
  counter (``ceil(tau_refrac / dt)`` steps) counts down and ``V`` is held;
* slot ``thresholds``: ``V >= v_thresh`` (and the spike sources fire);
* slot ``after_thresholds`` (the reset, moved before the synapses): ``V = v_reset``, counter
  set, and for neurons that are targets of STDP the spike is appended to the neuron's
  post-synaptic history (the last 15 spikes and their traces, as sPyNNaker keeps them);
* slot ``synapses``: a spike emitted at step ``t`` through a synapse of ``d`` steps is
  delivered by Brian2's spike queue at step ``t + d - 1`` (Brian2 delay ``(d - 1) dt``) into
  the target's input variable, read at the start of step ``t + d``: the reference's ring
  buffer. Plastic synapses run their ``on_pre`` at ``t`` (delay 0, they need ``d = 1``):
  sPyNNaker's deferred, pre-synaptically driven spike-pair rule computed from the post
  history (potentiation by every post spike seen in ``(t_last, t]``, then depression by the
  last post spike seen at or before ``t``, each term clipped), then the new weight is sent.

All state variables are dimensionless numbers in the description's units (ms, mV, nA, nF,
MOhm) so that the arithmetic is the reference's, operation for operation; the decay factors
of the STDP windows come from the same lookup tables (``TimedArray`` indexed by whole steps).
The result reproduces the Numba backend spike for spike (and both SpiNNaker recordings).

Devices: Brian2's runtime device (``target="numpy"`` needs no compiler; ``"cython"``
compiles once into :func:`neuromem.spiking.backends.env.brian2_cache_dir`) supports repeated ``run``
calls, changed spike-source times between runs and :meth:`Brian2Simulator.emit_late`;
``device="cpp_standalone"`` builds and runs a C++ program once (one ``run`` per simulator).
"""

from __future__ import annotations

import math
import os
import tempfile

import numpy as np

from neuromem.errors import BackendUnavailableError, ConfigError

from ..network import Network, Population
from ..results import SimulationResult
from . import register_backend
from ._common import (
    MAX_POST_EVENTS,
    _add_spike_times,
    _check_late_source,
    _duration_steps,
    _late_indices,
    _population,
    _steps,
)

__all__ = ["Brian2Simulator"]

N_HIST = MAX_POST_EVENTS - 1  # post-synaptic spikes kept per neuron (sPyNNaker: 15)


def _neuron_code() -> str:
    """The per-step membrane update (``run_regularly`` in slot ``groups``)."""
    return "\n".join(
        [
            "ie = ie * dec_e",
            "ie = ie * int(abs(ie) >= 1e-30)",
            "ii = ii * dec_i",
            "ii = ii * int(abs(ii) >= 1e-30)",
            "ie = ie + ine * init_e",
            "ii = ii + ini * init_i",
            "ine = 0",
            "ini = 0",
            "_nr = int(refr <= 0)",
            "_alpha = (ie - ii + i_offset) * r_mem + v_rest",
            "v = _nr * (_alpha - exp_tc * (_alpha - v)) + (1 - _nr) * v",
            "refr = refr - (1 - _nr)",
        ]
    )


def _history_code() -> str:
    """Reset code appending a post-synaptic spike to the neuron's 15-spike history.

    ``hc`` is the number of stored spikes, ``ht_k``/``htr_k`` the step and trace of entry
    ``k`` (1 = oldest); a full history drops its oldest entry (sPyNNaker's layout).
    """
    k = range(1, N_HIST + 1)
    lines = ["_tn = timestep(t, dt)"]
    lines.append("_lt = 0" + "".join(f" + ht_{e} * int(hc == {e})" for e in k))
    lines.append("_ltr = 0.0" + "".join(f" + htr_{e} * int(hc == {e})" for e in k))
    lines.append("_tr = _ltr * lutm((_tn - _lt) * dt) + 1.0")
    lines.append(f"_full = int(hc >= {N_HIST})")
    for e in range(1, N_HIST):
        lines.append(f"ht_{e} = ht_{e} * (1 - _full) + ht_{e + 1} * _full")
        lines.append(f"htr_{e} = htr_{e} * (1 - _full) + htr_{e + 1} * _full")
    lines.append("hc = hc + 1 - _full")
    for e in k:
        lines.append(f"ht_{e} = ht_{e} * int(hc != {e}) + _tn * int(hc == {e})")
        lines.append(f"htr_{e} = htr_{e} * int(hc != {e}) + _tr * int(hc == {e})")
    return "\n".join(lines)


def _stdp_code(target: str, clip_each: bool, dep_delayed: bool, dep_coincident: bool) -> str:
    """``on_pre`` of a plastic synapse (sPyNNaker's deferred spike-pair rule, delay 1)."""
    lines = [
        "_tn = timestep(t, dt)",
        "_begin = (tpre - d) * int(tpre >= d)",
        "_end = (_tn - d) * int(_tn >= d)",
        "_w = w",
        "_pot = 0.0 * xpre",
        "_pt = 0 * tpre",
        "_ptr = 0.0 * xpre",
        "_has = 0 * tpre",
    ]
    for e in range(1, N_HIST + 1):
        lines.append(
            f"_in = int(hc_post >= {e}) * int(ht_{e}_post > _begin) * int(ht_{e}_post <= _end)"
        )
        dw = f"Ap * xpre * lutp((ht_{e}_post + d - tpre) * dt) * _in"
        if clip_each:
            lines.append(f"_w = clip(_w + {dw}, wmin, wmax)")
        else:
            lines.append(f"_pot = _pot + {dw}")
        lines.append(f"_c = int(hc_post >= {e}) * int(ht_{e}_post <= _end)")
        lines.append(f"_pt = _pt * (1 - _c) + ht_{e}_post * _c")
        lines.append(f"_ptr = _ptr * (1 - _c) + htr_{e}_post * _c")
        lines.append("_has = _has + _c - _has * _c")
    lines.append("_dtm = _tn - _pt - d" if dep_delayed else "_dtm = _tn - _pt")
    ok = "int(_dtm >= 0)" if dep_coincident else "int(_dtm > 0)"
    lines.append(f"_dep = Am * _ptr * lutm(_dtm * dt) * {ok} * _has")
    if clip_each:
        lines.append("w = clip(_w - _dep, wmin, wmax)")
    else:
        lines.append("w = clip(_w + _pot - _dep, wmin, wmax)")
    lines.append("xpre = xpre * lutp((_tn - tpre) * dt) + 1.0")
    lines.append("tpre = _tn")
    lines.append(f"{target}_post += w")
    return "\n".join(lines)


def _lut(tau: float, dt: float) -> np.ndarray:
    """The reference's decay table ``exp(-k dt / tau)`` (cut at 30 tau), then a 0."""
    n_lut = int(math.ceil(30.0 * tau / dt)) + 1
    k_dt = np.arange(n_lut) * dt
    return np.append(np.exp(-k_dt / tau), 0.0)


@register_backend("brian2")
class Brian2Simulator:
    """Simulator of a :class:`~neuromem.spiking.network.Network` built with Brian2.

    Parameters
    ----------
    network : Network
        The description (validated here). Spike-source times are read at each :meth:`run`
        (rounded to the nearest step, one spike per step and neuron).
    device : {"runtime", "cpp_standalone"}
        Brian2 device. The standalone device builds and runs one C++ program: one
        :meth:`run` per simulator.
    target : {"numpy", "cython"}
        Code-generation target of the runtime device (cython compiles once, cached in
        :func:`neuromem.spiking.backends.env.brian2_cache_dir`).
    build_dir : str, optional
        Folder of the standalone project (default: a new temporary folder).
    stdp_clip, depression_post_delay, depress_coincident, amplitude_times_wmax
        The STDP details, with the same meaning and defaults as
        :class:`~neuromem.spiking.backends.numba_sim.NumbaSimulator` (the defaults match the
        SpiNNaker recordings).

    Raises
    ------
    TypeError, ValueError, ConfigError
        Invalid network or option, delays that are not whole steps, a plastic projection
        whose delay is not one step, or plastic projections onto one population with
        different ``tau_minus``.
    BackendUnavailableError
        Brian2 is not installed.
    """

    name = "brian2"

    def __init__(
        self,
        network: Network,
        device: str = "runtime",
        target: str = "numpy",
        build_dir: str | None = None,
        stdp_clip: str = "each",
        depression_post_delay: bool = True,
        depress_coincident: bool = True,
        amplitude_times_wmax: bool = False,
    ):
        if not isinstance(network, Network):
            raise TypeError(f"network must be a Network, got {type(network).__name__}")
        if device not in ("runtime", "cpp_standalone"):
            raise ValueError(f"device must be 'runtime' or 'cpp_standalone', got {device!r}")
        if target not in ("numpy", "cython"):
            raise ValueError(f"target must be 'numpy' or 'cython', got {target!r}")
        if stdp_clip not in ("sum", "each"):
            raise ValueError(f"stdp_clip must be 'sum' or 'each', got {stdp_clip!r}")
        network.validate()
        self.network = network
        self.dt = network.dt
        self.device = device
        self.target = target
        self.build_dir = build_dir
        self.clip_each = stdp_clip == "each"
        self.dep_delayed = bool(depression_post_delay)
        self.dep_coincident = bool(depress_coincident)
        self.amp_wmax = bool(amplitude_times_wmax)
        self._check()
        try:
            from neuromem.spiking.backends.env import configure_brian2

            self.b2 = configure_brian2("cython" if target == "cython" else "numpy")
        except ImportError as exc:  # pragma: no cover - brian2 is a dependency
            raise BackendUnavailableError(f"backend 'brian2' cannot be imported: {exc}") from exc
        self.t = 0
        self._ran = False
        self._late: dict[str, list[tuple[int, int]]] = {}
        if device == "cpp_standalone":
            # Brian2's default `make -j` starts every compile job at once (a load of 100+ on
            # a small machine); one job per core is as fast and leaves the machine usable
            self.b2.prefs.devices.cpp_standalone.extra_make_args_unix = [f"-j{os.cpu_count() or 1}"]
            # the folder is given to build() too: with build_on_run=False Brian2 keeps
            # set_device's directory for an automatic build only, and build(directory=None)
            # compiled every program in a new temporary folder (no reuse of a build_dir)
            self.build_dir = build_dir or tempfile.mkdtemp(prefix="neuromem_b2_")
            self.b2.set_device("cpp_standalone", directory=self.build_dir, build_on_run=False)
        try:
            self._build()
        except Exception:
            if device == "cpp_standalone":
                self._restore_runtime()
            raise

    # ------------------------------------------------------------------ checks
    def _check(self) -> None:
        dt = self.dt
        tau_minus: dict[str, float] = {}
        for pr in self.network.projections.values():
            d = _steps(pr.synapse_type.delay, dt, f"projection {pr.label!r}: delay")
            if pr.plastic:
                if d != 1:
                    raise ConfigError(
                        f"projection {pr.label!r}: the brian2 backend runs STDP synapses with a "
                        f"delay of one step only (got {d} steps)"
                    )
                tm = pr.synapse_type.timing_dependence.tau_minus
                if tau_minus.setdefault(pr.post.label, tm) != tm:
                    raise ConfigError(
                        f"projection {pr.label!r}: plastic projections onto "
                        f"{pr.post.label!r} must share tau_minus"
                    )
        self._tau_minus = tau_minus

    # ------------------------------------------------------------------ build
    def _build(self) -> None:
        b2 = self.b2
        ms = b2.ms
        dt_q = self.dt * ms
        net = self.network
        self.groups: dict[str, object] = {}
        self.monitors: dict[str, object] = {}
        self.v_monitors: dict[str, object] = {}
        objs = []
        for p in net.populations.values():
            if p.is_source:
                g = b2.SpikeGeneratorGroup(
                    p.size, np.zeros(0, int), np.zeros(0) * ms, dt=dt_q, name=self._nm("src", p)
                )
            else:
                g = self._neuron_group(p, dt_q)
            self.groups[p.label] = g
            objs.append(g)
            if "spikes" in p.record:
                m = b2.SpikeMonitor(g, name=self._nm("mon", p))
                self.monitors[p.label] = m
                objs.append(m)
            if "v" in p.record:
                # slot "start": v at the start of each step, before its update (sPyNNaker's)
                m = b2.StateMonitor(g, "v", record=True, when="start", name=self._nm("vmon", p))
                self.v_monitors[p.label] = m
                objs.append(m)
        self.synapses: dict[str, object] = {}
        for k, pr in enumerate(net.projections.values()):
            s = self._synapses(pr, k, dt_q)
            self.synapses[pr.label] = s
            objs.append(s)
        self.b2net = b2.Network(objs)

    @staticmethod
    def _nm(kind: str, pop: Population) -> str:
        # stable names: Brian2's generated code (and its Cython cache) names the arrays after
        # the objects; "*" lets Brian2 add a suffix when two simulators coexist
        safe = "".join(ch if ch.isalnum() else "_" for ch in pop.label)
        return f"{kind}_{safe}*"

    def _neuron_group(self, p: Population, dt_q):
        b2, dt = self.b2, self.dt
        c = p.celltype
        model = ["v : 1", "ie : 1", "ii : 1", "ine : 1", "ini : 1", "refr : integer"]
        reset = "v = v_reset\nrefr = t_refract"
        ns = {
            "v_rest": c.v_rest,
            "v_reset": c.v_reset,
            "v_thresh": c.v_thresh,
            "r_mem": c.tau_m / c.cm,
            "exp_tc": math.exp(-dt / c.tau_m),
            "i_offset": c.i_offset,
            "t_refract": int(math.ceil(c.tau_refrac / dt - 1e-9)),
        }
        for tau, sfx in ((c.tau_syn_E, "e"), (c.tau_syn_I, "i")):
            dcy = math.exp(-dt / tau)
            ns[f"dec_{sfx}"] = dcy
            ns[f"init_{sfx}"] = tau * (1.0 - dcy) / dt
        if p.label in self._tau_minus:
            model.append("hc : integer")
            model += [f"ht_{e} : integer" for e in range(1, N_HIST + 1)]
            model += [f"htr_{e} : 1" for e in range(1, N_HIST + 1)]
            reset += "\n" + _history_code()
            ns["lutm"] = b2.TimedArray(_lut(self._tau_minus[p.label], dt), dt=dt_q)
        g = b2.NeuronGroup(
            p.size,
            "\n".join(model),
            threshold="v >= v_thresh",
            reset=reset,
            namespace=ns,
            dt=dt_q,
            name=self._nm("pop", p),
        )
        g.resetter["spike"].when = "after_thresholds"
        g.run_regularly(_neuron_code(), when="groups", name=self._nm("upd", p))
        g.v = c.initial_v
        return g

    def _synapses(self, pr, k: int, dt_q):
        b2, dt = self.b2, self.dt
        st = pr.synapse_type
        d = _steps(st.delay, dt, f"projection {pr.label!r}: delay")
        target = "ine" if pr.receptor_type == "excitatory" else "ini"
        pre_g, post_g = self.groups[pr.pre.label], self.groups[pr.post.label]
        name = f"syn_{k}*"
        if not pr.plastic:
            s = b2.Synapses(
                pre_g,
                post_g,
                "w : 1",
                on_pre=f"{target}_post += w",
                delay=(d - 1) * dt_q,
                dt=dt_q,
                name=name,
            )
        else:
            td, wd = st.timing_dependence, st.weight_dependence
            scale = wd.w_max if self.amp_wmax else 1.0
            ns = {
                "Ap": td.A_plus * scale,
                "Am": td.A_minus * scale,
                "wmin": wd.w_min,
                "wmax": wd.w_max,
                "d": d,
                "lutp": b2.TimedArray(_lut(td.tau_plus, dt), dt=dt_q),
                "lutm": b2.TimedArray(_lut(td.tau_minus, dt), dt=dt_q),
            }
            s = b2.Synapses(
                pre_g,
                post_g,
                "w : 1\ntpre : integer\nxpre : 1",
                on_pre=_stdp_code(target, self.clip_each, self.dep_delayed, self.dep_coincident),
                delay=0 * dt_q,
                namespace=ns,
                dt=dt_q,
                name=name,
            )
        pre_i, post_i = pr.connections()
        if len(pre_i):
            s.connect(i=pre_i, j=post_i)
            s.w = pr.initial_weights()
        else:
            s.active = False
        return s

    # ------------------------------------------------------------------ run
    def _restore_runtime(self) -> None:
        b2 = self.b2
        b2.device.reinit()
        b2.device.activate()
        b2.set_device("runtime")

    def _set_sources(self, t0: int, t1: int) -> None:
        ms = self.b2.ms
        for p in self.network.populations.values():
            if not p.is_source:
                continue
            idx, steps = [], []
            for k, times in enumerate(p.celltype.spike_times):
                s = np.unique(np.rint(np.asarray(times) / self.dt).astype(np.int64))
                s = s[(s >= t0) & (s < t1)]
                steps.append(s)
                idx.append(np.full(len(s), k, np.int64))
            st = np.concatenate(steps) if steps else np.zeros(0, np.int64)
            ii = np.concatenate(idx) if idx else np.zeros(0, np.int64)
            self.groups[p.label].set_spikes(ii, st * self.dt * ms)

    def run(self, duration: float) -> None:
        """Advance the simulation by ``duration`` ms (a whole number of steps, > 0).

        Raises
        ------
        TypeError, ValueError
            Non-numeric, non-positive or non-finite duration, or not a whole number of steps.
        ConfigError
            A second run on the standalone device.
        """
        n_steps = _duration_steps(duration, self.dt)
        if self.device == "cpp_standalone" and self._ran:
            raise ConfigError("device 'cpp_standalone' runs once per simulator (build a new one)")
        t0, t1 = self.t, self.t + n_steps
        self._set_sources(t0, t1)
        b2 = self.b2
        if self.device == "cpp_standalone":
            try:
                self.b2net.run(n_steps * self.dt * b2.ms)
                b2.device.build(directory=self.build_dir, compile=True, run=True)
                #: seconds the compiled program ran (Brian2's measure; compilation apart)
                self.standalone_run_seconds = getattr(b2.device, "_last_run_time", None)
                #: seconds of the whole program (start, reading its arrays, the run, writing
                #: the results), compilation apart
                self.standalone_binary_seconds = b2.device.timers.get("run_binary")
                self._cache_results()
            finally:
                self._restore_runtime()
        else:
            self.b2net.run(n_steps * self.dt * b2.ms)
        self._ran = True
        self.t = t1

    def _cache_results(self) -> None:
        self._spk = {
            lab: (np.asarray(m.t_[:]), np.asarray(m.i[:])) for lab, m in self.monitors.items()
        }
        self._v = {lab: np.asarray(m.v[:]).T.copy() for lab, m in self.v_monitors.items()}
        self._w = {
            lab: (np.asarray(s.i[:]), np.asarray(s.j[:]), np.asarray(s.w[:]))
            for lab, s in self.synapses.items()
            if len(self.network.projections[lab])
        }

    def emit_late(self, label: str, indices) -> None:
        """Emit spikes of source ``label`` at the last simulated step, after the fact.

        Equivalent to having scheduled them before (see
        :meth:`~neuromem.spiking.backends.numba_sim.NumbaSimulator.emit_late`). Supported for
        sources whose projections are static with a delay of one step (the CA3 inputs).

        Raises
        ------
        ValueError
            Nothing simulated yet, ``label`` not a spike source, or indices out of range.
        ConfigError
            The source has a plastic or longer-delay projection, or the standalone device.
        """
        pop = self._pop(label)
        _check_late_source(pop, label, self.t)
        if self.device != "runtime":
            raise ConfigError("emit_late needs the runtime device")
        idx = _late_indices(pop, label, indices)
        if len(idx) == 0:
            return
        outs = [pr for pr in self.network.projections.values() if pr.pre is pop]
        for pr in outs:
            d = _steps(pr.synapse_type.delay, self.dt, "delay")
            if pr.plastic or d != 1:
                raise ConfigError(
                    f"emit_late: projection {pr.label!r} from {label!r} must be static with a "
                    "delay of one step"
                )
        t = self.t - 1
        _add_spike_times(pop, idx, t * self.dt)
        for pr in outs:
            s = self.synapses[pr.label]
            if not len(pr):
                continue
            si, sj, sw = np.asarray(s.i[:]), np.asarray(s.j[:]), np.asarray(s.w[:])
            m = np.isin(si, idx)
            target = "ine" if pr.receptor_type == "excitatory" else "ini"
            arr = self.groups[pr.post.label].variables[target].get_value()
            np.add.at(arr, sj[m], sw[m])
        if "spikes" in pop.record:
            self._late.setdefault(label, []).extend((t, int(k)) for k in idx)

    # ------------------------------------------------------------------ output
    @property
    def time(self) -> float:
        """Simulated time so far (ms)."""
        return self.t * self.dt

    def _pop(self, label: str) -> Population:
        return _population(self.network, label)

    def spikes(self, label: str) -> tuple[np.ndarray, np.ndarray]:
        """Spike times (ms) and neuron indices of ``label`` so far."""
        self._pop(label)
        if label not in self.monitors:
            z = np.zeros(0)
            return z, z.astype(np.int64)
        if self.device == "cpp_standalone":
            if not self._ran:
                return np.zeros(0), np.zeros(0, np.int64)
            t_s, i = self._spk[label]
        else:
            m = self.monitors[label]
            t_s, i = np.asarray(m.t_[:]), np.asarray(m.i[:])
        steps = np.rint(t_s / (self.dt * 1e-3)).astype(np.int64)
        i = i.astype(np.int64)
        late = self._late.get(label)
        if late:
            la = np.asarray(late, np.int64)
            steps = np.concatenate([steps, la[:, 0]])
            i = np.concatenate([i, la[:, 1]])
        o = np.lexsort((i, steps))
        return steps[o] * self.dt, i[o]

    def recorded_v(self, label: str) -> np.ndarray:
        """Membrane potential (mV) of ``label`` so far: ``(steps, size)``, row ``k`` at the
        start of step ``k`` (as :meth:`NumbaSimulator.recorded_v
        <neuromem.spiking.backends.numba_sim.NumbaSimulator.recorded_v>`).

        Raises
        ------
        ValueError
            Unknown population, or its ``v`` not recorded.
        """
        pop = self._pop(label)
        if label not in self.v_monitors:
            raise ValueError(f"label: the membrane potential of {label!r} is not recorded")
        if self.device == "cpp_standalone":
            if not self._ran:
                return np.zeros((0, pop.size))
            return self._v[label].copy()
        return np.asarray(self.v_monitors[label].v[:]).T.copy()

    def weights(self, label: str) -> np.ndarray:
        """Current ``(n_pre, n_post)`` weight matrix of projection ``label`` (NaN: none)."""
        if label not in self.network.projections:
            raise ValueError(f"label: unknown projection {label!r}")
        pr = self.network.projections[label]
        w = np.full((pr.pre.size, pr.post.size), np.nan)
        if not len(pr):
            return w
        if self.device == "cpp_standalone":
            if not self._ran:
                pre_i, post_i = pr.connections()
                w[pre_i, post_i] = pr.initial_weights()
                return w
            si, sj, sw = self._w[label]
        else:
            s = self.synapses[label]
            si, sj, sw = np.asarray(s.i[:]), np.asarray(s.j[:]), np.asarray(s.w[:])
        w[si, sj] = sw
        return w

    def result(self) -> SimulationResult:
        """Spikes of every recorded population and the weights of every projection."""
        spikes = {lab: self.spikes(lab) for lab in self.monitors}
        sizes = {lab: p.size for lab, p in self.network.populations.items()}
        weights = {lab: self.weights(lab) for lab in self.network.projections}
        signals = {lab: self.recorded_v(lab) for lab in self.v_monitors}
        signals = {lab: v for lab, v in signals.items() if len(v)}
        return SimulationResult(
            spikes, sizes, weights, self.time, self.name, dt=self.dt, signals=signals
        )
