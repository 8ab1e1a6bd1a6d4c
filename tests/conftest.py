"""Shared fixtures: the `backend` fixture over the backend table, data folders, a HOME for
sPyNNaker."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("MPLBACKEND", "Agg")
# the tests never read nor fill the user's download cache (neuromem data fetch): an empty
# folder of this session unless a test sets its own
if "NEUROMEM_CACHE" not in os.environ:
    import tempfile

    os.environ["NEUROMEM_CACHE"] = tempfile.mkdtemp(prefix="neuromem-test-cache-")

from neuromem.spiking import backends as _backends  # noqa: E402

REPO = Path(__file__).resolve().parents[1]


def _kind_marker(name: str) -> str | None:
    """The marker (``brian2``, ``spinnaker``) of a test run on backend ``name``: the simulator
    module its probe imports (brian2, pyNN.brian2 -> brian2; pyNN.spiNNaker -> spinnaker)."""
    kind = _backends.TABLE[name].probe_module.rsplit(".", 1)[-1].lower()
    return kind if kind in ("brian2", "spinnaker") else None


def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        "deviation(backends, reason): a known deviation of these backends (a name or a tuple of "
        "names) from the Numba reference; run on one of them, the test is a strict xfail",
    )


def _usable(name: str) -> tuple[bool, str]:
    st = _backends.probe(name)
    if not st.available:
        return False, st.reason
    if name == "pynn:spiNNaker" and _backends.spinnaker_config()["target"] == "virtual board":
        return False, "~/.spynnaker.cfg names a virtual board: it maps but returns no spikes"
    return True, "ok"


@pytest.fixture(params=_backends.BACKENDS)
def backend(request):
    """Each backend of the table in turn (``neuromem.spiking.backends.TABLE``); skipped with
    the probe's reason when unusable here.

    A test that only some backends support narrows the list with
    ``@pytest.mark.parametrize("backend", [...], indirect=True)``; a known deviation of a
    backend is marked ``@pytest.mark.deviation("pynn:brian2", reason="...")`` (a strict xfail
    on that backend only).
    """
    name = request.param
    ok, reason = _usable(name)
    if not ok:
        pytest.skip(f"backend {name} not usable here: {reason}")
    return name


def pytest_collection_modifyitems(config, items):
    """Turn ``deviation`` markers into strict xfails on their backends; mark brian2/spinnaker."""
    for item in items:
        callspec = getattr(item, "callspec", None)
        if callspec is None or "backend" not in callspec.params:
            continue
        name = callspec.params["backend"]
        kind = _kind_marker(name)
        if kind is not None:
            item.add_marker(getattr(pytest.mark, kind))
        for mark in item.iter_markers("deviation"):
            names = mark.args[0] if mark.args else mark.kwargs["backends"]
            names = (names,) if isinstance(names, str) else tuple(names)
            unknown = set(names) - set(_backends.BACKENDS)
            if unknown:
                raise pytest.UsageError(f"{item.nodeid}: deviation of unknown backend {unknown}")
            if name in names:
                reason = mark.kwargs.get("reason") or "known deviation"
                item.add_marker(pytest.mark.xfail(strict=True, reason=f"{name}: {reason}"))


def shared_data_dir() -> Path | None:
    """The reference data folder ($NEUROMEM_DATA or ../shared/data), or None."""
    from neuromem.datasets import default_data_dir

    d = default_data_dir()
    return d if d is not None and d.is_dir() else None


@pytest.fixture
def shared_data():
    """Path of the reference data folder; skips the test with a reason when absent."""
    d = shared_data_dir()
    if d is None:
        pytest.skip("reference data not found (set NEUROMEM_DATA or provide ../shared/data)")
    return d


@pytest.fixture
def golden_dir():
    """Path of ../shared/golden; skips the test with a reason when absent."""
    env = os.environ.get("NEUROMEM_GOLDEN")
    cands = [Path(env)] if env else []
    cands += [REPO.parent / "shared" / "golden", REPO / "shared" / "golden"]
    for c in cands:
        if c.is_dir():
            return c
    pytest.skip("hardware recordings not found (set NEUROMEM_GOLDEN or provide ../shared/golden)")


@pytest.fixture
def spinnaker_home(tmp_path, monkeypatch):
    """A temporary HOME holding ~/.spynnaker.cfg for a virtual SpiNN-5 board."""
    (tmp_path / ".spynnaker.cfg").write_text(
        "[Machine]\nvirtual_board = True\nversion = 5\n\n[Reports]\nwrite_energy_report = False\n"
    )
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def caller_network():
    """A user's own PyNN network around an embedded CA3 memory of 5 cues and 10 content
    neurons: ``weights`` preload cue 0 -> content bits 0, 1, 8, 9; ``wire(sim, pops)`` (for
    ``on_build``) makes a spike source giving cue 0 at 2 ms and 10 reader cells on the content
    output, wired with ``connect_in``/``connect_out`` (kept in ``mine``); ``fired()`` lists
    the reader cells that spiked."""
    import numpy as np

    from neuromem.ca3 import connect_in, connect_out

    w1, w2 = np.zeros((5, 10)), np.zeros((10, 5))
    w1[0, [0, 1, 8, 9]] = 6.0
    w2[[0, 1, 8, 9], 0] = 6.0
    mine: dict = {}

    def wire(sim, pops):
        src = sim.Population(5, sim.SpikeSourceArray(spike_times=[[2.0], [], [], [], []]))
        reader = sim.Population(10, sim.IF_curr_exp(cm=0.27, tau_m=3.0, tau_syn_E=0.3,
                                                    v_rest=-60.0, v_reset=-60.0,
                                                    v_thresh=-57.0))  # fmt: skip
        reader.initialize(v=-60.0)
        reader.record("spikes")
        mine["in"] = connect_in(sim, pops, src, "cue")
        mine["out"] = connect_out(sim, pops, reader, "content")
        mine["reader"] = reader

    def fired():
        seg = mine["reader"].get_data("spikes").segments[-1]
        return sorted(int(st.annotations["source_index"]) for st in seg.spiketrains if len(st))

    from types import SimpleNamespace

    return SimpleNamespace(weights={"cue_to_content": w1, "content_to_cue": w2}, wire=wire,
                           fired=fired, mine=mine)  # fmt: skip
