"""sPyNNaker's provenance of a run, summarised: lost or late packets, overflows, timer overruns.

After every run on a SpiNNaker machine, sPyNNaker 7.4.1 reads counters from each core and
router into the run's data database (``data*.sqlite3`` in its run folder,
``BaseDatabase.default_database_file()``): table ``core_provenance`` (``core_id``,
``description``, ``the_value``; ``core`` maps ``core_id`` to ``x, y, processor, core_name``),
``router_provenance`` (``x, y, description, the_value``) and ``reports`` (the warnings it
logged). It does so only where the configuration asks for it (``[Reports]``
``write_provenance``, ``read_placements_provenance_data``, ``read_router_provenance_data``,
which its default ``Production`` mode turns off; the ``pynn:spiNNaker`` backend turns them
on, see :class:`~neuromem.spiking.backends.pynn_sim.PyNNSimulator`), and deletes the database
at ``end()`` unless ``keep_data_database`` is set, so the backend summarises it after each run.
A virtual board runs nothing and reads no provenance: its summary says so.

:func:`summarise` reads such a database with :mod:`sqlite3` (no sPyNNaker import, so it also
reads a database copied from elsewhere) and adds up, over every core, the counters of
:data:`COUNTERS`; a counter that a core reported after several runs is taken at its latest
value. Only the provenance tables are read.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

__all__ = ["COUNTERS", "ROUTER_COUNTERS", "summarise", "not_available"]

#: Summary key -> the core counters (sPyNNaker 7.4.1 descriptions) it adds up.
COUNTERS: dict[str, tuple[str, ...]] = {
    # spikes that arrived when the input buffer was full: lost
    "input_buffer_lost_packets": ("Times_the_input_buffer_lost_packets",),
    # packets that arrived too late for their time step (dropped where drop_late_spikes)
    "late_packets": ("Number_of_late_spikes", "Late_packets"),
    # spikes processed after their synaptic delay had passed
    "late_spikes": ("Late spikes",),
    "skipped_synapses": ("Skipped synapses",),
    "skipped_time_steps": ("Times_a_time_step_was_skipped",),
    "timer_overruns": ("Times_the_timer_tic_over_ran",),
    "transfer_overruns": ("Times_the_transfer_did_not_complete_in_time",),
    "spike_transmission_overruns": ("Times_the_transmission_of_spikes_overran",),
    "queue_overloads": (
        "Times_the_dma_queue_was_overloaded",
        "Times_the_user_queue_was_overloaded",
        "Times_the_callback_queue_was_overloaded",
        "Times_the_background_queue_overloaded",
    ),
    "weight_saturations": (
        "Times_synaptic_weights_have_saturated",
        "Times_plastic_synaptic_weights_have_saturated",
    ),
}

#: Summary key -> the suffix of the router counters it adds up (sPyNNaker prefixes each with
#: the phase it was read in: load, run, extraction).
ROUTER_COUNTERS: dict[str, str] = {"dropped_multicast_packets": "Dropped_Multicast_Packets"}

#: Messages kept in a summary (the database holds them all).
MAX_MESSAGES = 20


def not_available(reason: str) -> dict:
    """A summary saying that no provenance exists, and why."""
    return {"available": False, "reason": str(reason), "counts": {}, "problems": []}


def _tables(con: sqlite3.Connection) -> set[str]:
    return {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


def summarise(path: str | os.PathLike) -> dict:
    """Summarise the provenance database ``path`` of one sPyNNaker run.

    Returns
    -------
    dict
        ``available`` (True), ``database`` (the path), ``cores`` (cores that reported),
        ``counts`` (every key of :data:`COUNTERS` and :data:`ROUTER_COUNTERS`: the total over
        cores or routers), ``problems`` (the keys whose count is not 0), ``worst`` (per
        problem, up to 3 cores or chips with the largest counts: ``core`` name, ``x``,
        ``y``, ``p``, ``value``), ``messages`` (the first :data:`MAX_MESSAGES` warnings
        sPyNNaker wrote) and ``n_messages``. A core that reported nothing gives
        ``cores = 0`` and zero counts.

    Raises
    ------
    FileNotFoundError
        No such file.
    ValueError
        Not an sPyNNaker provenance database (no ``core_provenance`` table).
    """
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"path: no provenance database {str(p)!r}")
    try:
        con = sqlite3.connect(f"file:{p}?mode=ro", uri=True)
    except sqlite3.Error as e:  # pragma: no cover - the file exists
        raise ValueError(f"path: cannot open {str(p)!r}: {e}") from None
    try:
        try:
            tables = _tables(con)
        except sqlite3.DatabaseError as e:
            raise ValueError(f"path: {str(p)!r} is not an SQLite database: {e}") from None
        if "core_provenance" not in tables or "core" not in tables:
            raise ValueError(
                f"path: {str(p)!r} is not an sPyNNaker provenance database (no core_provenance)"
            )
        wanted = {d: key for key, descs in COUNTERS.items() for d in descs}
        marks = ",".join("?" * len(wanted))
        # the latest row of each core and counter (a later run reports it again)
        rows = con.execute(
            f"""
            SELECT c.core_name, c.x, c.y, c.processor, cp.description, cp.the_value
            FROM core_provenance AS cp JOIN core AS c ON cp.core_id = c.core_id
            WHERE cp.cp_id IN (
                SELECT MAX(cp_id) FROM core_provenance
                WHERE description IN ({marks}) GROUP BY core_id, description)
            """,
            list(wanted),
        ).fetchall()
        n_cores = con.execute("SELECT COUNT(DISTINCT core_id) FROM core_provenance").fetchone()[0]
        per: dict[str, list[dict]] = {k: [] for k in (*COUNTERS, *ROUTER_COUNTERS)}
        for name, x, y, proc, desc, val in rows:
            per[wanted[desc]].append(
                {"core": name, "x": x, "y": y, "p": proc, "value": int(val or 0)}
            )
        if "router_provenance" in tables:
            for key, suffix in ROUTER_COUNTERS.items():
                rrows = con.execute(
                    """
                    SELECT x, y, description, the_value FROM router_provenance
                    WHERE chip_id IN (SELECT MAX(chip_id) FROM router_provenance
                                      GROUP BY x, y, description)
                    """
                ).fetchall()
                chips: dict[tuple[int, int], int] = {}
                for x, y, desc, val in rrows:
                    if str(desc).endswith(suffix):
                        chips[(x, y)] = chips.get((x, y), 0) + int(val or 0)
                per[key] = [
                    {"core": "router", "x": x, "y": y, "p": None, "value": v}
                    for (x, y), v in chips.items()
                ]
        messages: list[str] = []
        n_messages = 0
        if "reports" in tables:
            n_messages = con.execute("SELECT COUNT(*) FROM reports").fetchone()[0]
            messages = [
                str(m) for (m,) in con.execute(f"SELECT message FROM reports LIMIT {MAX_MESSAGES}")
            ]
    finally:
        con.close()
    counts = {k: int(sum(e["value"] for e in v)) for k, v in per.items()}
    problems = [k for k, v in counts.items() if v]
    worst = {
        k: sorted((e for e in per[k] if e["value"]), key=lambda e: -e["value"])[:3]
        for k in problems
    }
    return {
        "available": True,
        "database": str(p),
        "cores": int(n_cores),
        "counts": counts,
        "problems": problems,
        "worst": worst,
        "messages": messages,
        "n_messages": int(n_messages),
    }
