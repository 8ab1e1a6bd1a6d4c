"""Trace CSV reading/writing, bad input and the replay/compare commands."""

from __future__ import annotations

import pytest

from neuromem.ca3 import Trace, compare, read_trace, replay, write_trace
from neuromem.cli import main
from neuromem.errors import ConfigError, DataNotFoundError

LEARN = """time_ms,population,neuron
0,INcue,0
0,INcont,1
1,INcue,0
1,INcont,1
2,INcue,0
2,INcont,1
10,INcue,0
"""


def _write(tmp_path, text, name="t.csv"):
    p = tmp_path / name
    p.write_text(text)
    return p


def test_read_write_roundtrip(tmp_path):
    tr = read_trace(_write(tmp_path, LEARN))
    assert tr.get("INcue")[0].tolist() == [0, 1, 2, 10]
    out = tmp_path / "o.csv"
    write_trace(out, tr)
    assert compare(tr, read_trace(out)).identical


@pytest.mark.parametrize(
    "text, match",
    [
        ("time,pop,neuron\n", "header"),
        ("time_ms,population,neuron\n0,INfoo,0\n", "unknown population"),
        ("time_ms,population,neuron\n0,INcue\n", "3 fields"),
        ("time_ms,population,neuron\nx,INcue,0\n", "numbers"),
        ("time_ms,population,neuron\n-1,INcue,0\n", "time"),
        ("time_ms,population,neuron\n0.5,INcue,0\n", "whole number"),
        ("time_ms,population,neuron\n0,INcue,-2\n", "neuron index"),
        ("time_ms,population,neuron\n0,INcue,0\n0,INcue,0\n", "duplicated"),
    ],
)
def test_malformed_trace(tmp_path, text, match):
    with pytest.raises(ConfigError, match=match):
        read_trace(_write(tmp_path, text))


def test_missing_file(tmp_path):
    with pytest.raises(DataNotFoundError):
        read_trace(tmp_path / "none.csv")


def test_replay_learn_then_recall(tmp_path):
    """A learn of cue 0 -> bit 1, then a recall by cue 0: the recall reaches OUTcont[1]."""
    out = replay(read_trace(_write(tmp_path, LEARN)), n_cues=2, n_content=3)
    t, i = out.get("OUTcont")
    assert {(int(a), int(b)) for a, b in zip(t, i)} >= {(5, 1), (7, 1), (16, 1)}
    t, i = out.get("OUTcue")
    assert 15 in t.tolist()


def test_replay_sizes_from_options(tmp_path):
    src = _write(tmp_path, LEARN)
    out = tmp_path / "big.csv"
    args = ["ca3", "replay", "--trace", str(src), "--out", str(out), "--cues", "4"]
    assert main(args + ["--content", "5"]) == 0
    tr = read_trace(out)
    # same spikes as with the sizes read from the trace: extra neurons stay silent
    assert compare(tr, replay(read_trace(src))).identical


def test_replay_size_checks(tmp_path):
    tr = read_trace(_write(tmp_path, LEARN))
    with pytest.raises(ConfigError, match="--content"):
        replay(tr, n_content=1)
    with pytest.raises(ConfigError, match="no INcue"):
        replay(Trace({}), n_cues=1, n_content=1)


def test_cli_replay_compare(tmp_path, capsys):
    src = _write(tmp_path, LEARN)
    out = tmp_path / "out.csv"
    assert main(["ca3", "replay", "--trace", str(src), "--out", str(out)]) == 0
    assert main(["ca3", "compare", str(out), str(out)]) == 0
    assert "identical" in capsys.readouterr().out
    assert main(["ca3", "compare", str(src), str(out)]) == 1
    assert "DIFFERENT" in capsys.readouterr().out
    bad = _write(tmp_path, "time_ms,population,neuron\n0,XX,0\n", "bad.csv")
    assert main(["ca3", "replay", "--trace", str(bad), "--out", str(out)]) == 2
    assert main(["ca3", "replay", "--trace", str(src), "--out", str(out), "--backend", "x"]) == 2
