"""CA3 spiking content-addressable memory (Casanueva-Morato et al.).

:class:`CA3Memory` learns cue/pattern associations and recalls them by cue or by a content
fragment on the spiking network of :func:`build_network`, simulated by a
:mod:`neuromem.spiking` backend; :mod:`neuromem.ca3.schedule` runs whole schedules of
operations in one simulation; :mod:`neuromem.ca3.embed` wires the memory into a larger PyNN
network; :mod:`neuromem.ca3.trace` reads, replays and compares hardware recordings.
"""

from .embed import connect_in, connect_out
from .memory import LEARN_SPACING, RECALL_SPACING, CA3Memory, Operation, plot_raster
from .network import POPULATIONS, CA3Params, build_network
from .schedule import ScheduledOp, read_schedule, schedule_from_trace, write_schedule
from .trace import Comparison, Trace, compare, read_trace, replay, write_trace

__all__ = [
    "CA3Memory",
    "CA3Params",
    "Comparison",
    "LEARN_SPACING",
    "Operation",
    "POPULATIONS",
    "RECALL_SPACING",
    "ScheduledOp",
    "Trace",
    "build_network",
    "compare",
    "connect_in",
    "connect_out",
    "plot_raster",
    "read_schedule",
    "read_trace",
    "replay",
    "schedule_from_trace",
    "write_schedule",
    "write_trace",
]
