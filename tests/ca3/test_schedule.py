"""Schedules: a whole list of CA3 operations run in one simulation and decoded per operation."""

from __future__ import annotations

import numpy as np
import pytest

from neuromem.ca3 import CA3Memory, compare, read_trace
from neuromem.ca3.schedule import (
    ScheduledOp,
    check_schedule,
    read_schedule,
    schedule_from_trace,
    write_schedule,
)
from neuromem.cli import main
from neuromem.spiking.backends.numba_sim import NumbaSimulator

RECORDINGS = [("functional_c5_n10.csv", 5, 10), ("statemap_c16_n6.csv", 16, 6)]

#: a small schedule at minimum spacing: two learns sharing no bit, recalls both ways, a
#: re-learn (forgetting) and the recalls after it
SMALL = [
    (0, "learn", 0, "1100"),
    (7, "learn", 1, "0011"),
    (14, "recall_cue", 0, ""),
    (20, "recall_content", None, "0010"),
    (26, "learn", 0, "0001"),
    (33, "recall_cue", 0, None),
    (39, "recall_content", None, "0100"),
]


def _csv(path, rows, header="t_ms,op,cue,content"):
    lines = [header] + [",".join("" if x is None else str(x) for x in r) for r in rows]
    path.write_text("\n".join(lines) + "\n")
    return path


def _nest_skip():
    from neuromem.spiking.backends import probe

    st = probe("pynn:nest")
    return pytest.mark.skipif(not st.available, reason=f"pynn:nest not usable here: {st.reason}")


@pytest.mark.parametrize(
    "backend",
    [
        "numba",
        pytest.param("brian2", marks=pytest.mark.brian2),
        pytest.param("pynn:nest", marks=_nest_skip()),
    ],
)
@pytest.mark.parametrize("name, c, n", RECORDINGS)
def test_schedule_from_recording_reproduces_it_spike_for_spike(
    golden_dir, tmp_path, name, c, n, backend
):
    """The recording's input rows as a schedule CSV, run by ``neuromem ca3 schedule`` on
    numba, brian2 and pynn:nest (NEST stepping the reference's step, see
    ``neuromem.spiking.backends._stepped``): every spike of the board, every answer right."""
    path = golden_dir / "ca3" / name
    if not path.is_file():
        pytest.skip(f"{path} not found")
    g = read_trace(path)
    write_schedule(tmp_path / "s.csv", schedule_from_trace(g, n))
    out = tmp_path / "out"
    assert main(["ca3", "schedule", str(tmp_path / "s.csv"), "--cues", str(c),
                 "--content", str(n), "--backend", backend, "--out", str(out)]) == 0  # fmt: skip
    res = compare(g, read_trace(out / "spikes.csv"))
    assert res.identical, res.report()
    rows = (out / "operations.csv").read_text().splitlines()
    assert rows[0] == "t_ms,op,cue,content,out_cues,out_content,expected_cues,expected_content,ok"
    assert len(rows) - 1 == len(schedule_from_trace(g)) and all(r.endswith(",1") for r in rows[1:])
    if name.startswith("statemap"):  # the board's answer to the query at 112 ms
        assert "112,recall_content,,011010,2 6 10 12 13 14,011010,2 6 10 12 13 14,,1" in rows


def test_schedule_answers_and_spikes_equal_one_operation_at_a_time():
    sched = check_schedule(SMALL, 2, 4)
    one = CA3Memory(2, 4)
    got = one.run_schedule(SMALL)
    step = CA3Memory(2, 4)
    for op in sched:
        if op.kind == "learn":
            step.learn(op.cue, op.content, at=op.t)
        elif op.kind == "recall_cue":
            step.recall(cue=op.cue, at=op.t)
        else:
            step.recall(content=op.content, at=op.t)
    assert [(o.kind, o.t, o.out_cues, o.out_content.tolist()) for o in got] == [
        (o.kind, o.t, o.out_cues, o.out_content.tolist()) for o in step.operations
    ]
    assert compare(one.trace(), step.trace()).identical
    assert got[2].pattern.astype(int).tolist() == [1, 1, 0, 0]
    assert got[3].cues == [1]
    assert got[5].pattern.astype(int).tolist() == [0, 0, 0, 1]  # re-learnt
    assert got[6].cues == []  # bit 1 was forgotten with cue 0's old pattern
    assert one.time == 39 + 6 + 1 and one.next_free == 45
    # the memory goes on after a schedule, from its earliest time
    assert one.recall(cue=1).out_content.astype(int).tolist() == [0, 0, 1, 1]


_COUNTS = {"built": 0, "run": 0, "end": 0}


class _Counting(NumbaSimulator):
    """The Numba reference, counting builds, runs and ends (a PyNN backend's life cycle)."""

    def __init__(self, network, **options):
        _COUNTS["built"] += 1
        super().__init__(network, **options)

    def run(self, duration):
        _COUNTS["run"] += 1
        super().run(duration)

    def end(self):
        _COUNTS["end"] += 1


