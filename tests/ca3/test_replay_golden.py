"""Replay of the SpiNNaker recordings in ../shared/golden/ca3 (skipped when absent)."""

from __future__ import annotations

import pytest

from neuromem.ca3 import compare, read_trace, replay

# The one known difference on the functional recording: after cue 3 is re-learnt without
# content bit 6, the board no longer recalls cue 3 from bit 6 at t=84; the simulator still
# does (one spike in each of CA3cueContRecall, CA3MergeCue, OUTcue). See docs/models/ca3.md.
FUNCTIONAL_KNOWN = {
    (84, "CA3cueContRecall", 3),
    (85, "CA3MergeCue", 3),
    (86, "OUTcue", 3),
}


def test_statemap_replays_spike_for_spike(golden_dir):
    path = golden_dir / "ca3" / "statemap_c16_n6.csv"
    if not path.is_file():
        pytest.skip(f"{path} not found")
    g = read_trace(path)
    res = compare(g, replay(g))
    assert res.identical, res.report()


def test_functional_replay(golden_dir):
    path = golden_dir / "ca3" / "functional_c5_n10.csv"
    if not path.is_file():
        pytest.skip(f"{path} not found")
    g = read_trace(path)
    res = compare(g, replay(g))
    assert res.only_a == [], res.report()  # every recorded spike is reproduced
    assert set(res.only_b) == FUNCTIONAL_KNOWN, res.report()


@pytest.mark.xfail(reason="known mismatch: forgetting of the content->cue association", strict=True)
def test_functional_replays_spike_for_spike(golden_dir):
    path = golden_dir / "ca3" / "functional_c5_n10.csv"
    if not path.is_file():
        pytest.skip(f"{path} not found")
    g = read_trace(path)
    assert compare(g, replay(g)).identical
