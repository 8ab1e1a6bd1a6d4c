"""The simulators' environment: sPyNNaker's configuration file and Brian2's code cache.

:func:`spinnaker_config` reads what ``~/.spynnaker.cfg`` points at without importing
sPyNNaker; :func:`configure_brian2` imports Brian2 with its compiled code cached under
:func:`brian2_cache_dir`. Which backends exist and whether they are usable is
:mod:`neuromem.spiking.backends`.
"""

from __future__ import annotations

import configparser
import os
from pathlib import Path

__all__ = ["spinnaker_config", "brian2_cache_dir", "configure_brian2"]


def spinnaker_config() -> dict:
    """Locate the sPyNNaker configuration file and read what it points at.

    sPyNNaker 7 reads ``~/.spynnaker.cfg`` or ``~/.config/.spynnaker.cfg`` (not a file in the
    working folder); the first found is reported.

    Returns
    -------
    dict
        ``path`` (str or None), ``target`` (a one-line description: virtual board, board IP
        address, spalloc server, or unknown) and ``version`` (board version, if given).
    """
    candidates = [Path.home() / ".spynnaker.cfg", Path.home() / ".config" / ".spynnaker.cfg"]
    for p in candidates:
        if p.is_file():
            parser = configparser.ConfigParser(inline_comment_prefixes=("#", ";"))
            try:
                parser.read(p)
            except configparser.Error as e:
                return {"path": str(p), "target": f"unreadable: {e}", "version": None}
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
            return {"path": str(p), "target": target, "version": version}
    return {"path": None, "target": None, "version": None}


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
