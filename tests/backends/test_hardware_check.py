"""neuromem.hardware: configuration templates, board check, CA3 counts, `hardware check`."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from neuromem.cli import main
from neuromem.errors import ConfigError, DataNotFoundError
from neuromem.hardware import (
    BoardUnreachableError,
    ca3_counts,
    describe_config,
    ping_board,
    using_cfg,
)

HW = Path(__file__).resolve().parents[2] / "neuromem" / "presets" / "spinnaker"


@pytest.mark.parametrize(
    ("name", "kind", "version", "host"),
    [
        ("virtual-board.cfg", "virtual", 5, None),
        ("spinn3.cfg", "board", 3, "192.168.240.253"),
        ("spinn5.cfg", "board", 5, "192.168.240.1"),
        ("spalloc.cfg", "spalloc", 5, "https://spinnaker.example.org/spalloc/"),
    ],
)
def test_templates_point_where_they_say(name, kind, version, host):
    info = describe_config(HW / name)
    assert (info["kind"], info["version"], info["host"]) == (kind, version, host)
    if kind != "virtual":
        assert info["time_scale_factor"] == 1.0


def test_describe_config_rejects_bad_files(tmp_path):
    with pytest.raises(DataNotFoundError, match="--cfg"):
        describe_config(tmp_path / "missing.cfg")
    bad = tmp_path / "bad.cfg"
    bad.write_text("[Machine]\nmachine_name = 10.0.0.1\nversion = 4\n")
    with pytest.raises(ConfigError, match="version must be 3"):
        describe_config(bad)
    empty = tmp_path / "empty.cfg"
    empty.write_text("[Machine]\nversion = 5\n")
    assert describe_config(empty)["kind"] is None


def test_ping_closed_local_port_fails_within_timeout():
    t0 = time.monotonic()
    with pytest.raises(BoardUnreachableError, match="did not answer") as ei:
        ping_board("127.0.0.1", timeout=1.5, port=9)
    assert time.monotonic() - t0 < 5
    assert "powered" in str(ei.value)
    with pytest.raises(ValueError, match="timeout"):
        ping_board("127.0.0.1", timeout=0)
    with pytest.raises(ValueError, match="host"):
        ping_board("", timeout=1)


@pytest.mark.parametrize(("c", "n"), [(1, 1), (5, 10), (16, 6), (7, 3)])
def test_ca3_counts_follow_the_paper_table(c, n):
    # 4 cue populations, 5 content populations, 1 interneuron; synapses from the table:
    # one-to-one 5c + 6n, all-to-all c*n (inh) + 2 n (interneuron) + 2 c*n (plastic),
    # all-but-same-index 2 c (c - 1)
    got = ca3_counts(c, n)
    assert got["neurons"] == 4 * c + 5 * n + 1
    assert got["sources"] == c + n
    assert got["synapses"] == 5 * c + 6 * n + 3 * c * n + 2 * n + 2 * c * (c - 1)
    assert got["plastic_synapses"] == 2 * c * n


def test_using_cfg_restores_cwd(tmp_path):
    import os

    cwd = os.getcwd()
    home = os.environ.get("HOME")
    with using_cfg(HW / "virtual-board.cfg", tmp_path / "wd") as wd:
        assert Path.cwd() == wd.resolve()
        # sPyNNaker 7 reads only ~/.spynnaker.cfg: HOME points at a copy of the given file
        cfg = Path(os.environ["HOME"]) / ".spynnaker.cfg"
        assert cfg.read_text() == (HW / "virtual-board.cfg").read_text()
    assert os.getcwd() == cwd and os.environ.get("HOME") == home
    with pytest.raises(DataNotFoundError):
        with using_cfg(tmp_path / "nope.cfg"):
            pass


def test_cli_check_silent_board_exit_2_fast(tmp_path, capsys):
    cfg = tmp_path / "board.cfg"
    cfg.write_text("[Machine]\nmachine_name = 127.0.0.1\nversion = 3\n")
    t0 = time.monotonic()
    assert main(["hardware", "check", "--cfg", str(cfg), "--timeout", "2"]) == 2
    assert time.monotonic() - t0 < 30
    err = capsys.readouterr().err
    assert "127.0.0.1 did not answer" in err
    assert main(["hardware", "check", "--cfg", str(cfg), "--timeout", "60"]) == 2
    assert "--timeout" in capsys.readouterr().err
    assert main(["hardware", "check", "--cfg", str(tmp_path / "none.cfg")]) == 2


@pytest.mark.spinnaker
def test_cli_check_maps_ca3_on_virtual_board(spinnaker_home, capsys, monkeypatch):
    from neuromem.spiking.backends import probe

    st = probe("pynn:spiNNaker")
    if not st.available:
        pytest.skip(st.reason)
    empty = spinnaker_home / "empty_home"
    empty.mkdir()
    monkeypatch.setenv("HOME", str(empty))  # only --cfg tells sPyNNaker where to run
    assert main(["hardware", "check", "--cfg", str(HW / "virtual-board.cfg")]) == 0
    assert not (empty / ".spynnaker.cfg").exists()
    out = capsys.readouterr().out
    assert "target: virtual SpiNN-5 board" in out
    assert "71 neurons" in out and "295 synapses (100 plastic)" in out
    assert "-> 12 cores on 1 chip(s)" in out
    assert not (spinnaker_home / "reports").exists()


@pytest.mark.parametrize("k", ["0", "255", "-3"])
def test_cli_check_refuses_a_slice_size_beyond_the_row_limit(k, tmp_path, capsys):
    """--slice-size outside [1, 254] exits 2 with one line naming it, before any cfg is read."""
    assert main(["hardware", "check", "--cfg", str(tmp_path / "none.cfg"), "--slice-size", k]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "--slice-size" in err and "[1, 254]" in err, err


@pytest.mark.spinnaker
def test_cli_check_slice_size_spreads_the_memory_over_more_cores(spinnaker_home, capsys):
    """`--slice-size 4` cuts the 5 cue and 10 content populations into slices of at most 4
    neurons: the same neurons and synapses as unsliced, on more cores, and says so."""
    from neuromem.spiking.backends import probe

    st = probe("pynn:spiNNaker")
    if not st.available:
        pytest.skip(st.reason)
    cfg = str(HW / "virtual-board.cfg")
    assert main(["hardware", "check", "--cfg", cfg, "--json", "--slice-size", "4"]) == 0
    out = capsys.readouterr().out
    assert "split: populations of more than 4 neurons cut into slices:" in out, out
    assert "71 neurons" in out and "295 synapses (100 plastic)" in out
    m = json.loads(out.strip().splitlines()[-1])["mapping"]
    assert m["slice_size"] == 4 and max(m["slices"].values()) == 3  # 10 neurons: 4 + 3 + 3
    assert m["cores"] > 12  # unsliced: 12 cores (test_cli_check_maps_ca3_on_virtual_board)


def test_local_spynnaker_cfg_is_read_on_top_of_the_user_file(tmp_path, monkeypatch):
    """sPyNNaker reads ~/.spynnaker.cfg and then ./spynnaker.cfg; neuromem reports the two
    read in that order, and refuses a local file alone with the reason."""
    from neuromem.errors import BackendUnavailableError
    from neuromem.spiking.backends.env import spinnaker_config
    from neuromem.spiking.backends.pynn_sim import _check_spinnaker_cfg

    home, proj = tmp_path / "home", tmp_path / "proj"
    home.mkdir()
    proj.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir(proj)
    (proj / "spynnaker.cfg").write_text("[Machine]\nversion = 3\n")
    cfg = spinnaker_config()
    assert cfg["path"] is None and cfg["local"] == str(proj / "spynnaker.cfg")
    assert "also needs ~/.spynnaker.cfg" in cfg["target"]
    with pytest.raises(BackendUnavailableError, match=r"\./spynnaker.cfg alone is not enough"):
        _check_spinnaker_cfg()
    assert describe_config()["kind"] is None
    (home / ".spynnaker.cfg").write_text((HW / "virtual-board.cfg").read_text())
    cfg = spinnaker_config()
    assert cfg["path"] == str(home / ".spynnaker.cfg") and cfg["version"] == "3"
    assert cfg["target"] == "virtual board (with ./spynnaker.cfg read on top)"
    info = describe_config()
    assert info["local"] == str(proj / "spynnaker.cfg") and info["version"] == 3
    assert info["target"] == "virtual SpiNN-3 board (no spikes)"
    assert describe_config(HW / "virtual-board.cfg")["version"] == 5  # a file given: alone
    with using_cfg(None) as wd:  # the local file travels into sPyNNaker's work folder
        assert (wd / "spynnaker.cfg").read_text() == "[Machine]\nversion = 3\n"
    with using_cfg(HW / "spinn5.cfg") as wd:  # --cfg FILE: that file alone
        assert not (wd / "spynnaker.cfg").exists()


@pytest.mark.spinnaker
def test_local_cfg_honoured_and_check_quiet_on_a_virtual_board(spinnaker_home, capfd):
    """A ./spynnaker.cfg asking for a SpiNN-3 (4 chips) over the user file's virtual SpiNN-5
    (48 chips) is what sPyNNaker maps on, through the backend and `hardware check`, which
    prints its own lines only (sPyNNaker's output goes to a log unless --verbose)."""
    from neuromem.ca3.network import build_network
    from neuromem.spiking import create
    from neuromem.spiking.backends import probe

    st = probe("pynn:spiNNaker")
    if not st.available:
        pytest.skip(st.reason)
    (spinnaker_home / "spynnaker.cfg").write_text("[Machine]\nversion = 3\n")
    net = build_network(2, 2, [[1.0], []], [[1.0], []])
    sim = create(net, "pynn:spiNNaker", workdir=str(spinnaker_home / "work"))
    sim.run(5.0)
    sim.end()
    assert sim.mapping()["machine_chips"] == 4
    capfd.readouterr()
    assert main(["hardware", "check"]) == 0
    out, err = capfd.readouterr()
    lines = out.splitlines()
    assert "read on top of it: " in out and "machine of 4 chips" in out
    assert "INFO" not in out + err and len(lines) <= 8, out + err
    log = next(x for x in lines if x.startswith("sPyNNaker's output: ")).split(": ", 1)[1]
    assert Path(log.split(";")[0].split(" (")[0]).is_file()
