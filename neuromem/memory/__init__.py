"""One memory interface over the four models and two textbook references.

Every memory stores binary items and recalls them by key or by content (see
:mod:`neuromem.memory.base`): ``store(items, keys=None) -> keys``, ``recall(cue, by=...) ->
Recall``, ``forget(keys)``, ``save(path)`` / ``load(path)``.

Adapters (imported when first used, so that torch or a simulator is only needed by the memory
that needs it):

=============================  ===================================================================
``SparseyMemory``              :mod:`neuromem.memory.sparsey`
``CA3ContentMemory``           :mod:`neuromem.memory.ca3`
``TensorBrainEpisodicMemory``  :mod:`neuromem.memory.tensorbrain`
``PMIMemoryAdapter``           :mod:`neuromem.memory.pmi`
``WillshawMemory``             :mod:`neuromem.memory.willshaw` (clipped Hebbian, Willshaw 1969)
``SparseDistributedMemory``    :mod:`neuromem.memory.sdm` (Kanerva 1988)
=============================  ===================================================================

:func:`create` builds any of them by its short name (``sparsey``, ``ca3``, ``tensorbrain``,
``pmi``, ``willshaw``, ``sdm``).
"""

from __future__ import annotations

import importlib

from .base import FORMAT_VERSION, Memory, Recall, check_items, check_keys

__all__ = [
    "FORMAT_VERSION",
    "Memory",
    "Recall",
    "check_items",
    "check_keys",
    "MEMORIES",
    "create",
    "load",
]

#: short name -> (module, class name)
MEMORIES: dict[str, tuple[str, str]] = {
    "sparsey": ("neuromem.memory.sparsey", "SparseyMemory"),
    "ca3": ("neuromem.memory.ca3", "CA3ContentMemory"),
    "tensorbrain": ("neuromem.memory.tensorbrain", "TensorBrainEpisodicMemory"),
    "pmi": ("neuromem.memory.pmi", "PMIMemoryAdapter"),
    "willshaw": ("neuromem.memory.willshaw", "WillshawMemory"),
    "sdm": ("neuromem.memory.sdm", "SparseDistributedMemory"),
}
_LAZY = {cls: mod for mod, cls in MEMORIES.values()}


def memory_class(name: str) -> type[Memory]:
    """The class registered under short ``name`` (see :data:`MEMORIES`)."""
    if name not in MEMORIES:
        raise ValueError(f"name: unknown memory {name!r}; known: {', '.join(MEMORIES)}")
    mod, cls = MEMORIES[name]
    return getattr(importlib.import_module(mod), cls)


def create(name: str, **kwargs) -> Memory:
    """Build the memory registered under short ``name`` with its keyword arguments."""
    return memory_class(name)(**kwargs)


def load(path) -> Memory:
    """Load any memory file written by ``Memory.save`` (its kind picks the class)."""
    from neuromem import npzfile

    kind = npzfile.read_kind(path, "a neuromem memory file")
    for name in MEMORIES:
        cls = memory_class(name)
        if cls.kind == kind:
            return cls.load(path)
    raise ValueError(f"path: {path} holds an unknown memory kind {kind!r}")


def __getattr__(name):
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'neuromem.memory' has no attribute {name!r}")
