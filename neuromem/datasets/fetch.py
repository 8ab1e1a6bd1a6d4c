"""Download the reference data sets into a user cache, each file checked against its SHA-256.

``neuromem data list | fetch NAME | path NAME`` on the command line. Data sets: ``mnist``
(the four IDX files), ``kinships``, ``nations``, ``umls`` (train/valid/test triples) and
``babi`` (``en-valid-10k``, the 20 tasks with the standard validation split). Sources, paths
and hashes are in ``registry.txt`` beside this module (pooch's registry format).

The cache is laid out as ``--data`` expects (``mnist/...``, ``kg/<graph>/...``,
``babi/en-valid-10k/...``), so the cache folder itself can be given as ``--data``. It is
``$NEUROMEM_CACHE`` when set, else the platform's user cache (``~/.cache/neuromem`` on
Linux). A file already in the cache with the right hash is not downloaded again; one with
another hash (a broken download) is downloaded again; a download whose hash differs from the
record is refused (``ValueError``) and removed.

``mirror``: a server whose files are laid out as the cache (``<mirror>/mnist/<file>``,
``<mirror>/kg/<graph>/<file>``, ``<mirror>/babi/en-valid-10k/<file>``); every file is fetched
from it and checked against the same hashes.

Downloads use `pooch <https://www.fatiando.org/pooch>`_.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from neuromem.errors import ConfigError

__all__ = ["DATASETS", "cache_dir", "fetch", "is_cached", "registry", "dataset_path"]

#: Data set name -> folder of the cache (as ``--data`` expects it).
DATASETS = {
    "mnist": "mnist",
    "kinships": "kg/kinships",
    "nations": "kg/nations",
    "umls": "kg/umls",
    "babi": "babi/en-valid-10k",
}
#: The official bAbI archive (no hash recorded: each extracted file is checked instead).
BABI_ARCHIVE = "http://www.thespermwhale.com/jaseweston/babi/tasks_1-20_v1-2.tar.gz"
BABI_MEMBER_DIR = "tasks_1-20_v1-2/en-valid-10k/"


@dataclass(frozen=True)
class Entry:
    """One registered file: path in the cache, ``sha256:...`` hash, source URL (or None)."""

    path: str
    hash: str
    url: str | None


def registry() -> dict[str, Entry]:
    """The registered files, by path in the cache."""
    out = {}
    text = (Path(__file__).with_name("registry.txt")).read_text(encoding="utf-8")
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split()
        out[parts[0]] = Entry(parts[0], parts[1], parts[2] if len(parts) > 2 else None)
    return out


def _check_name(name: str) -> str:
    if name not in DATASETS:
        raise ConfigError(f"NAME: unknown data set {name!r}; known: {', '.join(DATASETS)}")
    return name


def cache_dir() -> Path:
    """``$NEUROMEM_CACHE`` if set, else the user cache folder of neuromem."""
    env = os.environ.get("NEUROMEM_CACHE")
    if env:
        return Path(env).expanduser()
    import pooch

    return Path(pooch.os_cache("neuromem"))


def dataset_path(name: str, cache: str | os.PathLike | None = None) -> Path:
    """Where data set ``name`` lies (or will lie) in the cache."""
    return Path(cache or cache_dir()) / DATASETS[_check_name(name)]


def _files(name: str) -> list[Entry]:
    prefix = DATASETS[name] + "/"
    return [e for p, e in registry().items() if p.startswith(prefix)]


def is_cached(name: str, cache: str | os.PathLike | None = None) -> bool:
    """Whether every registered file of ``name`` is in the cache (sizes not re-hashed)."""
    root = Path(cache or cache_dir())
    return all((root / e.path).is_file() for e in _files(_check_name(name)))


def _check_mirror(mirror: str) -> str:
    if not isinstance(mirror, str) or not mirror.startswith(("http://", "https://", "file://")):
        raise ConfigError(f"--mirror: expected an http(s):// or file:// URL, got {mirror!r}")
    return mirror if mirror.endswith("/") else mirror + "/"


def fetch(
    name: str,
    *,
    mirror: str | None = None,
    cache: str | os.PathLike | None = None,
    progress: bool = False,
) -> Path:
    """Download data set ``name`` into the cache (if not there yet) and return its folder.

    Parameters
    ----------
    name : str
        One of :data:`DATASETS`.
    mirror : str, optional
        Base URL of a server laid out as the cache (see the module docstring).
    cache : path, optional
        Cache folder (default :func:`cache_dir`).
    progress : bool
        Show a download progress bar.

    Returns
    -------
    pathlib.Path
        The data set's folder (``cache/mnist``, ``cache/kg/umls``, ...); give ``cache`` as
        ``--data``.

    Raises
    ------
    ConfigError
        Unknown name or malformed mirror URL (before any download).
    ValueError
        A downloaded file whose SHA-256 differs from the record (it is removed).
    OSError
        The server cannot be reached.
    """
    import pooch

    _check_name(name)
    if mirror is not None:
        mirror = _check_mirror(mirror)
    # pooch reports each download on its logger; the caller (the command) reports instead
    pooch.get_logger().setLevel("WARNING")
    root = Path(cache or cache_dir())
    root.mkdir(parents=True, exist_ok=True)
    files = _files(name)
    if name == "babi" and mirror is None:
        _fetch_babi_archive(root, files, progress)
        return dataset_path(name, root)
    for e in files:
        url = mirror + e.path if mirror is not None else e.url
        if url is None:  # pragma: no cover - every non-bAbI entry has a URL
            raise ValueError(f"{e.path}: no source URL recorded")
        _retrieve(url, known_hash=e.hash, fname=Path(e.path).name,
                  path=root / Path(e.path).parent, progressbar=progress)  # fmt: skip
    return dataset_path(name, root)


def _retrieve(url, **kw):
    """``pooch.retrieve`` with a short message when the server cannot be reached."""
    import re

    import pooch
    import requests

    try:
        return pooch.retrieve(url, **kw)
    except requests.exceptions.RequestException as e:
        why = re.findall(r"\[Errno -?\d+\] [^'\"\)]+", str(e))
        raise OSError(f"cannot download {url}: {why[-1] if why else type(e).__name__}") from None


def _fetch_babi_archive(root: Path, files: list[Entry], progress: bool) -> None:
    """bAbI from the official archive: extract ``en-valid-10k`` and check each file."""
    import pooch

    dest = root / DATASETS["babi"]
    known = {Path(e.path).name: e.hash for e in files}
    if dest.is_dir() and all(
        (dest / f).is_file() and pooch.file_hash(str(dest / f)) == h.split(":", 1)[1]
        for f, h in known.items()
    ):
        return
    with tempfile.TemporaryDirectory(dir=root) as tmp:
        members = _retrieve(BABI_ARCHIVE, known_hash=None, fname="babi-tasks-v1-2.tar.gz",
                                 path=tmp, progressbar=progress,
                                 processor=pooch.Untar(extract_dir="x"))  # fmt: skip
        wanted = [Path(m) for m in members if BABI_MEMBER_DIR in Path(m).as_posix()]
        if not wanted:
            raise ValueError(f"{BABI_ARCHIVE}: the archive holds no {BABI_MEMBER_DIR} folder")
        for m in wanted:
            h = known.get(m.name)
            if h is not None and pooch.file_hash(str(m)) != h.split(":", 1)[1]:
                raise ValueError(f"{m.name}: SHA-256 differs from the record; not installed")
        dest.mkdir(parents=True, exist_ok=True)
        for m in wanted:
            shutil.move(str(m), dest / m.name)
