"""The simulators' environment: sPyNNaker's configuration file and Brian2's code cache.

:func:`spinnaker_config` reads what ``~/.spynnaker.cfg`` (and a ``./spynnaker.cfg`` read on top
of it) points at without importing sPyNNaker; :func:`configure_brian2` imports Brian2 with
its compiled code cached under :func:`brian2_cache_dir`. Which backends exist and whether
they are usable is :mod:`neuromem.spiking.backends`.
"""

from __future__ import annotations

import configparser
import os
from pathlib import Path

__all__ = [
    "spinnaker_config",
    "local_spinnaker_cfg",
    "LOCAL_CFG",
    "brian2_cache_dir",
    "configure_brian2",
]


def _user_cfg_candidates() -> list[Path]:
    return [Path.home() / ".spynnaker.cfg", Path.home() / ".config" / ".spynnaker.cfg"]


#: The file of the working folder that sPyNNaker reads on top of the user configuration.
LOCAL_CFG = "spynnaker.cfg"


def local_spinnaker_cfg(folder: str | os.PathLike | None = None) -> Path | None:
    """``FOLDER/spynnaker.cfg`` (default: the current folder) when it is a file, else None."""
    p = Path(folder or os.getcwd()) / LOCAL_CFG
    return p.resolve() if p.is_file() else None


def spinnaker_config() -> dict:
    """Locate the sPyNNaker configuration and read what it points at.

    sPyNNaker 7 reads one user configuration, ``~/.spynnaker.cfg`` or
    ``~/.config/.spynnaker.cfg`` (both at once is its error; without one it writes a template
    into the home folder and stops), and then ``./spynnaker.cfg`` of the folder it runs in,
    whose values override the user file's. neuromem runs sPyNNaker in a work folder of its
    own and copies the caller's ``./spynnaker.cfg`` there, so that both are read as
    sPyNNaker reads them (:class:`~neuromem.spiking.backends.pynn_sim.PyNNSimulator`).
    Nothing is imported.

    Returns
    -------
    dict
        ``path`` (the user file, or None), ``local`` (``./spynnaker.cfg`` when present, else
        None), ``target`` (one line: virtual board, board IP address, spalloc server, or
        unknown, from both files read in that order) and ``version`` (board version, if
        given).
    """
    user = next((p for p in _user_cfg_candidates() if p.is_file()), None)
    local = local_spinnaker_cfg()
    if local is not None and user is not None and local == user.resolve():
        local = None
    if user is None:
        target = None
        if local is not None:
            target = (
                "only ./spynnaker.cfg: sPyNNaker also needs ~/.spynnaker.cfg (the local "
                "file is read on top of it)"
            )
        return {"path": None, "local": str(local) if local else None, "target": target,
                "version": None}  # fmt: skip
    parser = configparser.ConfigParser(inline_comment_prefixes=("#", ";"))
    try:
        parser.read([user] + ([local] if local else []))
    except configparser.Error as e:
        return {"path": str(user), "local": str(local) if local else None,
                "target": f"unreadable: {e}", "version": None}  # fmt: skip
    m = parser["Machine"] if parser.has_section("Machine") else {}
    version = m.get("version") or None
    if str(m.get("virtual_board", "False")).strip().lower() == "true":
        target = "virtual board"
    elif m.get("machine_name") and m.get("machine_name") != "None":
        target = f"board at {m.get('machine_name')}"
    elif m.get("spalloc_server") and m.get("spalloc_server") != "None":
        target = f"spalloc server {m.get('spalloc_server')}"
    else:
        target = "no machine named (set machine_name, spalloc_server or virtual_board)"
    if local is not None:
        target += " (with ./spynnaker.cfg read on top)"
    return {"path": str(user), "local": str(local) if local else None, "target": target,
            "version": version}  # fmt: skip


def brian2_cache_dir() -> Path:
    """Folder where Brian2's compiled code is cached: ``$NEUROMEM_CACHE/brian2``.

    ``$NEUROMEM_CACHE`` defaults to ``~/.cache/neuromem``.
    """
    root = os.environ.get("NEUROMEM_CACHE") or Path.home() / ".cache" / "neuromem"
    return Path(root) / "brian2"


def configure_brian2(target: str = "cython"):
    """Import Brian2 with its code cache in :func:`brian2_cache_dir` and the given target.

    Parameters
    ----------
    target : {"cython", "numpy"}
        Runtime code-generation target. Cython compiles once (30-50 s) and is then cached;
        numpy needs no compiler.

    Returns
    -------
    module
        The ``brian2`` module.
    """
    if target not in ("cython", "numpy"):
        raise ValueError(f"target must be 'cython' or 'numpy', got {target!r}")
    import brian2

    cache = brian2_cache_dir()
    cache.mkdir(parents=True, exist_ok=True)
    brian2.prefs.codegen.runtime.cython.cache_dir = str(cache / "cython")
    brian2.prefs.codegen.target = target
    return brian2
