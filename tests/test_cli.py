"""Tests of the `neuromem` command: list, run, demo, info and the exit-2 error lines."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from neuromem.cli import main
from neuromem.spiking import backends


def _cli(*args, cwd=None, env=None):
    e = dict(os.environ)
    e.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "neuromem", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=e,
        timeout=300,
    )


def test_list_prints_one_line_per_experiment(capsys):
    from neuromem import experiments

    assert main(["list"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == len(experiments.names())
    assert any(line.startswith("sdr-overlap ") for line in lines)


def test_run_writes_result_and_figure(tmp_path, capsys):
    out = tmp_path / "o"
    rc = main(
        ["run", "sdr-overlap", "--out", str(out), "--set", "n_pairs=400", "--seed", "2"]
        + ["--no-progress"]
    )
    assert rc == 0
    res = json.loads((out / "result.json").read_text())
    assert res["config"]["n_pairs"] == 400 and res["seed"] == 2
    assert (out / "overlap_pmf.png").is_file()
    text = capsys.readouterr().out
    assert "expected_overlap_measured" in text and str(out / "result.json") in text


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["run", "nope"], "unknown experiment 'nope'"),
        (["run", "sdr-overlap", "--set", "nope=1"], "unknown config key 'nope'"),
        (["run", "sdr-overlap", "--set", "size=abc"], "size: expected int, got 'abc'"),
        (["run", "sdr-overlap", "--set", "size"], "--set: expected key=value"),
        (["run", "sdr-overlap", "--data", "/no/such/folder"], "--data folder: not found"),
        (["run", "sdr-overlap", "--backend", "nope"], "--backend"),
        (["run", "sdr-overlap", "--config", "/no/such.toml"], "preset file not found"),
        (["run", "sdr-overlap", "--seed", "x"], "--seed"),
        (["frobnicate"], "invalid choice"),
    ],
)
def test_user_errors_exit_2_with_one_line(args, needle, tmp_path):
    out = tmp_path / "o"
    if args[0] == "run":
        args = [*args, "--out", str(out)]
    proc = _cli(*args)
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert needle in lines[0]
    assert "Traceback" not in proc.stderr
    assert not out.exists()


def test_python_m_neuromem_and_console_script_agree(tmp_path):
    proc = _cli("list")
    assert proc.returncode == 0
    assert "sdr-overlap" in proc.stdout


def test_info_reports_backends_and_spinnaker_config(tmp_path, capsys):
    assert main(["info", "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert set(info["backends"]) == set(backends.BACKENDS)
    assert info["backends"]["numba"]["available"] is True
    for name, st in info["backends"].items():
        if not st["available"]:
            assert st["reason"], f"{name} unusable without a reason"
    # with a virtual-board cfg in HOME the target is reported
    (tmp_path / ".spynnaker.cfg").write_text("[Machine]\nvirtual_board = True\nversion = 5\n")
    proc = _cli("info", env={"HOME": str(tmp_path)}, cwd=tmp_path)
    assert proc.returncode == 0
    assert "-> virtual board, board version 5" in proc.stdout


def test_spinnaker_config_targets(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    assert backends.spinnaker_config()["path"] is None
    cfg = tmp_path / ".spynnaker.cfg"
    cfg.write_text("[Machine]\nmachine_name = 192.168.240.253\nversion = 3\n")
    got = backends.spinnaker_config()
    assert got["target"] == "board at 192.168.240.253" and got["version"] == "3"
    cfg.write_text("[Machine]\nspalloc_server = spalloc.example.org\n")
    assert backends.spinnaker_config()["target"] == "spalloc server spalloc.example.org"
    # a ./spynnaker.cfg alone is no user configuration (sPyNNaker needs one) ...
    cfg.unlink()
    (tmp_path / "spynnaker.cfg").write_text("[Machine]\nvirtual_board = True\n")
    assert backends.spinnaker_config()["path"] is None
    # ... but on top of one it is read, and the report says so (issue 19)
    (tmp_path / ".config").mkdir()
    (tmp_path / ".config" / ".spynnaker.cfg").write_text("[Machine]\nvirtual_board = True\n")
    assert backends.spinnaker_config()["target"] == (
        "virtual board (with ./spynnaker.cfg read on top)"
    )


def test_probe_unknown_backend():
    with pytest.raises(ValueError, match="unknown backend 'x'"):
        backends.probe("x")


def test_backend_fixture_covers_the_table(request):
    """The `backend` fixture is parametrised over every row of the one backend table, so a
    backend added to the table is exercised by every test that takes the fixture."""
    fixdef = request._fixturemanager.getfixturedefs("backend", request.node)[-1]
    assert list(fixdef.params) == list(backends.BACKENDS)
    assert {"numba", "brian2"} <= set(fixdef.params)


def test_demo_runs_demo_experiments(tmp_path, capsys, monkeypatch):
    from neuromem import experiments

    monkeypatch.setenv("NEUROMEM_DATA", str(tmp_path / "nodata"))
    (tmp_path / "nodata").mkdir()
    # keep the test quick: demo only sdr-overlap here
    only = {e.name: e for e in experiments.experiments() if e.name == "sdr-overlap"}
    monkeypatch.setattr(experiments, "experiments", lambda: list(only.values()))
    assert main(["demo", "--out", str(tmp_path / "r"), "--no-progress"]) == 0
    assert (tmp_path / "r" / "sdr-overlap" / "result.json").is_file()
    assert "1 demo experiments ran" in capsys.readouterr().out


def test_demo_skips_experiment_whose_data_set_is_missing(tmp_path, capsys, monkeypatch):
    """A data folder without one experiment's data set skips that one and runs the others."""
    from dataclasses import dataclass

    from neuromem import experiments
    from neuromem.experiments import _registry

    @dataclass
    class _C:
        pass

    def needs_mnist(cfg, ctx):
        ctx.data_dir("mnist", what="MNIST")
        return {}

    def needs_torch(cfg, ctx):
        from neuromem.errors import BackendUnavailableError

        raise BackendUnavailableError("torch is not installed")

    _registry.register("test-needs-mnist", config=_C, description="d", needs_data=True)(needs_mnist)
    _registry.register("test-needs-torch", config=_C, description="d")(needs_torch)
    names = ("test-needs-mnist", "test-needs-torch", "sdr-overlap")
    try:
        keep = [e for e in experiments.experiments() if e.name in names]
        monkeypatch.setattr(experiments, "experiments", lambda: keep)
        monkeypatch.setenv("NEUROMEM_DATA", str(tmp_path))
        assert main(["demo", "--out", str(tmp_path / "r"), "--no-progress"]) == 0
    finally:
        _registry._REGISTRY.pop("test-needs-mnist")
        _registry._REGISTRY.pop("test-needs-torch")
    out = capsys.readouterr().out
    assert "test-needs-mnist" in out and "skipped" in out and "MNIST" in out
    assert "torch is not installed" in out
    assert (tmp_path / "r" / "sdr-overlap" / "result.json").is_file()


