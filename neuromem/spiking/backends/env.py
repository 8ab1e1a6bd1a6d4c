"""The simulators' environment: sPyNNaker's configuration file and Brian2's code cache.

:func:`spinnaker_config` reads what ``~/.spynnaker.cfg`` (and a ``./spynnaker.cfg`` read on top
of it) points at without importing sPyNNaker; :func:`configure_brian2` imports Brian2 with
its compiled code cached under :func:`brian2_cache_dir`; :func:`output_to` sends a
simulator's chatter (sPyNNaker's log lines and progress bars) to a file. Which backends exist
and whether they are usable is :mod:`neuromem.spiking.backends`.
"""

from __future__ import annotations

import configparser
import contextlib
import logging
import os
import sys
from collections.abc import Callable
from pathlib import Path

__all__ = [
    "spinnaker_config",
    "local_spinnaker_cfg",
    "LOCAL_CFG",
    "brian2_cache_dir",
    "configure_brian2",
    "output_to",
    "route_logs",
    "quiet_nest_warnings",
    "NEST_NOISE",
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


def _stream_handlers() -> list[logging.StreamHandler]:
    loggers = [logging.getLogger()] + [
        lg for lg in logging.Logger.manager.loggerDict.values() if isinstance(lg, logging.Logger)
    ]
    return [
        h
        for lg in loggers
        for h in lg.handlers
        if isinstance(h, logging.StreamHandler) and not isinstance(h, logging.FileHandler)
    ]


@contextlib.contextmanager
def output_to(path: str | os.PathLike | None):
    """Send everything written for the block to the file ``path`` (appended): Python's
    ``sys.stdout``/``sys.stderr`` (what a notebook shows), file descriptors 1 and 2 (a
    terminal, compiled code) and the log handlers that write to the console (sPyNNaker's
    ``logging.basicConfig`` handler, made before or inside the block). Everything is put
    back afterwards, also on an error. ``None``: leave the output alone."""
    if path is None:
        yield
        return
    out0, err0 = sys.stdout, sys.stderr
    consoles = {id(x) for x in (out0, err0, sys.__stdout__, sys.__stderr__) if x is not None}
    for stream in (out0, err0):
        with contextlib.suppress(Exception):
            stream.flush()
    saved = (os.dup(1), os.dup(2))
    try:
        with open(path, "a", buffering=1, errors="replace") as fh:
            moved = [(h, h.stream) for h in _stream_handlers() if id(h.stream) in consoles]
            for h, _ in moved:
                h.setStream(fh)
            os.dup2(fh.fileno(), 1)
            os.dup2(fh.fileno(), 2)
            sys.stdout = sys.stderr = fh
            try:
                yield
            finally:
                with contextlib.suppress(Exception):
                    fh.flush()
                sys.stdout, sys.stderr = out0, err0
                os.dup2(saved[0], 1)
                os.dup2(saved[1], 2)
                for h, stream in moved:
                    h.setStream(stream)
                for h in _stream_handlers():  # made inside the block: to the console again
                    if h.stream is fh:
                        h.setStream(err0)
    finally:
        os.close(saved[0])
        os.close(saved[1])


def route_logs(path: str | os.PathLike, names) -> Callable[[], None]:
    """Send the records of the loggers ``names`` (and their children) to the file ``path``
    (appended) and nowhere else, until the returned function is called. Unlike
    :func:`output_to`, which holds for a block, this also catches records that a library's own
    threads log between blocks (sPyNNaker announces its database from a thread pool)."""
    handler = logging.FileHandler(path, mode="a", encoding="utf-8", delay=True)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s: %(message)s"))
    saved = []
    for name in names:
        lg = logging.getLogger(name)
        saved.append((lg, lg.propagate))
        lg.addHandler(handler)
        lg.propagate = False

    def restore() -> None:
        for lg, propagate in saved:
            lg.removeHandler(handler)
            lg.propagate = propagate
        handler.close()

    return restore


#: Warnings of pyNN.nest 0.13 on NEST 3.10 that say nothing about a run: NEST's deprecation
#: notices for the calls pyNN makes (``SetStatus``, ``GetStatus``, the verbosity setter), and
#: pyNN's note that it cannot build NEST extensions (no ``nest-config``; only NESTML models
#: need it). Hidden when ``pynn:nest`` is used; every other warning is shown as before.
NEST_NOISE = (
    r"\s*SetStatus\(\) is deprecated",
    r"\s*GetStatus\(\) is deprecated",
    r"\s*Provided for backward compatibility only",
    r"Cannot find nest-config",
)


def quiet_nest_warnings() -> None:
    """Hide the warnings of :data:`NEST_NOISE` (before pyNN.nest is imported)."""
    import warnings

    for pattern in NEST_NOISE:
        warnings.filterwarnings("ignore", message=pattern, category=UserWarning)
