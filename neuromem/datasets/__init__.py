"""Loaders for standard data formats, read from a path the user gives.

No data ships with neuromem: loaders take a folder (``--data DIR`` on the command line, or
``$NEUROMEM_DATA``) and raise :class:`~neuromem.errors.DataNotFoundError` naming what is
missing.
"""

from __future__ import annotations

import os
from pathlib import Path

from neuromem.errors import DataNotFoundError

__all__ = ["require_dir", "require_file", "default_data_dir"]


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


def default_data_dir() -> Path | None:
    """``$NEUROMEM_DATA`` if set, else ``../shared/data`` beside the repository, if present."""
    env = os.environ.get("NEUROMEM_DATA")
    if env:
        return Path(env)
    here = Path(__file__).resolve().parents[2]
    for cand in (here.parent / "shared" / "data", here / "shared" / "data"):
        if cand.is_dir():
            return cand
    return None
