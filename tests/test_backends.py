"""Tests of backend probing and the Brian2 cache set-up."""

from __future__ import annotations

import pytest

from neuromem.spiking import backends


def test_probe_all_covers_every_backend_and_never_raises():
    statuses = backends.probe_all()
    assert [s.name for s in statuses] == list(backends.BACKENDS)
    numba = statuses[0]
    assert numba.available and numba.version


def test_spinnaker_probe_without_cfg_explains(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    st = backends.probe("pynn:spiNNaker")
    assert not st.available
    assert "spynnaker" in st.reason.lower()
    # probing must not have written sPyNNaker's template cfg into HOME
    assert not (tmp_path / ".spynnaker.cfg").exists()


def test_configure_brian2_rejects_unknown_target():
    with pytest.raises(ValueError, match="target must be 'cython' or 'numpy'"):
        backends.configure_brian2("fortran")


@pytest.mark.brian2
def test_configure_brian2_sets_cache_and_runs(tmp_path, monkeypatch):
    pytest.importorskip("brian2")
    monkeypatch.setenv("NEUROMEM_CACHE", str(tmp_path))
    b2 = backends.configure_brian2("numpy")
    try:
        assert b2.prefs.codegen.runtime.cython.cache_dir == str(tmp_path / "brian2" / "cython")
        assert (tmp_path / "brian2").is_dir()
        b2.start_scope()
        g = b2.NeuronGroup(1, "dv/dt = (1 - v) / (10*ms) : 1", method="exact")
        b2.run(10 * b2.ms)
        # v(t) = 1 - exp(-t / tau) at t = 10 ms
        assert float(g.v[0]) == pytest.approx(1 - 2.718281828 ** (-1), rel=1e-3)
    finally:
        b2.prefs.codegen.target = "auto"


@pytest.mark.parametrize(
    ("template", "target", "version"),
    [
        ("virtual-board.cfg", "virtual board", "5"),
        ("spinn3.cfg", "board at 192.168.240.253", "3"),
        ("spinn5.cfg", "board at 192.168.240.1", "5"),
        ("spalloc.cfg", "spalloc server https://spinnaker.example.org/spalloc/", "5"),
    ],
)
def test_hardware_templates_point_where_documented(
    template, target, version, tmp_path, monkeypatch
):
    from pathlib import Path

    src = Path(__file__).resolve().parents[1] / "hardware" / template
    (tmp_path / ".spynnaker.cfg").write_text(src.read_text())
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    got = backends.spinnaker_config()
    assert got["target"] == target
    assert got["version"] == version
