"""The backend table: names, probes, simulator registry; the Brian2 cache and sPyNNaker cfg."""

from __future__ import annotations

import pytest

from neuromem.errors import ConfigError
from neuromem.spiking import backends


def test_probe_all_covers_every_backend_and_never_raises():
    statuses = backends.probe_all()
    assert [s.name for s in statuses] == list(backends.BACKENDS)
    numba = statuses[0]
    assert numba.available and numba.version


def test_every_table_row_registers_its_simulator():
    """Each name of the table is built by the module its row names (importable without the
    simulator itself), and nothing else lists backend names."""
    assert backends.names()[: len(backends.TABLE)] == backends.BACKENDS
    for name, info in backends.TABLE.items():
        assert info.name == name and info.description
        cls = backends.get_backend(name)
        assert cls.__module__ == info.simulator_module


def test_experiments_and_cli_read_the_table():
    from neuromem.experiments import get

    assert get("ca3-functional").backends == backends.BACKENDS


def test_unknown_backend_names_the_known_ones():
    with pytest.raises(ValueError, match="unknown backend 'brain3'; known: numba, brian2"):
        backends.probe("brain3")
    with pytest.raises(ConfigError, match="unknown spiking backend 'brain3'"):
        backends.create(None, "brain3")
    with pytest.raises(ConfigError, match="backend must be a string"):
        backends.get_backend(3)
    with pytest.raises(TypeError, match="name must be a non-empty string"):
        backends.register_backend("")


def test_registered_backend_joins_the_names(monkeypatch):
    monkeypatch.setitem(backends._BACKENDS, "toy", type("Toy", (), {}))
    assert backends.names()[-1] == "toy" and "toy" in backends.backend_names()
    assert backends.probe("toy").available
    assert [s.name for s in backends.probe_all()][-1] == "toy"


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

    src = Path(__file__).resolve().parents[1] / "neuromem" / "presets" / "spinnaker" / template
    (tmp_path / ".spynnaker.cfg").write_text(src.read_text())
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    got = backends.spinnaker_config()
    assert got["target"] == target
    assert got["version"] == version


def test_pynn_quirks_cover_the_table_s_pynn_backends():
    from neuromem.spiking.backends import pynn_sim

    pynn_rows = [n for n, i in backends.TABLE.items() if i.simulator_module == pynn_sim.__name__]
    assert sorted(f"pynn:{s}" for s in pynn_sim.QUIRKS) == sorted(pynn_rows)
    assert all(i.probe_module == pynn_sim.QUIRKS[n[5:]].module for n, i in backends.TABLE.items()
               if n in pynn_rows)  # fmt: skip
