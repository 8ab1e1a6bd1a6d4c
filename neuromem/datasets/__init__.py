"""Loaders for standard data formats, read from a path the user gives.

No data ships with neuromem: loaders take a folder (``--data DIR`` on the command line,
``$NEUROMEM_DATA``, or the cache that ``neuromem data fetch NAME`` fills, see
:mod:`neuromem.datasets.fetch`) and raise :class:`~neuromem.errors.DataNotFoundError` naming
what is missing.
"""

from __future__ import annotations

import os
from pathlib import Path

from neuromem.errors import DataNotFoundError

__all__ = ["require_dir", "require_file", "default_data_dir", "find_data_dir"]


def require_dir(path: str | os.PathLike, what: str = "data folder") -> Path:
    """Return ``path`` as a :class:`~pathlib.Path` if it is an existing folder, else raise."""
    p = Path(path)
    if not p.is_dir():
        raise DataNotFoundError(f"{what}: not found or not a folder: {p}")
    return p


def require_file(path: str | os.PathLike, what: str = "data file") -> Path:
    """Return ``path`` as a :class:`~pathlib.Path` if it is an existing file, else raise."""
    p = Path(path)
    if not p.is_file():
        raise DataNotFoundError(f"{what}: file not found: {p}")
    return p


def find_data_dir(
    data: str | os.PathLike | None = None, beside_clone: bool = True
) -> tuple[Path | None, str | None]:
    """The data folder and where it came from, in this order: ``data`` (``--data``),
    ``$NEUROMEM_DATA``, the download cache of ``neuromem data fetch`` (when it holds a data
    set), and with ``beside_clone`` ``../shared/data`` beside a clone of the repository (the
    developers' reference copy, used by ``neuromem demo`` and the benchmarks).
    ``(None, None)`` when none.

    Raises
    ------
    DataNotFoundError
        ``data`` or ``$NEUROMEM_DATA`` names a folder that does not exist.
    """
    if data is not None:
        return require_dir(Path(data), what="--data folder"), "--data"
    env = os.environ.get("NEUROMEM_DATA")
    if env:
        return require_dir(Path(env), what="NEUROMEM_DATA folder"), "NEUROMEM_DATA"
    from .fetch import DATASETS, cache_dir

    cache = cache_dir()
    if any((cache / sub).is_dir() for sub in DATASETS.values()):
        return cache, "cache (neuromem data fetch)"
    if not beside_clone:
        return None, None
    here = Path(__file__).resolve().parents[2]
    for cand in (here.parent / "shared" / "data", here / "shared" / "data"):
        if cand.is_dir():
            return cand, "../shared/data beside the clone"
    return None, None


def default_data_dir() -> Path | None:
    """The folder :func:`find_data_dir` finds without ``--data`` (None when there is none)."""
    env = os.environ.get("NEUROMEM_DATA")
    if env:
        return Path(env)
    return find_data_dir()[0]
