"""The backend table: every simulator backend's name, how to probe it, and its simulator class.

One table, :data:`TABLE`, lists the built-in backends; the command line (``neuromem info``,
``--backend``), the experiments and the tests read their names from it:

==================  ==================  ====================================================
name                probed by import    simulator
==================  ==================  ====================================================
``numba``           ``numba``           :mod:`~neuromem.spiking.backends.numba_sim` (the
                                        reference, sPyNNaker's discrete-time rules)
``brian2``          ``brian2``          :mod:`~neuromem.spiking.backends.brian2_sim`
``pynn:brian2``     ``pyNN.brian2``     :mod:`~neuromem.spiking.backends.pynn_sim`
``pynn:spiNNaker``  ``pyNN.spiNNaker``  :mod:`~neuromem.spiking.backends.pynn_sim` (needs
                                        ``~/.spynnaker.cfg``; a ``./spynnaker.cfg`` is
                                        read on top of it)
``pynn:nest``       ``pyNN.nest``       :mod:`~neuromem.spiking.backends.pynn_sim`
==================  ==================  ====================================================

:func:`probe` imports nothing until asked and never raises for a known name: it reports a
backend as usable or not, with a one-line reason. A simulator class is built from a network
(``cls(network, **options)``), keeps its state between calls to ``run(duration)`` (like
PyNN's ``sim.run``) and returns a :class:`~neuromem.spiking.results.SimulationResult` from
``result()``; :func:`get_backend` imports its module when first asked for. Further simulators
register with :func:`register_backend`.

The simulators' environment (sPyNNaker's configuration file, Brian2's code cache) is
:mod:`neuromem.spiking.backends.env`; its functions are re-exported here.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable
from dataclasses import dataclass

from neuromem.errors import BackendUnavailableError, ConfigError

from .env import brian2_cache_dir, configure_brian2, spinnaker_config

# NEST prints a banner on standard output when imported (it would corrupt `neuromem info
# --json` and every report on stdout); PYNEST_QUIET silences it, unless the user set it
os.environ.setdefault("PYNEST_QUIET", "1")

__all__ = [
    "BackendInfo",
    "TABLE",
    "BACKENDS",
    "BackendStatus",
    "names",
    "probe",
    "probe_all",
    "register_backend",
    "get_backend",
    "backend_names",
    "create",
    "run",
    "spinnaker_config",
    "brian2_cache_dir",
    "configure_brian2",
]


@dataclass(frozen=True)
class BackendInfo:
    """One row of the backend table.

    Attributes
    ----------
    name : str
        The name given to ``create``/``run``, ``--backend`` and the experiments.
    probe_module : str
        Module whose import decides whether the backend is usable here.
    simulator_module : str
        neuromem module that registers the simulator class under ``name``.
    description : str
        One line for ``neuromem info`` and the docs.
    """

    name: str
    probe_module: str
    simulator_module: str
    description: str


_SIMS = "neuromem.spiking.backends."

#: The built-in backends, by name, in the order they are reported.
TABLE: dict[str, BackendInfo] = {
    b.name: b
    for b in (
        BackendInfo(
            "numba", "numba", _SIMS + "numba_sim", "reference simulator (sPyNNaker's rules)"
        ),
        BackendInfo("brian2", "brian2", _SIMS + "brian2_sim", "Brian2 (runtime or C++ standalone)"),
        BackendInfo("pynn:brian2", "pyNN.brian2", _SIMS + "pynn_sim", "PyNN with pyNN.brian2"),
        BackendInfo(
            "pynn:spiNNaker",
            "pyNN.spiNNaker",
            _SIMS + "pynn_sim",
            "PyNN with sPyNNaker 7 (a SpiNNaker board or a virtual board)",
        ),
        BackendInfo("pynn:nest", "pyNN.nest", _SIMS + "pynn_sim", "PyNN with pyNN.nest"),
    )
}

#: The built-in backend names (the keys of :data:`TABLE`).
BACKENDS: tuple[str, ...] = tuple(TABLE)


@dataclass(frozen=True)
class BackendStatus:
    """Whether a backend is usable, with the reason when it is not."""

    name: str
    available: bool
    reason: str
    version: str | None = None


_BACKENDS: dict[str, Callable] = {}


def names() -> tuple[str, ...]:
    """Every backend name: the table's, then those registered at run time."""
    return BACKENDS + tuple(sorted(set(_BACKENDS) - set(TABLE)))


def backend_names() -> list[str]:
    """Sorted names of every backend (the table's and those registered at run time)."""
    return sorted(names())


def _first_line(exc: BaseException) -> str:
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


