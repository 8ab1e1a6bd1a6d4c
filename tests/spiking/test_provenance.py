"""The summary of sPyNNaker's provenance database, on a database built here with the tables
and counter names sPyNNaker 7.4.1 writes (the real one comes from a board run; a virtual board
writes the tables but no counters: tests/backends/test_spinnaker_provenance.py)."""

from __future__ import annotations

import sqlite3

import pytest

from neuromem.spiking.provenance import COUNTERS, ROUTER_COUNTERS, not_available, summarise

SCHEMA = """
CREATE TABLE core(core_id INTEGER PRIMARY KEY AUTOINCREMENT, x INTEGER, y INTEGER,
                  processor INTEGER, core_name STRING);
CREATE TABLE core_provenance(cp_id INTEGER PRIMARY KEY AUTOINCREMENT, core_id INTEGER,
                             description STRING, the_value INTEGER);
CREATE TABLE router_provenance(chip_id INTEGER PRIMARY KEY AUTOINCREMENT, x INTEGER,
                               y INTEGER, description STRING, the_value INTEGER,
                               expected INTEGER);
CREATE TABLE reports(message STRING);
"""


def _db(path, core_rows=(), router_rows=(), messages=()):
    con = sqlite3.connect(path)
    con.executescript(SCHEMA)
    con.executemany(
        "INSERT INTO core(x, y, processor, core_name) VALUES (?, ?, ?, ?)",
        [(0, 0, 3, "OUTcont(0:9)"), (0, 0, 4, "CA3contCond(0:9)"), (0, 1, 2, "INcue(0:4)")],
    )
    con.executemany(
        "INSERT INTO core_provenance(core_id, description, the_value) VALUES (?, ?, ?)",
        core_rows,
    )
    con.executemany(
        "INSERT INTO router_provenance(x, y, description, the_value, expected) "
        "VALUES (?, ?, ?, ?, 1)",
        router_rows,
    )
    con.executemany("INSERT INTO reports(message) VALUES (?)", [(m,) for m in messages])
    con.commit()
    con.close()
    return path


def test_counts_problems_and_worst_cores(tmp_path):
    path = _db(
        tmp_path / "data.sqlite3",
        core_rows=[
            (1, "Times_the_input_buffer_lost_packets", 1),  # first run
            (1, "Times_the_input_buffer_lost_packets", 3),  # second run: the latest counts
            (2, "Times_the_input_buffer_lost_packets", 4),
            (2, "Number_of_late_spikes", 2),
            (3, "Late_packets", 5),
            (1, "Times_the_timer_tic_over_ran", 0),
            (2, "Times_the_dma_queue_was_overloaded", 1),
            (2, "Times_the_background_queue_overloaded", 2),
            (1, "Times_plastic_synaptic_weights_have_saturated", 7),
            (1, "Total_pre_synaptic_events", 100),  # not a problem counter
        ],
        router_rows=[
            (0, 0, "RunDropped_Multicast_Packets", 5),
            (0, 0, "ExtractDropped_Multicast_Packets", 1),
            (0, 1, "RunDropped_Multicast_Packets", 2),
            (0, 0, "RunDropped_Multicast_Packets_via_local_transmission", 9),  # not dropped
        ],
        messages=[f"warning {k}" for k in range(25)],
    )
    s = summarise(path)
    assert s["available"] and s["cores"] == 3
    assert set(s["counts"]) == set(COUNTERS) | set(ROUTER_COUNTERS)
    c = s["counts"]
    assert c["input_buffer_lost_packets"] == 7
    assert c["late_packets"] == 7
    assert c["timer_overruns"] == 0
    assert c["queue_overloads"] == 3
    assert c["weight_saturations"] == 7
    assert c["dropped_multicast_packets"] == 8
    assert c["late_spikes"] == 0
    assert s["problems"] == [
        "input_buffer_lost_packets", "late_packets", "queue_overloads",
        "weight_saturations", "dropped_multicast_packets",
    ]  # fmt: skip
    worst = s["worst"]["input_buffer_lost_packets"]
    assert [(w["core"], w["value"]) for w in worst] == [
        ("CA3contCond(0:9)", 4),
        ("OUTcont(0:9)", 3),
    ]
    assert [(w["x"], w["y"], w["value"]) for w in s["worst"]["dropped_multicast_packets"]] == [
        (0, 0, 6),
        (0, 1, 2),
    ]
    assert s["n_messages"] == 25 and s["messages"][:2] == ["warning 0", "warning 1"]
    assert len(s["messages"]) == 20


def test_a_quiet_run_has_no_problems(tmp_path):
    path = _db(tmp_path / "d.sqlite3", core_rows=[(1, "Number_of_late_spikes", 0)])
    s = summarise(path)
    assert s["problems"] == [] and s["worst"] == {} and s["cores"] == 1
    assert all(v == 0 for v in s["counts"].values())


def test_bad_databases_are_refused(tmp_path):
    with pytest.raises(FileNotFoundError, match="no provenance database"):
        summarise(tmp_path / "missing.sqlite3")
    junk = tmp_path / "junk.sqlite3"
    junk.write_bytes(b"not a database at all" * 100)
    with pytest.raises(ValueError, match="not an SQLite database"):
        summarise(junk)
    other = tmp_path / "other.sqlite3"
    sqlite3.connect(other).execute("CREATE TABLE t(a)").connection.close()
    with pytest.raises(ValueError, match="not an sPyNNaker provenance database"):
        summarise(other)


def test_not_available():
    s = not_available("not available on a virtual board")
    assert s == {
        "available": False,
        "reason": "not available on a virtual board",
        "counts": {},
        "problems": [],
    }
