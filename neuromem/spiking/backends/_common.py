"""Helpers shared by the simulators of :mod:`neuromem.spiking.backends`.

Argument checks (durations, delays, labels, late spike indices) and the result assembly that
every simulator class uses, so that one simulator never imports another's private helpers.
"""

from __future__ import annotations

import math

import numpy as np

from neuromem.errors import ConfigError

from ..network import Network, Population
from ..results import SimulationResult

#: sPyNNaker's post-synaptic history length per neuron (entry 0 a placeholder: 15 spikes kept).
MAX_POST_EVENTS = 16


def _steps(value: float, dt: float, what: str) -> int:
    k = value / dt
    r = int(round(k))
    if abs(k - r) > 1e-6:
        raise ConfigError(f"{what} = {value} ms is not a whole number of {dt} ms steps")
    return r


def _population(network: Network, label: str) -> Population:
    """The population ``label`` of ``network`` (ValueError when unknown)."""
    if label not in network.populations:
        raise ValueError(f"label: unknown population {label!r}")
    return network.populations[label]


def _result(sim) -> SimulationResult:
    """Spikes (and ``v``) of every recorded population, the weights of every projection and
    the provenance (where the simulator reports one) of ``sim``."""
    net = sim.network
    spikes = {lab: sim.spikes(lab) for lab, p in net.populations.items() if "spikes" in p.record}
    sizes = {lab: p.size for lab, p in net.populations.items()}
    weights = {lab: sim.weights(lab) for lab in net.projections}
    signals = {}
    for lab, p in net.populations.items():
        if "v" in p.record:
            v = sim.recorded_v(lab)
            if v is not None and len(v):  # none came back (a virtual board): absent
                signals[lab] = v
    prov = sim.provenance() if callable(getattr(sim, "provenance", None)) else None
    return SimulationResult(
        spikes, sizes, weights, sim.time, sim.name, dt=sim.dt, signals=signals, provenance=prov
    )


def _duration_steps(duration, dt: float) -> int:
    """Steps of a ``run(duration)`` (ms); TypeError, ValueError or ConfigError when invalid."""
    if isinstance(duration, bool) or not isinstance(
        duration, (int, float, np.integer, np.floating)
    ):
        raise TypeError(f"duration must be a number (ms), got {type(duration).__name__}")
    if not math.isfinite(duration) or duration <= 0:
        raise ValueError(f"duration must be a positive number of ms, got {duration!r}")
    return _steps(float(duration), dt, "duration")


def _check_late_source(pop: Population, label: str, t: int) -> None:
    """``emit_late`` needs a spike source and a simulated step (ValueError otherwise)."""
    if not pop.is_source:
        raise ValueError(f"label: {label!r} is not a spike source")
    if t == 0:
        raise ValueError("emit_late: nothing has been simulated yet")


def _late_indices(pop: Population, label: str, indices) -> np.ndarray:
    """Sorted unique neuron indices for ``emit_late`` (ValueError when out of range)."""
    idx = np.unique(np.asarray(indices, dtype=np.int64).ravel())
    if len(idx) and (idx.min() < 0 or idx.max() >= pop.size):
        raise ValueError(f"indices out of range for {label!r} of size {pop.size}")
    return idx


def _add_spike_times(pop: Population, idx: np.ndarray, time: float) -> None:
    """Add a spike at ``time`` (ms) to the sources ``idx`` of ``pop``, keeping times sorted."""
    for k in idx:
        pop.celltype.spike_times[k] = np.sort(np.append(pop.celltype.spike_times[k], time))
