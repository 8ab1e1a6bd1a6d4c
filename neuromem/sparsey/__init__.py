"""Sparsey: sparse distributed memory with single-trial learning, hierarchy and sequences.

Built from Rinkus, "Sparsey: event recognition via deep hierarchical sparse distributed codes"
(Frontiers in Computational Neuroscience, 2014) and "Superposed Episodic and Semantic Memory via
Sparse Distributed Representation" (arXiv 1710.07829). See :mod:`neuromem.sparsey.model` for the
Code Selection Algorithm and :mod:`neuromem.sparsey.readout` for classification on codes.
"""

from .model import (
    FORMAT_VERSION,
    Encoding,
    LevelConfig,
    SaturationWarning,
    Sparsey,
    SparseyConfig,
)
from .readout import ClassAssociation, ClassUnits, CodeKNN

__all__ = [
    "FORMAT_VERSION",
    "ClassAssociation",
    "ClassUnits",
    "CodeKNN",
    "Encoding",
    "LevelConfig",
    "SaturationWarning",
    "Sparsey",
    "SparseyConfig",
]
