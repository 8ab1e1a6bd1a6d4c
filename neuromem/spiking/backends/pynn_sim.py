"""PyNN builder: the :class:`~neuromem.spiking.network.Network` built with any PyNN simulator.

``create(net, "pynn:brian2")``, ``"pynn:spiNNaker"`` or ``"pynn:nest"`` build the same
description with ``pyNN.brian2``, ``pyNN.spiNNaker`` (sPyNNaker 7) or ``pyNN.nest``. The ways
these simulators read the same PyNN script differently are handled in one place,
:data:`QUIRKS` (one :class:`PyNNQuirks` per simulator):

==========================  ==================  =================  ==================
difference                  pyNN.brian2         sPyNNaker 7        pyNN.nest
==========================  ==================  =================  ==================
STDP dendritic delay        0 (only axonal)     1.0 (default)      1.0 (default)
``A_plus``/``A_minus``      times ``w_max``     absolute (nA)      times ``w_max``
inhibitory weights          negative            positive           negative
all-to-all without self     by cell: as list    by index: native   by cell: as list
changing spike times        ``set``             rebuild            rebuild
no spikes at all            empty lists         ``[]``             empty lists
longest row (``max_row``)   no limit            254 (sliced)       no limit
smallest spike source       2 neurons           1 neuron           1 neuron
input offset (steps)        0                   0                  1
reference step (substeps)   no (0)              native             rebuilt (4)
CA3 answers late by         3 steps             0 (the board)      0 (the board)
==========================  ==================  =================  ==================

The input offset: pyNN.nest 0.13 hands a spike at ``t`` to NEST at ``t - min_delay`` and NEST
3.10 refuses a spike time of 0 or less (an input at 1 ms raised, one at 0 ms was silently
dropped) and any time not after its current time; every input is handed over 1 step later,
the simulation runs 1 step longer and every spike read back is moved 1 step earlier, so
that inputs act at the description's times (the cells start from a ``v`` that has decayed to
``v_init`` at the description's time 0); changed inputs rebuild the network and run it
again from 0 (no injection into the past). The reference step: pyNN.nest's own cells
(``iaf_psc_exp_ps``, spikes between steps, by default; ``iaf_psc_exp`` on the grid) add a
spike's current after the step's membrane update and integrate the current's decay within
the step, and NEST's ``stdp_synapse`` reads the postsynaptic trace strictly before
``t - delay``: a hop took a step more, a spike moved ``V`` less, and a re-learned CA3 cue was
not forgotten. NEST then runs the reference's step rebuilt from delta cells, one delayed
projection per step of each synaptic current and parrot relays for the plastic terms, at
``dt / 4`` (:mod:`~neuromem.spiking.backends._stepped`): the same spikes and weights as the
reference (its 15-spike postsynaptic history aside: NEST keeps every spike). The last row is
the ``read_lag`` a :class:`~neuromem.ca3.CA3Memory` needs to read the answers in its windows
(measured on the recorded CA3 scenario; it is not applied by itself).

Every population is built whole (no population views), so one-to-one projections connect
index ``i`` to index ``i`` on every simulator; all-to-all projections without
self-connections between *different* populations drop same-index pairs only on sPyNNaker, so
the other simulators get them as a ``FromListConnector`` of the description's pairs. The
membrane potential is set with ``initialize(v=...)`` (not ``set``). Amplitudes follow the
description's convention of the Numba reference: by default ``A_plus``/``A_minus`` are weight
changes in nA as on the board (``amplitude_times_wmax=False``), so pyNN.brian2 and pyNN.nest
get ``A / w_max``.

What each simulator computes is its own: pyNN.brian2 integrates the continuous equations and
runs an online, trace-based spike-pair rule (weights change at post spikes too); sPyNNaker runs
the board's discrete-time update and deferred, pre-driven STDP (see
:mod:`~neuromem.spiking.backends.numba_sim`); pyNN.nest runs the reference's step as rebuilt
above. ``pynn:spiNNaker`` on a board and ``pynn:nest`` match the recordings.

PyNN keeps one simulation per simulator module: building a second :class:`PyNNSimulator` on
the same module ends the first (its results stay readable). A build that fails ends its PyNN
simulation and leaves no state behind: the next build starts afresh.
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import logging
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from neuromem.errors import BackendUnavailableError, ConfigError
from neuromem.spiking.backends.env import output_to, route_logs

from ..network import AllToAllConnector, FromListConnector, Network, OneToOneConnector
from ..results import SimulationResult
from . import TABLE, register_backend
from ._common import (
    _add_spike_times,
    _check_late_source,
    _duration_steps,
    _late_indices,
    _population,
    _result,
    _steps,
)
from ._stepped import (
    delta_cell_parameters,
    kicks,
    plastic_delay,
    relay_delay,
    start_v,
    stdp_amplitudes,
)

__all__ = ["PyNNQuirks", "QUIRKS", "PyNNSimulator"]


#: The loggers of sPyNNaker's packages: while a quiet ``pynn:spiNNaker`` simulation lives
#: (built, until ended), their records go to its log file only, from any thread.
SPINNAKER_LOGGERS = (
    "spinn_utilities",
    "spinn_machine",
    "spinnman",
    "pacman",
    "spinn_front_end_common",
    "spynnaker",
    "spalloc_client",
    "pyNN.spiNNaker",
)


@dataclass(frozen=True)
class PyNNQuirks:
    """How one PyNN simulator differs from the others when building the same description.

    Attributes
    ----------
    module : str
        Simulator module.
    dendritic_delay_fraction : float
        Passed to ``STDPMechanism``.
    amplitude_times_wmax : bool
        The simulator multiplies ``A_plus``/``A_minus`` by ``w_max``.
    inhibitory_sign : float
        Sign of inhibitory weights of current-based cells.
    self_connections_by_index : bool
        ``AllToAllConnector(allow_self_connections=False)`` drops same-index pairs between
        different populations (else it is passed as a list).
    sources_settable : bool
        Spike-source times can be changed with ``Population.set`` (else the network is
        rebuilt with the new times and run again from time 0).
    min_source_size : int
        Smallest ``SpikeSourceArray`` population the simulator builds (pyNN.brian2 0.13
        fails on one neuron: its spike generator asserts on the array of spike trains).
    input_offset : int
        Steps added to every spike-source time and to the simulated time, and taken off every
        spike read back, so that the simulator sees the whole run that many steps later than
        the description (pyNN.nest 0.13 hands a spike at ``t`` to NEST at ``t - min_delay``,
        and NEST refuses a spike time of 0 or less: an input at 1 ms raised, one at 0 ms was
        dropped).
    substeps : int
        0: the simulator's own ``IF_curr_exp``. Else the reference's step is rebuilt (see
        :mod:`~neuromem.spiking.backends._stepped`): ``IF_curr_delta`` cells, each synapse
        cut into one delayed term per step of its decaying current, plastic terms fed by
        parrot copies, the simulator run at ``dt / substeps`` with on-grid spikes.
    max_row : int or None
        Most synapses of one presynaptic neuron onto one population the simulator maps (one
        row; sPyNNaker 7.4.1: 254 plastic synapses, ``SynapseRowTooBigException`` beyond):
        larger populations are cut into slices of at most this many neurons (see
        :mod:`neuromem.spiking.split`); None: no limit.
    """

    module: str
    dendritic_delay_fraction: float
    amplitude_times_wmax: bool
    inhibitory_sign: float
    self_connections_by_index: bool
    sources_settable: bool
    min_source_size: int = 1
    input_offset: int = 0
    max_row: int | None = None
    substeps: int = 0


#: The known differences, in one place.
QUIRKS = {
    "brian2": PyNNQuirks("pyNN.brian2", 0.0, True, -1.0, False, True, min_source_size=2),
    # sPyNNaker 7.4.1: Population.set(spike_times=<list per neuron>) fails when partitioning
    "spiNNaker": PyNNQuirks("pyNN.spiNNaker", 1.0, False, 1.0, True, False, max_row=254),
    # pyNN.nest 0.13 + NEST 3.10: spike times shifted earlier by min_delay and NEST refuses
    # times <= 0 and times not after the current time: every input goes 1 step later, and
    # changed inputs rebuild the network (run again from 0) instead of ``set``; NEST steps
    # the reference's update rebuilt from delta cells at dt / 4 (see ._stepped)
    "nest": PyNNQuirks("pyNN.nest", 1.0, True, -1.0, False, False, input_offset=1, substeps=4),
}

_ACTIVE: dict[str, PyNNSimulator] = {}


@contextlib.contextmanager
def _quiet_pynn():
    """PyNN's own log held to errors for a moment."""
    log = logging.getLogger("PyNN")
    level = log.level
    log.setLevel(logging.ERROR)
    try:
        yield
    finally:
        log.setLevel(level)


