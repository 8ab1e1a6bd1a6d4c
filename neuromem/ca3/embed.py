"""Embedding a CA3 memory in a larger PyNN network (``pynn:*`` backends).

A PyNN backend calls an ``on_build(sim, populations)`` hook after every build of the memory's
network (``CA3Memory(..., backend="pynn:nest", on_build=wire)``), with the PyNN module and the
memory's PyNN populations by label (:data:`~neuromem.ca3.network.POPULATIONS`). In the hook
the caller makes its own populations and wires them to the memory with :func:`connect_in`
(the caller's cue or content spikes drive the memory as its input populations do) and
:func:`connect_out` (the memory's output drives the caller's cells); everything then runs in
one simulation (``mem.sim.run(ms)``). The hook runs again at a rebuild (sPyNNaker rebuilds when
input spike times change), so it must make its populations anew each time. The helpers import
nothing from PyNN themselves: they use the module handed to the hook.

A memory cut into slices (``pynn:spiNNaker`` beyond 254 neurons a population, or a
``slice_size`` option; see :mod:`neuromem.spiking.split`) hands its sliced populations to the
hook as :class:`~neuromem.spiking.split.PyNNSlices`; the helpers then connect each slice to
the matching neurons ``a`` to ``b - 1`` of the caller's population (a list connector of those
pairs: sPyNNaker 7.4.1's one-to-one connector fails on a population view) and return the list
of projections.
"""

from __future__ import annotations

import math

__all__ = ["connect_in", "connect_out", "IN_TARGETS", "OUT_SOURCES"]

#: where the caller's input lands: the populations the memory's INcue/INcont drive
IN_TARGETS = {"cue": "CA3cueCueRecall", "content": "CA3contCueRecall"}
#: where the caller's cells are driven from: the memory's output populations
OUT_SOURCES = {"cue": "OUTcue", "content": "OUTcont"}


def _check(part: str, table: dict, populations, weight, delay) -> object:
    if part not in table:
        raise ValueError(f"part must be one of {', '.join(table)}, got {part!r}")
    if not isinstance(populations, dict) or table[part] not in populations:
        raise ValueError(
            f"populations: expected the memory's PyNN populations by label (the second "
            f"argument of on_build), missing {table[part]!r}"
        )
    for name, v, low in (("weight", weight, 0.0), ("delay", delay, 0.0)):
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            raise TypeError(f"{name} must be a finite number, got {v!r}")
        if not v > low:
            raise ValueError(f"{name} must be > 0, got {v}")
    return populations[table[part]]


def _same_size(a, b, what: str) -> None:
    if a.size != b.size:
        raise ValueError(f"{what}: sizes differ ({a.size} and {b.size}); one-to-one needs equal")


def connect_in(sim, populations, source, part: str, weight: float = 6.0, delay: float = 1.0):
    """Drive the memory's ``part`` (``"cue"`` or ``"content"``) from the caller's ``source``.

    A one-to-one excitatory projection from ``source`` (``n_cues`` or ``n_content`` neurons)
    onto the population the memory's own input drives (``CA3cueCueRecall`` or
    ``CA3contCueRecall``), with the input's synapse (6 nA, 1 ms): a spike of source neuron
    ``k`` at ``t`` acts as an ``INcue``/``INcont`` spike of neuron ``k`` at ``t``. A learn
    holds cue and content 3 steps; a recall is one step (see :mod:`neuromem.ca3.memory`).

    Returns
    -------
    the PyNN ``Projection`` (a list of them, one per slice, when the memory is sliced)

    Raises
    ------
    ValueError, TypeError
        Unknown ``part``, populations that are not the memory's, a size other than the
        target's, a weight or delay that is not a positive number.
    """
    target = _check(part, IN_TARGETS, populations, weight, delay)
    return _one_to_one(sim, source, target, weight, delay, f"connect_in:{part}")


def connect_out(sim, populations, target, part: str, weight: float = 6.0, delay: float = 1.0):
    """Drive the caller's ``target`` cells from the memory's output ``part``.

    A one-to-one excitatory projection from ``OUTcue`` (``part="cue"``) or ``OUTcont``
    (``"content"``) onto ``target`` (as many neurons).

    Returns
    -------
    the PyNN ``Projection`` (a list of them, one per slice, when the memory is sliced)

    Raises
    ------
    ValueError, TypeError
        As :func:`connect_in`.
    """
    source = _check(part, OUT_SOURCES, populations, weight, delay)
    return _one_to_one(sim, source, target, weight, delay, f"connect_out:{part}")


def _one_to_one(sim, source, target, weight, delay, label: str):
    """A one-to-one excitatory static projection ``source`` -> ``target`` (same sizes); one
    per slice (a list) when either is a memory's sliced population."""
    from neuromem.spiking.split import PyNNSlices

    kind, part = label.split(":")
    _same_size(source, target, f"{kind}({part!r})")
    if isinstance(target, PyNNSlices):  # caller's neuron a + k -> neuron k of a slice
        pairs = [
            (source, pop, [(a + k, k) for k in range(b - a)], f"{label}[{a}:{b}]")
            for pop, a, b in target.slices
        ]
    elif isinstance(source, PyNNSlices):
        pairs = [
            (pop, target, [(k, a + k) for k in range(b - a)], f"{label}[{a}:{b}]")
            for pop, a, b in source.slices
        ]
    else:
        pairs = None
    projs = [
        sim.Projection(
            pre,
            post,
            sim.OneToOneConnector() if conn is None else sim.FromListConnector(conn),
            sim.StaticSynapse(weight=float(weight), delay=float(delay)),
            receptor_type="excitatory",
            label=lab,
        )
        for pre, post, conn, lab in (pairs or [(source, target, None, label)])
    ]
    return projs if pairs is not None else projs[0]
