"""Backend-neutral spiking networks and the Numba reference simulator.

Describe a network with PyNN's names and units (ms, mV, nA, nF) -- :class:`Network`,
:class:`Population`, :class:`Projection`, the cell :class:`IF_curr_exp`, the source
:class:`SpikeSourceArray`, connectors and synapse types -- then simulate it with
:func:`run` (``backend="numba"``, the reference that follows sPyNNaker's discrete-time rules).
The description imports no simulator, so other backends (Brian2, PyNN) can build it too.
"""

from .backends import backend_names, create, get_backend, register_backend, run
from .network import (
    RECEPTORS,
    AdditiveWeightDependence,
    AllToAllConnector,
    FromListConnector,
    IF_curr_exp,
    Network,
    OneToOneConnector,
    Population,
    Projection,
    SpikePairRule,
    SpikeSourceArray,
    StaticSynapse,
    STDPMechanism,
)
from .results import SimulationResult

__all__ = [
    "RECEPTORS",
    "AdditiveWeightDependence",
    "AllToAllConnector",
    "FromListConnector",
    "IF_curr_exp",
    "Network",
    "OneToOneConnector",
    "Population",
    "Projection",
    "SpikePairRule",
    "SpikeSourceArray",
    "StaticSynapse",
    "STDPMechanism",
    "SimulationResult",
    "backend_names",
    "create",
    "get_backend",
    "register_backend",
    "run",
]
