"""Named, registered experiments: the same code runs from the CLI, scripts and notebooks.

>>> from neuromem import experiments
>>> "sdr-overlap" in experiments.names()
True
>>> result = experiments.run("sdr-overlap", n_pairs=2000, seed=1)
>>> sorted(result)[:3]
['artifacts', 'backend', 'config']

Each experiment lives in a module of this package and registers itself with
:func:`register`; the modules are imported on first use of the registry.
"""

from neuromem.config import coerce_value, load_preset, resolve_config

from ._registry import (
    Experiment,
    RunContext,
    RunResult,
    check_out,
    experiments,
    get,
    names,
    register,
    run,
    versions,
)
from .sweep import sweep

__all__ = [
    "Experiment",
    "RunContext",
    "RunResult",
    "check_out",
    "coerce_value",
    "experiments",
    "get",
    "load_preset",
    "names",
    "register",
    "resolve_config",
    "run",
    "sweep",
    "versions",
]
