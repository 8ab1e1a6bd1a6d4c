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

__all__ = ["require_dir", "require_file", "default_data_dir", "find_data_dir", "find_dataset"]


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


def find_dataset(name: str, data: str | os.PathLike | None = None) -> Path:
    """The folder of data set ``name`` (``mnist``, ``kinships``, ``nations``, ``umls`` or
    ``babi``; laid out as ``neuromem data fetch`` writes it) inside the data folder that
    :func:`find_data_dir` finds for ``data``.

    Raises
    ------
    DataNotFoundError
        No data folder, or none holding ``name``: the message says where it looked and the
        command that fetches the data set. Also a ``data`` folder that does not exist.
    ConfigError
        ``name`` is not a known data set.
    """
    from .fetch import DATASETS, _check_name

    sub = DATASETS[_check_name(name)]
    base, source = find_data_dir(data)
    if base is None:
        raise DataNotFoundError(f"--data: no data folder for {name} (pass --data DIR, set "
                                f"NEUROMEM_DATA, or run `neuromem data fetch {name}`)")  # fmt: skip
    folder = base / sub
    if not folder.is_dir():
        raise DataNotFoundError(f"--data: no {sub} in {base} (from {source}); "
                                f"`neuromem data fetch {name}` fetches it")  # fmt: skip
    return folder
