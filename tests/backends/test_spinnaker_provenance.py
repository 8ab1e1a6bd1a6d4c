"""pynn:spiNNaker on a virtual board: no membrane potential and no provenance come back (said
so in the result), and the provenance summary reads the database structure sPyNNaker really
writes (its run's data database, with counters added here as a board run would add them)."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest

from neuromem.spiking import (
    IF_curr_exp,
    Network,
    OneToOneConnector,
    SpikeSourceArray,
    StaticSynapse,
    create,
)
from neuromem.spiking.provenance import summarise


def test_virtual_board_returns_no_v_and_says_why_no_provenance(pynn_spinnaker, tmp_path):
    home = pynn_spinnaker
    net = Network(dt=1.0)
    src = net.population(2, SpikeSourceArray([[1.0, 2.0], [3.0]]), "in")
    cells = net.population(2, IF_curr_exp(), "cells", record=("spikes", "v"))
    net.projection(src, cells, OneToOneConnector(), StaticSynapse(weight=5.0, delay=1.0))
    sim = create(net, "pynn:spiNNaker", workdir=str(home / "work"))
    try:
        sim.run(10.0)
        from spinn_front_end_common.utilities.base_database import BaseDatabase

        with sim._cwd():
            data_db = Path(BaseDatabase.default_database_file()).resolve()
        assert data_db.is_file()
        copy = tmp_path / "data.sqlite3"
        shutil.copyfile(data_db, copy)
        res = sim.result()
    finally:
        sim.end()
    assert res.provenance["available"] is False
    assert "virtual board" in res.provenance["reason"]
    assert res.v_labels == []
    with pytest.raises(ValueError, match="virtual SpiNNaker board returns no recorded data"):
        res.v("cells")
    # the real database: sPyNNaker's tables and its cores, no counters on a virtual board
    quiet = summarise(copy)
    assert quiet["available"] and quiet["cores"] == 0 and quiet["problems"] == []
    con = sqlite3.connect(copy)
    cores = dict(con.execute("SELECT core_name, core_id FROM core").fetchall())
    cell_core = next(cid for name, cid in cores.items() if name.startswith("cells"))
    con.executemany(
        "INSERT INTO core_provenance(core_id, description, the_value) VALUES (?, ?, ?)",
        [
            (cell_core, "Times_the_input_buffer_lost_packets", 2),
            (cell_core, "Number_of_late_spikes", 3),
            (cell_core, "Times_the_timer_tic_over_ran", 1),
        ],
    )
    con.execute(
        "INSERT INTO router_provenance(x, y, description, the_value, expected) "
        "VALUES (0, 0, 'RunDropped_Multicast_Packets', 4, 1)"
    )
    con.commit()
    con.close()
    s = summarise(copy)
    assert s["cores"] == 1
    assert {k: s["counts"][k] for k in s["problems"]} == {
        "input_buffer_lost_packets": 2,
        "late_packets": 3,
        "timer_overruns": 1,
        "dropped_multicast_packets": 4,
    }
    assert s["worst"]["late_packets"][0]["core"].startswith("cells")
