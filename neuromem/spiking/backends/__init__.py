"""Backend registry: simulator name -> simulator class that runs a :class:`Network`.

A simulator class is built from a network (``cls(network, **options)``), keeps its state
between calls to ``run(duration)`` (like PyNN's ``sim.run``) and returns a
:class:`~neuromem.spiking.results.SimulationResult` from ``result()``. Backends register with
:func:`register_backend`. Built in: ``"numba"`` (the reference simulator), ``"brian2"``
(:mod:`~neuromem.spiking.backends.brian2_sim`) and the PyNN builder
(:mod:`~neuromem.spiking.backends.pynn_sim`) under ``"pynn:brian2"``, ``"pynn:spiNNaker"`` and
``"pynn:nest"``; each is imported when first asked for.
"""

from __future__ import annotations

from collections.abc import Callable

from neuromem.errors import BackendUnavailableError, ConfigError

__all__ = ["register_backend", "get_backend", "backend_names", "create", "run"]

_BACKENDS: dict[str, Callable] = {}
_LAZY = {
    "numba": "neuromem.spiking.backends.numba_sim",
    "brian2": "neuromem.spiking.backends.brian2_sim",
    "pynn:brian2": "neuromem.spiking.backends.pynn_sim",
    "pynn:spiNNaker": "neuromem.spiking.backends.pynn_sim",
    "pynn:nest": "neuromem.spiking.backends.pynn_sim",
}


def register_backend(name: str):
    """Class decorator registering a simulator class under ``name``."""

    def deco(cls):
        _BACKENDS[name] = cls
        return cls

    return deco


def backend_names() -> list[str]:
    """Names of the registered (or lazily importable) backends."""
    return sorted(set(_BACKENDS) | set(_LAZY))


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
    if name not in _BACKENDS and name in _LAZY:
        import importlib

        try:
            importlib.import_module(_LAZY[name])
        except ImportError as exc:  # pragma: no cover - numba is a dependency
            raise BackendUnavailableError(f"backend {name!r} cannot be imported: {exc}") from exc
    if name not in _BACKENDS:
        raise ConfigError(
            f"backend: unknown spiking backend {name!r}; known: {', '.join(backend_names())}"
        )
    return _BACKENDS[name]


def create(network, backend: str = "numba", **options):
    """Build a simulator for ``network`` on ``backend`` (state kept between runs)."""
    return get_backend(backend)(network, **options)


def run(network, duration: float, backend: str = "numba", **options):
    """Simulate ``network`` for ``duration`` ms from its initial state.

    Parameters
    ----------
    network : Network
    duration : float
        Simulated time (ms, > 0).
    backend : str
        Registered backend name.
    **options
        Backend options.

    Returns
    -------
    SimulationResult
        Spikes per population and final weights per projection.
    """
    sim = create(network, backend, **options)
    sim.run(duration)
    res = sim.result()
    if hasattr(sim, "end"):  # PyNN: end the simulation (sPyNNaker releases the board)
        sim.end()
    return res