def test_schedule_is_one_build_one_run_one_end(monkeypatch):
    from neuromem.spiking import backends

    # registered for this test only (the backend list is global)
    monkeypatch.setitem(backends._BACKENDS, "test-counting", _Counting)
    _COUNTS.update(built=0, run=0, end=0)
    mem = CA3Memory(2, 4, backend="test-counting")
    assert _COUNTS["built"] == 0  # nothing is built before the first operation
    ops = mem.run_schedule(SMALL)
    assert _COUNTS == {"built": 1, "run": 1, "end": 1}
    assert [o.cues for o in ops if o.kind == "recall_content"] == [[1], []]
    mem.run_schedule([(60, "recall_cue", 1, None)], end=False)
    assert _COUNTS == {"built": 1, "run": 2, "end": 1}


def test_schedule_given_as_tuples_dicts_or_ops_and_after_other_operations():
    mem = CA3Memory(2, 4)
    mem.learn(0, [1, 1, 0, 0])  # 0..7: the schedule may start at 7 (input emitted late)
    ops = mem.run_schedule(
        [
            {"t_ms": 7, "op": "learn", "cue": 1, "content": [0, 0, 1, 1]},
            ScheduledOp(14, "recall_content", None, np.array([0, 0, 1, 0], bool)),
            (20.0, "recall_cue", np.int64(0), None),
        ]
    )
    assert [o.t for o in ops] == [7, 14, 20] and len(mem.operations) == 4
    assert ops[1].cues == [1] and ops[2].pattern.astype(int).tolist() == [1, 1, 0, 0]


@pytest.mark.parametrize(
    "ops, exc, match",
    [
        ([], ValueError, "no operation"),
        ([(0, "store", 0, "1100")], ValueError, r"ops\[0\]: op must be one of"),
        ([(0, "learn", 2, "1100")], ValueError, r"ops\[0\]: cue 2 out of range"),
        ([(0, "learn", None, "1100")], ValueError, "needs a cue"),
        ([(0, "learn", 0, "110")], ValueError, "length 4"),
        ([(0, "learn", 0, "0000")], ValueError, "no active bit"),
        ([(0, "learn", 0, [0, 2, 0, 0])], ValueError, "binary"),
        ([(0, "recall_cue", 0, "1000")], ValueError, "takes no content"),
        ([(0, "recall_content", 0, "1000")], ValueError, "takes no cue"),
        ([(0, "recall_content", None, "0000")], ValueError, "fragment has no active bit"),
        ([(0.5, "recall_cue", 0, None)], TypeError, "whole number"),
        ([(-1, "recall_cue", 0, None)], ValueError, ">= 0"),
        (
            [(0, "learn", 0, "1000"), (6, "recall_cue", 0, None)],
            ValueError,
            r"ops\[1\]: t_ms=6 is closer to the learn at 0 ms.*no sooner than 7",
        ),  # fmt: skip
        ([(10, "recall_cue", 0, None), (0, "recall_cue", 1, None)], ValueError, "closer"),
        ([(10**8, "recall_cue", 0, None)], ValueError, "beyond what one CA3 simulation"),
        ([(0, "learn", 0)], TypeError, r"ops\[0\]: expected a ScheduledOp"),
        ("0,learn,0,1100", TypeError, "sequence of operations"),
    ],
)
def test_bad_schedules_are_refused_before_anything_runs(ops, exc, match):
    mem = CA3Memory(2, 4)
    with pytest.raises(exc, match=match):
        mem.run_schedule(ops)
    assert mem.time == 0 and mem.operations == [] and mem._sim is None


def test_schedule_respects_read_lag_and_earlier_operations():
    mem = CA3Memory(2, 4, read_lag=2)
    with pytest.raises(ValueError, match="no sooner than 9"):
        mem.run_schedule([(0, "learn", 0, "1100"), (7, "recall_cue", 0, None)])
    mem.learn(0, [1, 1, 0, 0], at=0)
    with pytest.raises(ValueError, match="earliest start \\(9 ms\\)"):
        mem.run_schedule([(8, "recall_cue", 0, None)])
    assert mem.run_schedule([(9, "recall_cue", 0, None)])[0].pattern.tolist() == [1, 1, 0, 0]


@pytest.mark.parametrize(
    "rows, header, match",
    [
        ([], "t,op,cue,content", "line 1: expected header t_ms,op,cue,content"),
        ([(0, "learn", 0, "1100", 3)], None, "line 2: expected 4 fields"),
        ([(0, "learn", 0, "1100"), ("x", "recall_cue", 0, "")], None, "line 3: t_ms must be a"),
        ([(0, "learn", 0, "1100"), (7.5, "recall_cue", 0, "")], None, "line 3: t_ms must be a"),
        ([(0, "learn", "a", "1100")], None, "line 2: cue must be an integer"),
        ([(0, "learn", 9, "1100")], None, "line 2: cue 9 out of range"),
        ([(0, "learn", 0, "11a0")], None, "line 2: content must be a string of 0/1 of length 4"),
        ([(0, "learn", 0, "11000")], None, "line 2: content must be a string of 0/1 of length"),
        (
            [(0, "learn", 0, "1100"), ("", "", "", ""), (5, "recall_cue", 0, "")],
            None,
            r"line 4: t_ms=5 is closer to the learn at 0 ms \(.*line 2\)",
        ),  # fmt: skip
        ([(0, "forget", 0, "1100")], None, "line 2: op must be one of"),
        ([], None, "has no operation"),
    ],
)
def test_bad_schedule_files_name_file_and_line(tmp_path, rows, header, match):
    path = _csv(tmp_path / "bad.csv", rows, header or "t_ms,op,cue,content")
    with pytest.raises(ValueError, match=match) as info:
        read_schedule(path, 2, 4)
    assert str(path) in str(info.value)