@functools.cache
def _delta_cell(sim):
    """``sim.IF_curr_delta`` whose ``v`` is NEST's ``V_m`` (pyNN.nest 0.13 maps none: its
    ``initialize(v=...)`` is dropped, the cell starts at NEST's -70 mV, and ``v`` cannot be
    recorded)."""
    base = sim.IF_curr_delta
    if getattr(base, "variable_map", None):
        return base
    return type("IF_curr_delta", (base,), {"variable_map": {"v": "V_m"}, "scale_factors": {"v": 1}})


def _check_spinnaker_cfg() -> dict:
    from neuromem.spiking.backends.env import spinnaker_config

    cfg = spinnaker_config()
    if cfg["path"] is None:
        local = (
            " (./spynnaker.cfg alone is not enough: sPyNNaker reads it on top of the user file)"
            if cfg.get("local")
            else ""
        )
        raise BackendUnavailableError(
            "backend 'pynn:spiNNaker': no ~/.spynnaker.cfg found (write one with "
            "`neuromem hardware template virtual-board --out ~/.spynnaker.cfg`, or spinn3, "
            f"spinn5, spalloc){local}"
        )
    return cfg


def _carry_local_cfg(local: str | None, workdir: Path) -> None:
    """Copy the caller's ``./spynnaker.cfg`` into sPyNNaker's work folder, where sPyNNaker
    reads it on top of the user file (as it would have in the caller's folder); a
    ``spynnaker.cfg`` already in the work folder is left as it is."""
    if local is None:
        return
    dst = workdir / "spynnaker.cfg"
    if not dst.exists():
        shutil.copyfile(local, dst)


