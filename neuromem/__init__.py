"""neuromem: bio-inspired memory models with Numba cores.

Subpackages
-----------
sdr
    Sparse distributed representations and their similarity maths.
experiments
    Registered experiments, run the same way from the CLI, Python and notebooks.
backends
    Which simulator backends are usable here.
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
