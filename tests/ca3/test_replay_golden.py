"""Replay of the SpiNNaker recordings in ../shared/golden/ca3 (skipped when absent)."""

from __future__ import annotations

import pytest

from neuromem.ca3 import compare, read_trace, replay


@pytest.mark.parametrize("name", ["functional_c5_n10.csv", "statemap_c16_n6.csv"])
def test_recording_replays_spike_for_spike(golden_dir, name):
    path = golden_dir / "ca3" / name
    if not path.is_file():
        pytest.skip(f"{path} not found")
    g = read_trace(path)
    res = compare(g, replay(g))
    assert res.identical, res.report()
    assert sum(v[0] for v in res.counts.values()) == len(g.rows())


def test_other_stdp_variants_do_not_match(golden_dir):
    """The recordings pin the undocumented STDP details: changing any one breaks the match."""
    path = golden_dir / "ca3" / "functional_c5_n10.csv"
    if not path.is_file():
        pytest.skip(f"{path} not found")
    g = read_trace(path)
    for opt in (
        {"stdp_clip": "sum"},
        {"depression_post_delay": False},
        {"depress_coincident": False},
        {"amplitude_times_wmax": True},
    ):
        assert not compare(g, replay(g, **opt)).identical, opt
