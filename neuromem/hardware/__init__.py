"""SpiNNaker deployment helpers: what the configuration points at, board check, CA3 mapping.

sPyNNaker reads ``~/.spynnaker.cfg`` and a ``./spynnaker.cfg`` on top of it; templates ship in
the package
(:func:`neuromem.presets.spinnaker_template`; ``neuromem hardware template NAME``).
:func:`describe_config` says what a configuration file
points at, :func:`ping_board` asks a board by IP address for its SC&MP version (SCP on UDP
port 17893) and raises :class:`BoardUnreachableError` within ``timeout`` seconds when it does
not answer, :func:`map_ca3` builds the CA3 memory with ``pyNN.spiNNaker`` and reports the
chips and cores it uses (on a virtual board: mapping only, no spikes).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from pathlib import Path

from neuromem.errors import DataNotFoundError

__all__ = [
    "BoardUnreachableError",
    "SCP_PORT",
    "describe_config",
    "ping_board",
    "check_configured_board",
    "using_cfg",
    "map_ca3",
    "ca3_counts",
]

from neuromem.spiking.board import (  # noqa: E402 - re-exported: the board check
    SCP_PORT,
    BoardUnreachableError,
    check_configured_board,
    describe_config,
    ping_board,
)


@contextlib.contextmanager
def using_cfg(cfg: str | os.PathLike | None, workdir: str | os.PathLike | None = None):
    """Run a block where sPyNNaker reads ``cfg``, in a working folder of its own.

    sPyNNaker 7 reads exactly one user configuration, ``~/.spynnaker.cfg`` (a second one, e.g.
    in ``~/.config``, is an error), and then ``./spynnaker.cfg`` of the folder it runs in on
    top of it. With ``cfg`` given, HOME points at a temporary folder holding a copy of it as
    ``.spynnaker.cfg`` for the block, and only that file is read. Without it, the caller's
    ``./spynnaker.cfg`` (if any) is copied into the working folder, where sPyNNaker reads it
    as it would have in the caller's folder. sPyNNaker writes its report folders into the
    working directory: the block runs in ``workdir`` (default: a new temporary folder). HOME
    and the directory are restored.

    Yields
    ------
    pathlib.Path
        The working folder.

    Raises
    ------
    DataNotFoundError
        ``cfg`` given but absent.
    """
    src = None
    if cfg is not None:
        src = Path(cfg).resolve()
        if not src.is_file():
            raise DataNotFoundError(f"--cfg: file not found: {src}")
    wd = Path(workdir or tempfile.mkdtemp(prefix="neuromem_spinnaker_")).resolve()
    wd.mkdir(parents=True, exist_ok=True)
    if src is None:
        from neuromem.spiking.backends.env import local_spinnaker_cfg

        local = local_spinnaker_cfg()
        if local is not None and local != (wd / "spynnaker.cfg").resolve():
            shutil.copyfile(local, wd / "spynnaker.cfg")
    old_home = os.environ.get("HOME")
    if src is not None:
        home = wd / "home"
        home.mkdir(exist_ok=True)
        shutil.copy(src, home / ".spynnaker.cfg")
        os.environ["HOME"] = str(home)
    old = os.getcwd()
    os.chdir(wd)
    try:
        yield wd
    finally:
        os.chdir(old)
        if src is not None:
            if old_home is None:
                os.environ.pop("HOME", None)
            else:
                os.environ["HOME"] = old_home


def ca3_counts(n_cues: int, n_content: int) -> dict:
    """Neurons and synapses of the CA3 memory of ``c`` cues and ``n`` bits.

    Returns
    -------
    dict
        ``neurons`` (LIF cells), ``sources`` (spike sources), ``synapses`` (all),
        ``plastic_synapses``.
    """
    from neuromem.ca3.network import build_network

    net = build_network(n_cues, n_content)
    cells = sum(p.size for p in net.populations.values() if not p.is_source)
    srcs = sum(p.size for p in net.populations.values() if p.is_source)
    syn = sum(len(p) for p in net.projections.values())
    plastic = sum(len(p) for p in net.projections.values() if p.plastic)
    return {"neurons": cells, "sources": srcs, "synapses": syn, "plastic_synapses": plastic}


def map_ca3(
    n_cues: int = 5,
    n_content: int = 10,
    run_ms: float = 10.0,
    workdir=None,
    board_timeout: float = 5.0,
    slice_size: int | None = None,
    quiet: bool = True,
) -> dict:
    """Build the CA3 memory with ``pyNN.spiNNaker``, run ``run_ms`` and report the mapping.

    On a virtual board this maps, places and routes without hardware; on a board it also runs.
    Populations of more than ``slice_size`` neurons (default 254, the longest plastic row
    sPyNNaker maps) are cut into slices, each a population of its own (see
    :mod:`neuromem.spiking.split`); cores are counted per original population. ``quiet``:
    sPyNNaker's output goes to ``spinnaker.log`` in the work folder (False: to the console).

    Returns
    -------
    dict
        :meth:`~neuromem.spiking.backends.pynn_sim.PyNNSimulator.mapping` plus
        :func:`ca3_counts`, ``n_cues``, ``n_content``, ``spikes`` (total returned),
        ``slice_size`` and ``slices`` (slices per population; absent when nothing was cut).

    Raises
    ------
    BackendUnavailableError
        sPyNNaker or its configuration is missing.
    BoardUnreachableError
        A named board did not answer.
    """
    from neuromem.ca3.network import build_network
    from neuromem.spiking import create

    net = build_network(n_cues, n_content, [[1.0]] + [[]] * (n_cues - 1), [[1.0]] * n_content)
    sim = create(net, "pynn:spiNNaker", slice_size=slice_size, workdir=workdir,
                 board_timeout=board_timeout, quiet=quiet)  # fmt: skip
    try:
        sim.run(float(run_ms))
        out = sim.mapping()
        out["spikes"] = int(sum(sim.result().spike_counts().values()))
    finally:
        sim.end()
    out.update(ca3_counts(n_cues, n_content))
    out["n_cues"], out["n_content"] = n_cues, n_content
    return out
