"""The Elephant example of docs/models/ca3.md runs, and each number it prints is what NumPy
computes from the same spikes (skipped where Elephant is not installed)."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

DOC = Path(__file__).resolve().parents[2] / "docs" / "models" / "ca3.md"


def _example() -> str:
    text = DOC.read_text()
    start = text.index("## Recording: Neo, the membrane potential, Elephant")
    blocks = re.findall(r"```python\n(.*?)```", text[start:], flags=re.S)
    assert blocks, "no python block in the Elephant section"
    return blocks[0]


def test_elephant_example_matches_numpy(capsys):
    pytest.importorskip("elephant")
    ns: dict = {}
    exec(compile(_example(), str(DOC), "exec"), ns)  # noqa: S102 - the docs' own example
    out = capsys.readouterr().out
    assert "rates (Hz)" in out and "ISI CV" in out and "peaks at" in out
    mem = ns["mem"]
    duration_s = mem.time / 1000.0
    t_cont, i_cont = mem.spikes("OUTcont")
    t_cue, i_cue = mem.spikes("OUTcue")
    # rates: spikes / recorded time
    expect = [np.sum(i_cont == k) / duration_s for k in range(mem.n_content)]
    np.testing.assert_allclose(ns["rates"], expect, rtol=1e-9)
    assert max(ns["rates"]) > 0 and min(ns["rates"]) == 0.0
    # ISI CV: standard deviation over mean of the intervals
    assert ns["cvs"]
    for k, val in ns["cvs"].items():
        d = np.diff(np.sort(t_cont[i_cont == k]))
        assert val == pytest.approx(np.std(d) / np.mean(d), rel=1e-9)
    assert all(v > 0.1 for v in ns["cvs"].values())  # irregular recalls: not a clock
    # the correlogram's peak: the most frequent delay of content bit 0 after cue 0
    a, b = t_cue[i_cue == 0], t_cont[i_cont == 0]
    d = (b[None, :] - a[:, None]).ravel()
    d = d[np.abs(d) <= 10].astype(int)
    assert ns["peak_lag"] == np.bincount(d - d.min()).argmax() + d.min() == 1
