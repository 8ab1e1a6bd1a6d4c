"""One seed convention for every model: an int or a :class:`numpy.random.Generator`.

Every constructor and function of neuromem that draws random numbers takes ``seed`` and passes it
through :func:`as_generator`. An int (>= 0) seeds a fresh generator (same int, same draws); a
Generator is used as it is (the caller owns its stream, so drawing advances it). Models whose
kernels need an integer seed take one from :func:`as_seed_int`.
"""

from __future__ import annotations

import numpy as np

__all__ = ["as_generator", "as_seed_int", "check_seed"]


def check_seed(seed, name: str = "seed"):
    """Return ``seed`` unchanged when it is an int >= 0 or a Generator; raise otherwise.

    Raises
    ------
    TypeError
        Not an int (bools refused) nor a :class:`numpy.random.Generator`.
    ValueError
        A negative int.
    """
    if isinstance(seed, np.random.Generator):
        return seed
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise TypeError(
            f"{name} must be an int >= 0 or a numpy.random.Generator, got {type(seed).__name__}"
        )
    if seed < 0:
        raise ValueError(f"{name} must be >= 0, got {seed}")
    return int(seed)


def as_generator(seed, name: str = "seed") -> np.random.Generator:
    """A Generator from ``seed`` (an int >= 0 seeds a new one; a Generator is returned as is)."""
    seed = check_seed(seed, name)
    if isinstance(seed, np.random.Generator):
        return seed
    return np.random.default_rng(seed)


def as_seed_int(seed, name: str = "seed") -> int:
    """An int seed from ``seed``: the int itself, or one draw (< 2**31) from a Generator."""
    seed = check_seed(seed, name)
    if isinstance(seed, np.random.Generator):
        return int(seed.integers(2**31))
    return seed
