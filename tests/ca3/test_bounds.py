"""CA3 bad input (issue 17): traces that name neurons outside the memory, sizes beyond the
machine's memory, simulated times beyond what one call may run, corrupt parameters."""

from __future__ import annotations

import numpy as np
import pytest

from neuromem.ca3 import CA3Memory, read_trace, replay
from neuromem.ca3.network import MAX_DURATION_MS, CA3Params, build_network, network_bytes
from neuromem.cli import main
from neuromem.errors import ConfigError

FIVE_CUES = """time_ms,population,neuron
0,INcue,4
0,INcont,1
1,INcue,4
1,INcont,1
2,INcue,4
2,INcont,1
10,INcue,0
"""


def _write(tmp_path, text, name="t.csv"):
    p = tmp_path / name
    p.write_text(text)
    return p


def test_a_row_beyond_the_inputs_is_refused_not_a_wider_network(tmp_path):
    tr = read_trace(_write(tmp_path, FIVE_CUES + "7,OUTcue,7\n"))
    with pytest.raises(ConfigError, match=r"OUTcue names neuron 7 but the memory has 5 .*INcue"):
        replay(tr)
    with pytest.raises(ConfigError, match=r"OUTcue names neuron 7 but the memory has 5 .*--cues"):
        replay(tr, n_cues=5)
    tr = read_trace(_write(tmp_path, FIVE_CUES + "5,OUTcont,3\n"))
    with pytest.raises(ConfigError, match=r"OUTcont names neuron 3 but the memory has 2"):
        replay(tr)
    assert len(replay(tr, n_content=4).get("OUTcont")[0])  # with room for it, it replays
    out = tmp_path / "o.csv"
    args = ["ca3", "replay", "--trace", str(tmp_path / "t.csv"), "--out", str(out)]
    assert main(args) == 2 and not out.exists()


def test_an_input_index_of_100000_is_refused_before_building(tmp_path, monkeypatch):
    monkeypatch.setenv("NEUROMEM_MEMORY_LIMIT", "8G")
    tr = read_trace(_write(tmp_path, "time_ms,population,neuron\n0,INcue,100000\n"))
    with pytest.raises(ConfigError, match=r"100001 cues and 1 content bits: needs about 2\.\d TiB"):
        replay(tr)
    with pytest.raises(ValueError, match=r"a CA3 network of 100000 cues .*needs about"):
        build_network(100_000, 10)
    assert network_bytes(5, 10) < 1 << 20


def test_a_spike_time_of_1e12_is_refused(tmp_path):
    tr = read_trace(_write(tmp_path, "time_ms,population,neuron\n1000000000000,INcue,0\n"))
    with pytest.raises(ConfigError, match=r"an input spike at 1000000000000 ms; .* at most"):
        replay(tr)
    tr = read_trace(_write(tmp_path, FIVE_CUES))
    with pytest.raises(ConfigError, match=r"--duration: 1000000000000.0 ms is more than"):
        replay(tr, duration=1e12)


def test_memory_refuses_far_operations_and_huge_lags():
    mem = CA3Memory(3, 4)
    with pytest.raises(ValueError, match=r"at=100000000000 .* ms is more than one CA3"):
        mem.learn(0, [1, 0, 0, 1], at=10**11)
    assert mem.time == 0 and mem.operations == []  # nothing simulated
    mem.learn(0, [1, 0, 0, 1], at=MAX_DURATION_MS // 1000)
    with pytest.raises(ValueError, match="read_lag"):
        CA3Memory(3, 4, read_lag=10**9)


@pytest.mark.parametrize(
    "field, value, match",
    [
        ("tau_syn", float("nan"), "params.tau_syn: expected a finite number"),
        ("w", float("inf"), "params.w: expected a finite number"),
        ("cm_fast", 0.0, "params.cm_fast: expected a number > 0"),
        ("a_stdp", -1.0, "params.a_stdp: expected a number >= 0"),
        ("v_thresh", -70.0, "params.v_thresh: expected a threshold above v_rest"),
        ("w_max", "6", "params.w_max: expected a number"),
    ],
)
def test_ca3_params_refuse_bad_values(field, value, match):
    with pytest.raises((ValueError, TypeError), match=match):
        CA3Params(**{field: value})


def test_saved_memory_with_corrupt_contents_is_refused(tmp_path):
    import json

    mem = CA3Memory(3, 4)
    mem.learn(1, [1, 0, 1, 0])
    path = mem.save(tmp_path / "m")
    assert path.name == "m.npz"
    assert CA3Memory.load(tmp_path / "m").weights()["cue_to_content"].shape == (3, 4)

    def rewrite(meta_change=None, **arrays):
        with np.load(path) as z:
            data = {k: z[k] for k in z.files}
        header = json.loads(str(data["__header__"]))
        if meta_change:
            header["meta"].update(meta_change)
        data["__header__"] = np.array(json.dumps(header))
        data.update(arrays)
        np.savez(path, **data)

    rewrite({"params": {**CA3Params().__dict__, "tau_syn": float("nan")}})
    with pytest.raises(ValueError, match=r"m\.npz: params\.tau_syn"):
        CA3Memory.load(path)
    rewrite({"params": CA3Params().__dict__, "steps": 10**13})
    with pytest.raises(ValueError, match=r"m\.npz: steps: .* ms is more than"):
        CA3Memory.load(path)
    rewrite({"steps": 7}, op_kind=np.array([-1]))
    with pytest.raises(ValueError, match=r"m\.npz: op_kind"):
        CA3Memory.load(path)
    path.write_bytes(path.read_bytes()[:100])
    with pytest.raises(ValueError, match=r"m\.npz is not a CA3 memory file"):
        CA3Memory.load(path)
    path.write_bytes(b"")
    with pytest.raises(ValueError, match=r"m\.npz"):
        CA3Memory.load(path)


def test_replay_output_checked_before_work_and_written_whole(tmp_path, capsys):
    src = _write(tmp_path, FIVE_CUES)
    for out, match in (
        (tmp_path / "no" / "o.csv", "does not exist"),
        (tmp_path, "is a folder"),
    ):
        rc = main(["ca3", "replay", "--trace", str(src), "--out", str(out)])
        assert rc == 2 and match in capsys.readouterr().err
    out = tmp_path / "o.csv"
    assert main(["ca3", "replay", "--trace", str(src), "--out", str(out)]) == 0
    assert read_trace(out).get("INcue")[0].size == 4
    assert sorted(p.name for p in tmp_path.iterdir()) == ["o.csv", "t.csv"]  # no temporary


def test_binary_and_broken_csv_traces_name_the_file(tmp_path):
    p = tmp_path / "bin.csv"
    p.write_bytes(b"time_ms,population,neuron\n" + bytes(range(128, 256)))
    with pytest.raises(ConfigError, match=r"bin\.csv: not a text CSV file"):
        read_trace(p)
    p.write_bytes(b"time_ms,population,neuron\n0,INcue," + b"9" * 200_000 + b"\n")
    with pytest.raises(ConfigError, match=r"bin\.csv: (not a CSV file|line 2)"):
        read_trace(p)