def probe(name: str) -> BackendStatus:
    """Try to import the module behind backend ``name``.

    Never raises for a known name; a backend registered at run time is usable.

    Raises
    ------
    ValueError
        Unknown name.
    """
    if name not in TABLE:
        if isinstance(name, str) and name in _BACKENDS:
            return BackendStatus(name, True, "ok (registered at run time)")
        raise ValueError(f"unknown backend {name!r}; known: {', '.join(names())}")
    info = TABLE[name]
    if name == "pynn:spiNNaker" and spinnaker_config()["path"] is None:
        # sPyNNaker writes a template and raises on import when no cfg exists: check first
        try:
            importlib.import_module("spynnaker")
        except Exception as e:  # noqa: BLE001 - any import failure is a reason
            return BackendStatus(name, False, f"spynnaker not importable: {_first_line(e)}")
        return BackendStatus(
            name,
            False,
            "no ~/.spynnaker.cfg found (`neuromem hardware template NAME --out` writes one)",
        )
    if name == "pynn:nest":
        from .env import quiet_nest_warnings

        quiet_nest_warnings()
    try:
        mod = importlib.import_module(info.probe_module)
    except Exception as e:  # noqa: BLE001 - any import failure is a reason
        return BackendStatus(name, False, f"cannot import {info.probe_module}: {_first_line(e)}")
    version = getattr(mod, "__version__", None)
    if version is None and name.startswith("pynn:"):
        import pyNN

        version = pyNN.__version__
    return BackendStatus(name, True, "ok", str(version) if version else None)


def probe_all() -> list[BackendStatus]:
    """Status of every backend of :func:`names` (the table's first)."""
    return [probe(n) for n in names()]


def register_backend(name: str):
    """Class decorator registering a simulator class under ``name``."""
    if not isinstance(name, str) or not name:
        raise TypeError(f"name must be a non-empty string, got {name!r}")

    def deco(cls):
        _BACKENDS[name] = cls
        return cls

    return deco


def get_backend(name: str):
    """The simulator class registered as ``name``.

    Raises
    ------
    ConfigError
        Unknown backend name.
    BackendUnavailableError
        Known but cannot be imported here.
    """
    if not isinstance(name, str):
        raise ConfigError(f"backend must be a string, got {name!r}")
    if name not in _BACKENDS and name in TABLE:
        try:
            importlib.import_module(TABLE[name].simulator_module)
        except ImportError as exc:  # pragma: no cover - numba is a dependency
            raise BackendUnavailableError(f"backend {name!r} cannot be imported: {exc}") from exc
    if name not in _BACKENDS:
        raise ConfigError(f"backend: unknown spiking backend {name!r}; known: {', '.join(names())}")
    return _BACKENDS[name]


def create(network, backend: str = "numba", slice_size: int | None = None, **options):
    """Build a simulator for ``network`` on ``backend`` (state kept between runs).

    Parameters
    ----------
    network : Network
    backend : str
        Backend name (see :data:`TABLE`).
    slice_size : int, optional
        Cut every population of more than ``slice_size`` neurons into slices and run the
        split network, read back under the original labels and indices (see
        :mod:`neuromem.spiking.split`). Default: the backend's row limit (``max_row``:
        ``pynn:spiNNaker`` 254, the longest plastic row sPyNNaker maps), none for the others.
    **options
        Backend options.

    Raises
    ------
    TypeError, ValueError
        ``slice_size`` not an int >= 1, or above the backend's row limit.
    """
    cls = get_backend(backend)
    limit = getattr(cls, "max_row", None)
    if slice_size is None:
        slice_size = limit
    if slice_size is not None:
        from ..split import SlicedSimulator, check_slice_size

        slice_size = check_slice_size(slice_size)
        if limit is not None and slice_size > limit:
            raise ValueError(
                f"slice_size: {backend} maps rows of at most {limit} synapses, got {slice_size}"
            )
        if any(p.size > slice_size for p in getattr(network, "populations", {}).values()):
            return SlicedSimulator(network, cls, slice_size, **options)
    return cls(network, **options)


def run(network, duration: float, backend: str = "numba", **options):
    """Simulate ``network`` for ``duration`` ms from its initial state.

    Parameters
    ----------
    network : Network
    duration : float
        Simulated time (ms, > 0).
    backend : str
        Backend name (see :data:`TABLE`).
    **options
        Backend options (and ``slice_size``, see :func:`create`).

    Returns
    -------
    SimulationResult
        Spikes per population and final weights per projection.
    """
    sim = create(network, backend, **options)
    try:
        sim.run(duration)
        res = sim.result()
    finally:
        if hasattr(sim, "end"):  # PyNN: end the simulation (sPyNNaker releases the board)
            sim.end()
    return res
