"""Which simulator backends are usable here, and why not when they are not.

Backend names used across neuromem:

``numba``
    The embedded reference simulators (always available).
``brian2``
    Brian2 itself (runtime or C++ standalone devices).
``pynn:brian2``, ``pynn:spiNNaker``, ``pynn:nest``
    A PyNN simulator module chosen by name.

:func:`probe` imports nothing until asked and never raises: it reports each backend as usable
or not with a one-line reason.
"""

from __future__ import annotations

import configparser
import importlib
import os
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "BACKENDS",
    "BackendStatus",
    "probe",
    "probe_all",
    "spinnaker_config",
    "brian2_cache_dir",
    "configure_brian2",
]

BACKENDS = ("numba", "brian2", "pynn:brian2", "pynn:spiNNaker", "pynn:nest")

_MODULES = {
    "numba": "numba",
    "brian2": "brian2",
    "pynn:brian2": "pyNN.brian2",
    "pynn:spiNNaker": "pyNN.spiNNaker",
    "pynn:nest": "pyNN.nest",
}


@dataclass(frozen=True)
class BackendStatus:
    """Whether a backend is usable, with the reason when it is not."""

    name: str
    available: bool
    reason: str
    version: str | None = None


def probe(name: str) -> BackendStatus:
    """Try to import the modules behind backend ``name``; never raises for a known name."""
    if name not in _MODULES:
        raise ValueError(f"unknown backend {name!r}; known: {', '.join(BACKENDS)}")
    if name == "pynn:spiNNaker":
        cfg = spinnaker_config()
        if cfg["path"] is None:
            # sPyNNaker writes a template and raises on import when no cfg exists: check first
            try:
                importlib.import_module("spynnaker")
            except Exception as e:  # noqa: BLE001 - any import failure is a reason
                return BackendStatus(name, False, f"spynnaker not importable: {e}")
            return BackendStatus(
                name,
                False,
                "no ~/.spynnaker.cfg found (see hardware/ for templates)",
            )
    try:
        mod = importlib.import_module(_MODULES[name])
    except Exception as e:  # noqa: BLE001 - any import failure is a reason
        msg = str(e).splitlines()[0] if str(e) else type(e).__name__
        return BackendStatus(name, False, f"cannot import {_MODULES[name]}: {msg}")
    version = getattr(mod, "__version__", None)
    if version is None and name.startswith("pynn:"):
        import pyNN

        version = pyNN.__version__
    return BackendStatus(name, True, "ok", str(version) if version else None)


def probe_all() -> list[BackendStatus]:
    """Status of every backend in :data:`BACKENDS`."""
    return [probe(n) for n in BACKENDS]


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