def test_schedule_files_skip_comments_and_blank_lines(tmp_path):
    rows = [("# a comment", "", "", ""), (0, "learn", 1, " 0110 "), ("", "", "", "")]
    path = _csv(tmp_path / "s.csv", rows + [(" 7", "recall_content", "", "0100")])
    ops = read_schedule(path, 2, 4)
    assert [(o.t, o.kind, o.cue) for o in ops] == [(0, "learn", 1), (7, "recall_content", None)]
    assert ops[1].where == f"{path}: line 5"
    with pytest.raises(ValueError, match="not a text CSV"):
        (tmp_path / "b.csv").write_bytes(b"t_ms,op,cue,content\n\xff\xfe\x00")
        read_schedule(tmp_path / "b.csv", 2, 4)
    with pytest.raises(FileNotFoundError, match="schedule not found"):
        read_schedule(tmp_path / "missing.csv", 2, 4)


def test_cli_schedule_refuses_bad_input_in_one_line_and_writes_nothing(tmp_path, capsys):
    good = _csv(tmp_path / "good.csv", SMALL)
    bad = _csv(tmp_path / "bad.csv", SMALL[:3] + [(15, "recall_cue", 1, "")])
    out = tmp_path / "out"
    cases = [
        ([str(bad), "--cues", "2", "--content", "4"], "bad.csv: line 5: t_ms=15 is closer"),
        ([str(good), "--cues", "2", "--content", "5"], "good.csv: line 2: content must be"),
        ([str(good), "--cues", "1", "--content", "4"], "line 3: cue 1 out of range"),
        ([str(good), "--cues", "0", "--content", "4"], "--cues: expected a positive"),
        ([str(good), "--cues", "2", "--content", "4", "--backend", "nope"], "--backend"),
        ([str(good), "--cues", "2", "--content", "4", "--read-lag", "-1"], "--read-lag"),
        ([str(tmp_path / "none.csv"), "--cues", "2", "--content", "4"], "schedule not found"),
    ]
    for args, msg in cases:
        assert main(["ca3", "schedule", *args, "--out", str(out)]) == 2, args
        err = capsys.readouterr().err
        assert msg in err and err.count("\n") == 1, err
        assert not out.exists()
    (tmp_path / "file").write_text("x")
    assert main(["ca3", "schedule", str(good), "--cues", "2", "--content", "4",
                 "--out", str(tmp_path / "file")]) == 2  # fmt: skip
    assert "is not a folder" in capsys.readouterr().err
    assert main(["ca3", "schedule", str(good), "--cues", "2", "--content", "4",
                 "--out", str(tmp_path / "no" / "out")]) == 2  # fmt: skip
    assert "does not exist" in capsys.readouterr().err
    assert main(["ca3", "schedule", str(good), "--cues", "2", "--content", "4",
                 "--out", str(out)]) == 0  # fmt: skip
    assert "7 operations in one simulation of 46 ms" in capsys.readouterr().out
    assert sorted(p.name for p in out.iterdir()) == ["operations.csv", "spikes.csv"]
    ops = (out / "operations.csv").read_text().splitlines()
    assert ops[3] == "14,recall_cue,0,,0,1100,0,1100,1"
    assert ops[7] == "39,recall_content,,0100,,0100,,,1"
    assert read_trace(out / "spikes.csv").get("OUTcue")[0].max() <= 45


def test_schedule_from_trace_refuses_input_that_is_no_operation():
    from neuromem.ca3.trace import Trace

    z = np.array
    two_steps = Trace({"INcue": (z([0, 1]), z([0, 0])), "INcont": (z([0, 1]), z([1, 1]))})
    with pytest.raises(ValueError, match="held 2 step"):
        schedule_from_trace(two_steps)
    two_cues = Trace({"INcue": (z([0, 0]), z([0, 1]))})
    with pytest.raises(ValueError, match="2 cues at once"):
        schedule_from_trace(two_cues)
    ok = Trace({"INcue": (z([0, 1, 2, 9]), z([1, 1, 1, 1])),
                "INcont": (z([0, 1, 2, 15]), z([2, 2, 2, 0]))})  # fmt: skip
    ops = schedule_from_trace(ok, 4)
    assert [(o.t, o.kind, o.cue) for o in ops] == [
        (0, "learn", 1),
        (9, "recall_cue", 1),
        (15, "recall_content", None),
    ]
    assert ops[0].content.astype(int).tolist() == [0, 0, 1, 0]