class PyNNSimulator:
    """A :class:`~neuromem.spiking.network.Network` built and run with a PyNN module.

    Parameters
    ----------
    network : Network
        The description (validated here).
    simulator : {"brian2", "spiNNaker", "nest"}
        PyNN simulator module (``pyNN.<simulator>``).
    amplitude_times_wmax : bool
        Convention of the description's ``A_plus``/``A_minus``: False (default, as the Numba
        reference and the board) weight changes in nA; True fractions of ``w_max``.
    workdir : str, optional
        sPyNNaker only: folder where it runs and writes its reports (default: a new
        temporary folder). sPyNNaker reads ``~/.spynnaker.cfg`` and then the work folder's
        ``spynnaker.cfg``; a ``./spynnaker.cfg`` in the folder this simulator is built from
        is copied there (unless the work folder has one), so it is honoured as sPyNNaker
        would honour it (see :func:`~neuromem.spiking.backends.env.spinnaker_config`).
    check_board : bool
        sPyNNaker with a board named by IP address: ask the board for its version first and
        raise :class:`~neuromem.hardware.BoardUnreachableError` when it does not answer.
    board_timeout : float
        Seconds to wait for that answer.
    brian2_target : {"numpy", "cython"}
        pyNN.brian2 only: Brian2's code-generation target (``"cython"`` compiles every code
        object once, minutes for the CA3 network, then cached).
    on_build : callable, optional
        ``on_build(sim, populations)``, called after every build of the network (the first
        and each rebuild: a rebuild starts a new PyNN simulation, in which the caller's own
        populations must be made again) with the PyNN module and the network's PyNN
        populations by label: there the caller builds the rest of a larger PyNN network and
        wires it to these populations (e.g. :func:`neuromem.ca3.connect_in`). Everything is
        then run together.
    quiet : bool
        sPyNNaker only: its log lines and progress bars go to :attr:`log_path`
        (``spinnaker.log`` in the work folder) instead of the terminal or the notebook
        (:func:`~neuromem.spiking.backends.env.output_to`); False shows them.
    provenance : bool
        sPyNNaker only: have sPyNNaker read its provenance after every run (it turns
        ``[Reports] write_provenance``, ``read_placements_provenance_data`` and
        ``read_router_provenance_data`` on for this simulation; its default mode reads none)
        and summarise it (:meth:`provenance`: lost or late packets, overflows, timer
        overruns; see :mod:`neuromem.spiking.provenance`). Reading it costs a little time
        after each run on a board; False leaves sPyNNaker's configuration as it is.
    **setup_options
        Passed to ``sim.setup`` (e.g. ``time_scale_factor`` for sPyNNaker).

    Raises
    ------
    ConfigError
        Unknown simulator, delays that are not whole steps.
    BackendUnavailableError
        The module cannot be imported (or no sPyNNaker configuration file).
    """

    def __init__(
        self,
        network: Network,
        simulator: str = "brian2",
        amplitude_times_wmax: bool = False,
        workdir: str | None = None,
        check_board: bool = True,
        board_timeout: float = 5.0,
        brian2_target: str = "numpy",
        on_build=None,
        quiet: bool = True,
        provenance: bool = True,
        **setup_options,
    ):
        if not isinstance(network, Network):
            raise TypeError(f"network must be a Network, got {type(network).__name__}")
        if simulator not in QUIRKS:
            raise ConfigError(
                f"simulator: unknown PyNN simulator {simulator!r}; known: {', '.join(QUIRKS)}"
            )
        network.validate()
        for pr in network.projections.values():
            _steps(pr.synapse_type.delay, network.dt, f"projection {pr.label!r}: delay")
        q = QUIRKS[simulator]
        for p in network.populations.values():
            if p.is_source and p.size < q.min_source_size:
                raise ConfigError(
                    f"network: spike source {p.label!r} has {p.size} neuron(s); "
                    f"{q.module} builds spike sources of {q.min_source_size} or more"
                )
        self.network = network
        self.dt = network.dt
        self.simulator = simulator
        self.name = f"pynn:{simulator}"
        self.quirks = QUIRKS[simulator]
        self.amp_wmax = bool(amplitude_times_wmax)
        self.setup_options = setup_options
        if on_build is not None and not callable(on_build):
            raise TypeError(f"on_build must be callable, got {type(on_build).__name__}")
        self.on_build = on_build
        if not isinstance(provenance, bool):
            raise TypeError(f"provenance must be True or False, got {provenance!r}")
        self.read_provenance = provenance
        self._provenance: dict | None = None
        if not isinstance(quiet, bool):
            raise TypeError(f"quiet must be True or False, got {quiet!r}")
        self.quiet = quiet
        self._unroute = None  # set while sPyNNaker's loggers go to log_path only
        if simulator == "spiNNaker":
            cfg = _check_spinnaker_cfg()
            if check_board:
                from neuromem.spiking.board import check_configured_board

                check_configured_board(timeout=board_timeout)
            self.workdir = Path(workdir or tempfile.mkdtemp(prefix="neuromem_spinnaker_"))
            self.workdir.mkdir(parents=True, exist_ok=True)
            _carry_local_cfg(cfg.get("local"), self.workdir)
        else:
            self.workdir = None
        if simulator == "brian2":
            if brian2_target not in ("numpy", "cython"):
                raise ValueError(
                    f"brian2_target must be 'numpy' or 'cython', got {brian2_target!r}"
                )
            from neuromem.spiking.backends.env import configure_brian2

            b2 = configure_brian2(brian2_target)
            # pyNN.brian2 creates its spike generators on Brian2's default clock
            b2.defaultclock.dt = self.dt * b2.ms
        if simulator == "nest":
            from neuromem.spiking.backends.env import quiet_nest_warnings

            quiet_nest_warnings()
        try:
            self.sim = importlib.import_module(self.quirks.module)
        except Exception as exc:  # noqa: BLE001 - any import failure makes it unusable
            msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise BackendUnavailableError(
                f"backend {self.name!r}: cannot import {self.quirks.module}: {msg}"
            ) from exc
        self.t = 0
        self._ended = False
        self._sim_t = 0  # steps simulated in the current build
        self._dirty = False
        self._late: dict[str, list] = {}
        self._cache: tuple | None = None
        self._mapping: dict | None = None
        self._build()

    # ------------------------------------------------------------------ helpers
    @contextlib.contextmanager
    def _cwd(self):
        if self.workdir is None:
            yield
            return
        old = os.getcwd()
        os.chdir(self.workdir)
        try:
            with output_to(self.log_path):
                yield
        finally:
            os.chdir(old)

    @property
    def log_path(self) -> Path | None:
        """sPyNNaker's output when ``quiet`` (``WORKDIR/spinnaker.log``), else None."""
        return self.workdir / "spinnaker.log" if self.quiet and self.workdir else None

    def _times(self, pop, t0: int = 0) -> list:
        out = []
        for times in pop.celltype.spike_times:
            s = np.unique(np.rint(np.asarray(times) / self.dt).astype(np.int64))
            out.append([float(x) * self.dt for x in s if x >= t0])
        return out

    def _pynn_times(self, pop, t0: int = 0) -> list:
        """Spike times as handed to PyNN: :meth:`_times` plus the simulator's input offset."""
        off = self.quirks.input_offset * self.dt
        return [[t + off for t in ts] for ts in self._times(pop, t0)]

    def _source_cell(self, pop):
        sim = self.sim
        times = self._pynn_times(pop)
        if self.simulator == "spiNNaker":
            # sPyNNaker 7.4.1 fails on a list of empty lists (spike density check)
            return sim.SpikeSourceArray(spike_times=times if any(times) else [])
        from pyNN.parameters import Sequence

        return sim.SpikeSourceArray(spike_times=[Sequence(t) for t in times])

    def _synapse(self, pr, sign: float):
        sim, q = self.sim, self.quirks
        st = pr.synapse_type
        if not pr.plastic:
            return sim.StaticSynapse(weight=sign * st.weight, delay=st.delay)
        td, wd = st.timing_dependence, st.weight_dependence
        if q.amplitude_times_wmax == self.amp_wmax:
            scale = 1.0
        elif q.amplitude_times_wmax:  # description in nA, simulator multiplies by w_max
            scale = 1.0 / wd.w_max if wd.w_max > 0 else 0.0
        else:  # description in fractions, simulator takes nA
            scale = wd.w_max
        timing = sim.SpikePairRule(
            tau_plus=td.tau_plus,
            tau_minus=td.tau_minus,
            A_plus=td.A_plus * scale,
            A_minus=td.A_minus * scale,
        )
        weight = sim.AdditiveWeightDependence(w_min=wd.w_min, w_max=wd.w_max)
        return sim.STDPMechanism(
            timing_dependence=timing,
            weight_dependence=weight,
            weight=st.weight,
            delay=st.delay,
            dendritic_delay_fraction=q.dendritic_delay_fraction,
        )

    def _stepped_max_delay(self) -> float:
        """Longest delay of the stepped projections (ms; PyNN's default maximum is 10)."""
        longest = 1.0
        for pr in self.network.projections.values():
            if len(pr):
                n = len(kicks(pr.post.celltype.parameters(), pr.receptor_type, self.dt, pr.label))
                longest = max(longest, pr.synapse_type.delay + (n - 1) * self.dt)
        return longest

    def _stepped_projection(self, pr, sign: float):
        """``pr`` as the reference steps it (see :mod:`._stepped`): one projection per term
        of its decaying current; returns the first term's (its weights are read back)."""
        sim, dt = self.sim, self.dt
        h = dt / self.quirks.substeps
        st = pr.synapse_type
        ks = kicks(pr.post.celltype.parameters(), pr.receptor_type, dt, pr.label)
        pre, post = self.pops[pr.pre.label], self.pops[pr.post.label]
        if pr.plastic:
            td, wd = st.timing_dependence, st.weight_dependence
            if pr.receptor_type == "inhibitory":
                raise ConfigError(
                    f"projection {pr.label!r}: {self.name} has no plastic inhibitory current "
                    "synapses (NEST's stdp_synapse needs weight and Wmax of one sign)"
                )
            if wd.w_min != 0.0:
                raise ConfigError(
                    f"projection {pr.label!r}: {self.name} needs w_min = 0 (NEST's "
                    f"stdp_synapse has none), got {wd.w_min}"
                )
            frac = 1.0 if self.amp_wmax else (1.0 / wd.w_max if wd.w_max > 0 else 0.0)
            a_plus, a_minus = stdp_amplitudes(
                td.A_plus * frac, td.A_minus * frac, td.tau_plus, td.tau_minus, h
            )
        first = None
        for j, k in enumerate(ks):
            conn = self._connector(pr, sign, scale=k)
            if not pr.plastic:
                syn = sim.StaticSynapse(weight=sign * st.weight * k, delay=st.delay + j * dt)
                src = pre
            else:
                # pyNN.nest scales w_max by 1000 (nA -> pA) but IF_curr_delta weights are mV
                syn = sim.STDPMechanism(
                    timing_dependence=sim.SpikePairRule(
                        tau_plus=td.tau_plus, tau_minus=td.tau_minus, A_plus=a_plus,
                        A_minus=a_minus,
                    ),
                    weight_dependence=sim.AdditiveWeightDependence(
                        w_min=0.0, w_max=wd.w_max * k / 1000.0
                    ),
                    weight=st.weight * k,
                    delay=plastic_delay(st.delay, j, dt, h),
                )  # fmt: skip
                src = sim.Population(
                    pr.pre.size, sim.native_cell_type("parrot_neuron")(),
                    label=f"{pr.label}#relay{j}",
                )  # fmt: skip
                sim.Projection(
                    pre, src, sim.OneToOneConnector(),
                    sim.StaticSynapse(weight=1.0, delay=relay_delay(j, dt, h)),
                )  # fmt: skip
            with _quiet_pynn():  # "Several STDP models are available": one, stdp_synapse
                proj = sim.Projection(
                    src, post, conn, syn, receptor_type=pr.receptor_type, label=f"{pr.label}#{j}"
                )
            if first is None:
                first = proj
        # pyNN.nest reads weights back as pA -> nA (times 0.001); they are mV here
        self._wscale[pr.label] = 1000.0 / ks[0]
        return first

    def _connector(self, pr, sign: float, scale: float = 1.0):
        sim, q = self.sim, self.quirks
        c = pr.connector
        if isinstance(c, OneToOneConnector):
            return sim.OneToOneConnector()
        if isinstance(c, AllToAllConnector) and (
            c.allow_self_connections or q.self_connections_by_index
        ):
            return sim.AllToAllConnector(allow_self_connections=c.allow_self_connections)
        pre_i, post_i = pr.connections()
        if isinstance(c, FromListConnector) and c.weights is not None:
            w = sign * scale * pr.initial_weights()
            rows = [(int(a), int(b), float(x)) for a, b, x in zip(pre_i, post_i, w)]
            return sim.FromListConnector(rows, column_names=["weight"])
        return sim.FromListConnector([(int(a), int(b)) for a, b in zip(pre_i, post_i)])

    # ------------------------------------------------------------------ build
    def _build(self) -> None:
        prev = _ACTIVE.pop(self.simulator, None)
        if prev is not None and prev is not self:
            prev._finish()
        if self.log_path is not None and self._unroute is None:
            self._unroute = route_logs(self.log_path, SPINNAKER_LOGGERS)
        try:
            self._build_pynn()
        except BaseException:
            # a half-built network must not outlive its failure: end PyNN's simulation (its
            # module-global state) so that the next build starts afresh
            self.pops, self.projs, self._given = {}, {}, {}
            self._ended = True
            with self._cwd():
                with contextlib.suppress(Exception):
                    self.sim.end()
            self._stop_routing()
            raise
        _ACTIVE[self.simulator] = self
        self._sim_t = 0
        self._ended = False
        self._cache = None

    def _build_pynn(self) -> None:
        sim = self.sim
        with self._cwd():
            if self.quirks.substeps:
                h = self.dt / self.quirks.substeps
                opts = {"max_delay": self._stepped_max_delay(), **self.setup_options}
                sim.setup(timestep=h, min_delay=h, spike_precision="on_grid", **opts)
            else:
                sim.setup(timestep=self.dt, **self.setup_options)
            if self.simulator == "spiNNaker" and self.read_provenance:
                from spinn_utilities.config_holder import set_config

                # read after every run (sPyNNaker's Production mode reads none)
                for opt in (
                    "write_provenance",
                    "read_placements_provenance_data",
                    "read_router_provenance_data",
                ):
                    set_config("Reports", opt, "True")
            self.pops = {}
            self._given = {}
            for p in self.network.populations.values():
                if p.is_source:
                    cell = self._source_cell(p)
                elif self.quirks.substeps:
                    par = p.celltype.parameters()
                    cell = _delta_cell(sim)(**delta_cell_parameters(par, self.dt, p.label))
                else:
                    cell = sim.IF_curr_exp(**p.celltype.parameters())
                pp = sim.Population(p.size, cell, label=p.label)
                if p.is_source:
                    self._given[p.label] = self._times(p)
                if not p.is_source and self.quirks.substeps:
                    lead = self.quirks.input_offset * self.dt
                    par = p.celltype.parameters()
                    pp.initialize(v=start_v(par, p.celltype.initial_v, lead, p.label))
                elif not p.is_source:
                    pp.initialize(v=p.celltype.initial_v)
                if p.record:
                    pp.record(list(p.record))
                self.pops[p.label] = pp
            self.projs = {}
            self._wscale = {}
            for pr in self.network.projections.values():
                sign = self.quirks.inhibitory_sign if pr.receptor_type == "inhibitory" else 1.0
                if not len(pr):
                    continue
                if self.quirks.substeps:
                    self.projs[pr.label] = self._stepped_projection(pr, sign)
                    continue
                self.projs[pr.label] = sim.Projection(
                    self.pops[pr.pre.label],
                    self.pops[pr.post.label],
                    self._connector(pr, sign),
                    self._synapse(pr, sign),
                    receptor_type=pr.receptor_type,
                    label=pr.label,
                )
            if self.on_build is not None:
                self.on_build(sim, dict(self.pops))

    def _finish(self) -> None:
        """Read everything back and end the PyNN simulation (results stay readable)."""
        if self._ended:
            return
        self._cache = (self._read_spikes(), self._read_weights(), self._read_v())
        if self.simulator == "spiNNaker" and self._mapping is None and self._sim_t > 0:
            self._mapping = self._read_mapping()
        with self._cwd():
            with contextlib.suppress(Exception):
                self.sim.end()  # sPyNNaker: also waits for its notification thread
        self._stop_routing()
        self._ended = True
        if _ACTIVE.get(self.simulator) is self:
            del _ACTIVE[self.simulator]

    def _stop_routing(self) -> None:
        if self._unroute is not None:
            self._unroute()
            self._unroute = None

    def end(self) -> None:
        """End the PyNN simulation (sPyNNaker: release the board); results stay readable."""
        self._finish()

    # ------------------------------------------------------------------ run
    def _sources_changed(self) -> bool:
        return any(
            self._times(p) != self._given.get(p.label)
            for p in self.network.populations.values()
            if p.is_source
        )

    def run(self, duration: float) -> None:
        """Advance the simulation by ``duration`` ms (a whole number of steps, > 0).

        Spike-source times changed since the previous run are passed on (sPyNNaker: the
        network is rebuilt and run again from time 0, see :data:`QUIRKS`).

        Raises
        ------
        TypeError, ValueError
            Non-numeric, non-positive or non-finite duration, or not a whole number of steps.
        """
        n_steps = _duration_steps(duration, self.dt)
        t1 = self.t + n_steps
        changed = self._sources_changed()
        rebuild = self._ended or self._dirty
        if changed and not self.quirks.sources_settable:
            rebuild = True
        if rebuild:
            if not self._ended:
                with self._cwd():
                    with contextlib.suppress(Exception):
                        self.sim.end()
                self._ended = True
            self._build()
            self._late = {}
        with self._cwd():
            for p in self.network.populations.values():
                if p.is_source and self._times(p) != self._given.get(p.label):
                    times = self._pynn_times(p, t0=self._sim_t)
                    if self.simulator != "spiNNaker":
                        from pyNN.parameters import Sequence

                        times = [Sequence(t) for t in times]
                    self.pops[p.label].set(spike_times=times)
                    self._given[p.label] = self._times(p)
            off = self.quirks.input_offset
            now = self._sim_t + off if self._sim_t > 0 else 0  # the simulator's own step
            self.sim.run((t1 + off - now) * self.dt)
        self._sim_t = t1
        self.t = t1
        self._dirty = False
        self._cache = None
        if self.simulator == "spiNNaker":
            self._mapping = self._read_mapping()
            if self.read_provenance:
                self._provenance = self._read_provenance()

    def emit_late(self, label: str, indices) -> None:
        """Emit spikes of source ``label`` at the last simulated step, after the fact.

        PyNN cannot change the past: the spikes are added to the source's times and the next
        :meth:`run` rebuilds the network and runs it again from time 0, with the result the
        Numba reference gives (see its ``emit_late``).

        Raises
        ------
        ValueError
            Nothing simulated yet, ``label`` not a spike source, or indices out of range.
        """
        pop = _population(self.network, label)
        _check_late_source(pop, label, self.t)
        idx = _late_indices(pop, label, indices)
        if len(idx) == 0:
            return
        t = self.t - 1
        _add_spike_times(pop, idx, t * self.dt)
        self._dirty = True
        if "spikes" in pop.record:
            self._late.setdefault(label, []).extend((t, int(k)) for k in idx)

    # ------------------------------------------------------------------ output
    @property
    def time(self) -> float:
        """Simulated time so far (ms)."""
        return self.t * self.dt

    def _read_spikes(self) -> dict:
        out = {}
        with self._cwd():
            for lab, pp in self.pops.items():
                if "spikes" not in self.network.populations[lab].record:
                    continue
                ts, ids = [], []
                if self._sim_t > 0:
                    seg = pp.get_data("spikes", clear=False).segments[-1]
                    for st in seg.spiketrains:
                        k = int(st.annotations.get("source_index", len(ids)))
                        t = np.asarray(st.rescale("ms").magnitude, float)
                        ts.append(np.rint(t / self.dt).astype(np.int64) - self.quirks.input_offset)
                        ids.append(np.full(len(t), k, np.int64))
                out[lab] = (
                    np.concatenate(ts) if ts else np.zeros(0, np.int64),
                    np.concatenate(ids) if ids else np.zeros(0, np.int64),
                )
        return out

    def _read_weights(self) -> dict:
        out = {}
        with self._cwd():
            for lab, pj in self.projs.items():
                try:
                    w = np.asarray(pj.get("weight", format="array"), float)
                except NotImplementedError:
                    # sPyNNaker on a virtual board: connections generated on the machine
                    # cannot be read back; NaN everywhere says "no data"
                    pr = self.network.projections[lab]
                    w = np.full((pr.pre.size, pr.post.size), np.nan)
                out[lab] = np.abs(w) * self._wscale.get(lab, 1.0)  # >= 0 (nA)
        return out

    def _read_v(self) -> dict:
        """Recorded ``v`` per population as ``(steps, size)`` (NaN where the simulator gave
        no sample), sample ``k`` at step ``k`` of the description; None when none came back
        (a virtual SpiNNaker board records nothing)."""
        out: dict = {}
        off = self.quirks.input_offset
        with self._cwd():
            for lab, pp in self.pops.items():
                pop = self.network.populations[lab]
                if "v" not in pop.record:
                    continue
                out[lab] = None
                if self._sim_t == 0:
                    continue
                seg = pp.get_data("v", clear=False).segments[-1]
                sigs = [a for a in seg.analogsignals if a.name == "v"]
                if not sigs or sigs[0].shape[0] == 0:
                    continue
                a = sigs[0]
                vals = np.asarray(a.rescale("mV").magnitude, float)
                times = np.asarray(a.times.rescale("ms").magnitude, float) / self.dt
                # one sample per step: those on the step grid (a simulator run at a finer
                # step samples between them too)
                grid = np.abs(times - np.rint(times)) < 1e-6
                vals, times = vals[grid], times[grid]
                steps = np.rint(times).astype(np.int64) - off
                cols = np.asarray(
                    a.array_annotations.get("channel_index", np.arange(vals.shape[1])), np.int64
                )
                v = np.full((self._sim_t, pop.size), np.nan)
                keep = (steps >= 0) & (steps < self._sim_t)
                v[np.ix_(steps[keep], cols)] = vals[keep]
                out[lab] = v
        return out

    def _data(self) -> tuple:
        if self._cache is None:
            self._cache = (self._read_spikes(), self._read_weights(), self._read_v())
        return self._cache

    def recorded_v(self, label: str) -> np.ndarray | None:
        """Membrane potential (mV) of ``label`` so far: ``(steps, size)``, row ``k`` the
        sample the simulator reports at step ``k`` (NaN where it gave none), or None when no
        sample came back (a virtual SpiNNaker board records nothing).

        Raises
        ------
        ValueError
            Unknown population, or its ``v`` not recorded.
        """
        pop = _population(self.network, label)
        if "v" not in pop.record:
            raise ValueError(f"label: the membrane potential of {label!r} is not recorded")
        v = self._data()[2].get(label)
        return None if v is None else v[: self.t].copy()

    def spikes(self, label: str) -> tuple[np.ndarray, np.ndarray]:
        """Spike times (ms) and neuron indices of ``label`` so far."""
        _population(self.network, label)
        spk = self._data()[0]
        if label not in spk:
            return np.zeros(0), np.zeros(0, np.int64)
        steps, i = spk[label]
        late = self._late.get(label)
        if late:
            la = np.asarray(late, np.int64)
            steps, i = np.concatenate([steps, la[:, 0]]), np.concatenate([i, la[:, 1]])
        keep = steps < self.t
        steps, i = steps[keep], i[keep]
        o = np.lexsort((i, steps))
        return steps[o] * self.dt, i[o]

    def weights(self, label: str) -> np.ndarray:
        """Current ``(n_pre, n_post)`` weight matrix of projection ``label`` (NaN: none).

        On a virtual board, sPyNNaker cannot read back connections it generates on the
        machine (large projections): the matrix is then all NaN.
        """
        if label not in self.network.projections:
            raise ValueError(f"label: unknown projection {label!r}")
        pr = self.network.projections[label]
        w = self._data()[1].get(label)
        if w is None:
            return np.full((pr.pre.size, pr.post.size), np.nan)
        return w.copy()

    def _read_mapping(self) -> dict:
        from spinn_front_end_common.data import FecDataView

        labels = set(self.network.populations)
        per_pop: dict[str, int] = {}
        chips, cores, system = set(), 0, 0
        for pl in FecDataView.iterate_placemements():
            app = getattr(pl.vertex, "app_vertex", None)
            lab = getattr(app, "label", None)
            if lab in labels:
                per_pop[lab] = per_pop.get(lab, 0) + 1
                chips.add((pl.x, pl.y))
                cores += 1
            else:
                system += 1
        machine = FecDataView.get_machine()
        return {
            "chips": len(chips),
            "cores": cores,
            "system_cores": system,
            "machine_chips": machine.n_chips,
            "cores_per_population": per_pop,
        }

    def _read_provenance(self) -> dict:
        """Summary of the provenance sPyNNaker wrote for the last run (its data database)."""
        from spinn_front_end_common.utilities.base_database import BaseDatabase
        from spinn_utilities.config_holder import get_config_bool

        from neuromem.spiking.provenance import not_available, summarise

        if get_config_bool("Machine", "virtual_board"):
            return not_available(
                "not available on a virtual board (nothing runs: sPyNNaker reads no provenance)"
            )
        with self._cwd():
            path = Path(BaseDatabase.default_database_file()).resolve()
        if not path.is_file():
            return not_available(f"sPyNNaker wrote no provenance database ({path})")
        return summarise(path)

    def provenance(self) -> dict | None:
        """sPyNNaker: the summary of its provenance for the last run (see
        :func:`neuromem.spiking.provenance.summarise`; on a virtual board ``available`` is
        False with the reason); None on other simulators, before a run, or with
        ``provenance=False``."""
        return None if self._provenance is None else dict(self._provenance)

    def mapping(self) -> dict:
        """sPyNNaker only: where the network was placed (after a run).

        Returns
        -------
        dict
            ``chips`` and ``cores`` used by the network's populations, ``system_cores``
            (sPyNNaker's own monitor cores), ``machine_chips`` and ``cores_per_population``.

        Raises
        ------
        ConfigError
            Not sPyNNaker, or nothing run yet.
        """
        if self.simulator != "spiNNaker":
            raise ConfigError(f"mapping: only pynn:spiNNaker places on cores, not {self.name}")
        if self._mapping is None:
            raise ConfigError("mapping: run the network first")
        return dict(self._mapping)

    def result(self) -> SimulationResult:
        """Spikes of every recorded population and the weights of every projection."""
        return _result(self)


def _factory(simulator: str):
    def make(network, **options):
        return PyNNSimulator(network, simulator, **options)

    make.max_row = QUIRKS[simulator].max_row  # create() slices populations beyond it
    make.__name__ = f"pynn_{simulator}"
    make.__doc__ = f"Build ``network`` with pyNN.{simulator} (see :class:`PyNNSimulator`)."
    return make


# the backend table names the PyNN backends; each has its quirks here
for _name, _info in TABLE.items():
    if _info.simulator_module == __name__:
        register_backend(_name)(_factory(_name.split(":", 1)[1]))