# ----------------------------------------------------------------------------- show
def test_show_prints_every_field_with_its_default_and_doc(capsys):
    from neuromem import experiments
    from neuromem.config import leaves, resolve_config

    assert main(["show", "sparsey-mnist"]) == 0
    out = capsys.readouterr().out
    cfg = resolve_config(experiments.get("sparsey-mnist").config)
    for lf in leaves(cfg):
        line = next(ln for ln in out.splitlines() if ln.split()[:1] == [lf.path])
        assert "default" in line and "(" in line, line
    g = next(ln for ln in out.splitlines() if ln.split()[:1] == ["model.levels.0.G_min"])
    assert "0.3" in g and "Familiarity" in g and "*" not in g.split("default")[0]


def test_show_marks_departures_from_the_owner_default(capsys):
    assert main(["show", "sparsey-capacity", "--json"]) == 0
    rows = {r["key"]: r for r in json.loads(capsys.readouterr().out)["fields"]}
    g = rows["model.levels.0.G_min"]
    assert (g["value"], g["default"], g["owner"]) == (0.9, 0.3, "LevelConfig")
    assert main(["show", "sparsey-capacity", "--set", "G_min=0.5"]) == 0
    line = next(ln for ln in capsys.readouterr().out.splitlines() if "G_min" in ln)
    assert "* 0.5" in line


def test_show_a_preset_and_errors(capsys):
    assert main(["show", "pmi-babi-paper", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    rows = {r["key"]: r["value"] for r in data["fields"]}
    assert data["experiment"] == "pmi-babi" and rows["model.pmi.dim"] == 256
    assert rows["train.steps"] == 200000 and rows["model.word_weights"] == "mean"
    for args, needle in (
        (["show", "nope"], "no experiment or preset called 'nope'"),
        (["show", "sparsey-mnist", "--set", "Q=x"], "model.levels.0.Q: expected int"),
        (["show", "tensorbrain-kg", "--set", "epochs=3"], "ambiguous config key 'epochs'"),
    ):
        proc = _cli(*args)
        assert proc.returncode == 2 and needle in proc.stderr, proc.stderr
        assert len(proc.stderr.strip().splitlines()) == 1
