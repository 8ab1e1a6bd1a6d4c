"""sPyNNaker's log lines and progress bars stay out of a notebook unless asked for."""

from __future__ import annotations

import pytest

CELL = """
from neuromem.ca3 import CA3Memory
m = CA3Memory(5, 10, backend="pynn:spiNNaker"{extra})
m.learn(1, [1, 0, 0, 1, 0, 0, 0, 0, 0, 1])
m.sim.end()
print("log:", m.sim.log_path)
"""


def _run(extra: str) -> str:
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(CELL.format(extra=extra))])
    nbclient.NotebookClient(nb, timeout=300, kernel_name="python3").execute()
    outs = nb.cells[0].outputs
    assert not [o for o in outs if o.get("output_type") == "error"]
    return "".join(o.get("text", "") for o in outs if o.get("output_type") == "stream")


@pytest.mark.spinnaker
@pytest.mark.notebooks
def test_a_notebook_shows_nothing_of_spynnaker_unless_asked(pynn_spinnaker):
    from pathlib import Path

    quiet = _run("")
    lines = [ln for ln in quiet.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("log: "), quiet
    log = Path(lines[0][len("log: ") :])
    assert "INFO" in log.read_text()  # sPyNNaker spoke, into the file


@pytest.mark.spinnaker
def test_quiet_false_shows_spynnaker_and_bad_values_are_refused(pynn_spinnaker, capfd):
    from neuromem.ca3 import CA3Memory

    with pytest.raises(TypeError, match="quiet"):
        _ = CA3Memory(5, 10, backend="pynn:spiNNaker", quiet="no").sim  # built on first use
    m = CA3Memory(5, 10, backend="pynn:spiNNaker", quiet=False)
    m.learn(1, [1, 0, 0, 1, 0, 0, 0, 0, 0, 1])
    m.sim.end()
    seen = capfd.readouterr()
    assert "100%" in seen.out + seen.err and m.sim.log_path is None  # its progress bars


@pytest.mark.spinnaker
def test_spynnaker_threads_log_to_the_file_between_calls(pynn_spinnaker, capfd):
    """sPyNNaker announces its database from a thread pool, which may log after a run has
    returned: seen once in a notebook cell. While a quiet simulation lives, its loggers write
    to the log file only, from any thread and between calls; after ``end()`` they are as
    before."""
    import logging
    import threading

    from neuromem.ca3 import CA3Memory

    lg = logging.getLogger("spinn_front_end_common.utilities.notification_protocol")
    m = CA3Memory(5, 10, backend="pynn:spiNNaker")
    m.learn(1, [1, 0, 0, 1, 0, 0, 0, 0, 0, 1])  # built and run; no block is open now
    t = threading.Thread(target=lambda: lg.warning("** a late line from a thread **"))
    t.start()
    t.join()
    seen = capfd.readouterr()
    assert "a late line" not in seen.out + seen.err
    assert "a late line from a thread" in m.sim.log_path.read_text()
    m.sim.end()
    assert logging.getLogger("spinn_front_end_common").propagate  # routing undone
    assert not logging.getLogger("spinn_front_end_common").handlers
