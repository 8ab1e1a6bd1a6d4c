"""Shared fixtures: backends, data folders, temporary HOME for sPyNNaker."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("MPLBACKEND", "Agg")

from neuromem import backends as _backends  # noqa: E402

# Simulator backends that the `backend` fixture runs a test on.
SIMULATORS = ("numba", "brian2", "pynn:brian2", "pynn:spiNNaker")

REPO = Path(__file__).resolve().parents[1]


def _status(name):
    st = _backends.probe(name)
    return st.available, st.reason


@pytest.fixture(params=SIMULATORS)
def backend(request):
    """Each installed simulator backend in turn; skipped with the reason when unusable.

    A test that only some backends support narrows the list with
    ``@pytest.mark.parametrize("backend", [...], indirect=True)``.
    """
    name = request.param
    ok, reason = _status(name)
    if not ok:
        pytest.skip(f"backend {name} not usable here: {reason}")
    return name


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
